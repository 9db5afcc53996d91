package commit

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/keys"
	"github.com/gbarchive/gb/pkg/layout"
)

// Recovery is RECOVERY.md, stored in plain text beside the system files:
// what a person holding nothing but the bucket (and, for encrypted bags,
// the key) needs to get files back with stock tools, twenty years from
// now, without gb.
func Recovery(inv *inventory.Inventory, dest string, year int, ks *keys.Keys, p cost.Prices) []byte {
	bucket, prefix := "BUCKET", ""
	if rest, ok := strings.CutPrefix(dest, "s3://"); ok {
		bucket, prefix, _ = strings.Cut(rest, "/")
		if prefix != "" {
			prefix += "/"
		}
	}
	var plain, sealed, bytesAll int64
	for _, b := range inv.Bags {
		if b.Encrypt {
			sealed++
		} else {
			plain++
		}
		bytesAll += b.Bytes
	}
	d := struct {
		Dest, Bucket, Prefix string
		YearDir              string
		ManifestExt          string
		Plain, Sealed        int64
		GB                   string
		Keys                 *keys.Keys
		Bulk, Standard       string
		Egress               string
	}{dest, bucket, prefix, layout.YearDir(year), layout.ManifestExt, plain, sealed, fmt.Sprintf("%.1f", float64(bytesAll)/1e9), ks,
		fmt.Sprintf("%.4f", p.ThawBulkGB), fmt.Sprintf("%.4f", p.ThawStandardGB), fmt.Sprintf("%.2f", p.EgressGB)}
	var buf bytes.Buffer
	if err := recoveryTmpl.Execute(&buf, d); err != nil {
		// The template is fixed; failing here is a bug, not bad input.
		panic(err)
	}
	return buf.Bytes()
}

var recoveryTmpl = template.Must(template.New("recovery").Parse(`# Recovering this archive without gb

This archive was written by gb to {{.Dest}}. It holds {{.Plain}} plain and
{{.Sealed}} encrypted bags ({{.GB}} GB in all, as of the last run). Everything
below works with stock tools: the AWS CLI (or any S3 client), GNU tar, zstd
and age.

## What is where

Each run writes under a folder named after its year, for example
{{.Prefix}}{{.YearDir}}:

- LABEL_bag_NNNNNN.tar.zst        a bag: a tar archive compressed with zstd,
  LABEL_bag_NNNNNN.tar.zst.age    or the same encrypted with age.
  LABEL names the source directory (slashes turned into dashes). Bags are
  stored in the DEEP_ARCHIVE storage class: they must be restored (thawed)
  before they can be downloaded.
- manifests/LABEL_bag_NNNNNN{{.ManifestExt}}(.age)
  One JSON line per file in that bag: path, size, mtime, mode, type and
  the SHA-256 of its content. Stored in STANDARD class: readable at once.
  The manifests of encrypted bags are encrypted too.
- system/inventory.json(.age)     which directory ("atom") lives in which
  bag: atoms.<path>.bags lists the bag ids, bags.<id>.key the object key.
- system/list.txt, exclude.txt, encrypt.txt, glacier.cfg: the backup's
  configuration (the first three encrypted as .age when any source is).
- system/RECOVERY.md              this file.

A file is never split across bags, so every bag extracts on its own.

## 1. Find the file

    aws s3 cp --recursive s3://{{.Bucket}}/{{.Prefix}}{{.YearDir}}manifests/ manifests/
    grep -l 'Letters/2019' manifests/*.ndjson

For encrypted manifests, decrypt them first (see "Keys" below):

    for f in manifests/*.age; do age -d -i identity.txt "$f" > "${f%.age}"; done

The manifest's first line names its bag's key.

## 2. Thaw the bag (12 hours with Standard, up to 48 with Bulk)

    aws s3api restore-object --bucket {{.Bucket}} --key KEY \
        --restore-request '{"Days":7,"GlacierJobParameters":{"Tier":"Bulk"}}'
    aws s3api head-object --bucket {{.Bucket}} --key KEY    # Restore: ongoing-request="false" when ready

Thawing costs about ${{.Bulk}} per GB (Bulk) or ${{.Standard}} per GB (Standard),
plus ${{.Egress}} per GB to download.

## 3. Download and open it

    aws s3 cp s3://{{.Bucket}}/KEY .

    zstd -d < NAME.tar.zst | tar --xattrs --xattrs-include='*' -xS                             # plain bag
    age -d -i identity.txt NAME.tar.zst.age | zstd -d | tar --xattrs --xattrs-include='*' -xS  # encrypted to public keys
    age -d NAME.tar.zst.age | zstd -d | tar --xattrs --xattrs-include='*' -xS                  # encrypted with a passphrase (age asks)

Use GNU tar: -S recreates sparse files (PAX sparse format 1.0); the
--xattrs flags restore extended attributes and POSIX ACLs (plain tar -x
skips them and restores everything else). Members
are stored with their absolute paths minus the leading slash, so extract
into an empty directory. Check a restored file against the manifest with
sha256sum.

## Keys
{{if .Keys}}{{if eq .Keys.Scheme "age-scrypt"}}
Encrypted bags, manifests and system files are encrypted with age to a
passphrase (age's scrypt mode). You need that passphrase; age asks for it.
{{else}}
Encrypted bags, manifests and system files are encrypted with age to these
public keys; any one of the matching identities (AGE-SECRET-KEY-1…)
decrypts them:
{{range .Keys.Recipients}}
    {{.}}{{end}}

Each identity file's own comment line names its public key; age-keygen -y
IDENTITY prints it too.
{{end}}{{else}}
Nothing in this archive is encrypted.
{{end}}`))
