// Package manifest is the per-bag file list: one JSON line per archived
// entry, kept locally for grep and jq and uploaded to hot storage, so any
// file is found without thawing a bag.
package manifest

import (
	"time"

	"github.com/gbarchive/gb/pkg/layout"
)

// Kinds of manifest lines.
const (
	KindHeader = "manifest"
	KindFile   = "file"
	KindEnd    = "manifest_end"
)

// Header is the first line.
type Header struct {
	Kind      string    `json:"kind"`
	Bag       string    `json:"bag"`
	Key       string    `json:"key"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	Layers    []string  `json:"layers"` // e.g. ["tar","zstd","age"]
	Open      string    `json:"open"`   // stock commands that extract the bag
	// Encryption is set for an age-encrypted bag: who can open it.
	Encryption *Encryption `json:"encryption,omitempty"`
	// Atoms the bag holds, as planned: with the manifests alone, an
	// inventory can be rebuilt exactly (gb-recover --rebuild).
	Atoms []Atom `json:"atoms,omitempty"`
}

// Atom is one atom (or part of a split atom) in a manifest's header.
type Atom struct {
	Atom    string `json:"atom"`
	AtomB64 string `json:"atom_b64,omitempty"`
	Type    string `json:"type"`
	Hash    string `json:"hash"`
	Files   int64  `json:"files"`
	Bytes   int64  `json:"bytes"`
	Part    int    `json:"part,omitempty"`
	Parts   int    `json:"parts,omitempty"`
}

// Encryption says what an encrypted bag was encrypted to: the public keys
// (scheme "age-x25519") or a passphrase ("age-scrypt"). Never a secret.
type Encryption struct {
	Scheme     string   `json:"scheme"`
	Recipients []string `json:"recipients,omitempty"`
	Keys       string   `json:"keys"` // the keys' ID, as in the inventory
}

// Entry is one archived path.
type Entry struct {
	Kind    string `json:"kind"`
	Path    string `json:"path"`
	PathB64 string `json:"path_b64,omitempty"`
	Type    string `json:"type"` // file, dir, symlink, hardlink, fifo, chardev, blockdev
	Size    int64  `json:"size"`
	Mtime   string `json:"mtime"` // RFC 3339 with nanoseconds, UTC
	Mode    string `json:"mode"`  // octal permission bits, e.g. "0644"
	SHA256  string `json:"sha256,omitempty"`
	Link    string `json:"link,omitempty"` // symlink target or hard-link first name
	LinkB64 string `json:"link_b64,omitempty"`
	Atom    string `json:"atom"`
	AtomB64 string `json:"atom_b64,omitempty"`
	// Changed: the file changed while it was read; Size and SHA256
	// describe exactly the bytes in the bag.
	Changed bool `json:"changed,omitempty"`
	// Sparse: stored as a PAX 1.0 sparse entry; DataBytes is what the bag
	// holds of it (its data regions, holes left out). Size and SHA256
	// describe the whole file, holes read as zeros.
	Sparse    bool   `json:"sparse,omitempty"`
	DataBytes *int64 `json:"data_bytes,omitempty"`
	// Xattrs names the extended attributes (ACLs included) stored with
	// the entry, sorted; their values are in the bag only.
	Xattrs []string `json:"xattrs,omitempty"`
	// Nlink and Inode ("<dev>:<ino>") are set for regular files and hard
	// links whose inode has more than one name: entries with the same
	// Inode were one file on disk.
	Nlink uint64 `json:"nlink,omitempty"`
	Inode string `json:"inode,omitempty"`
}

// End is the last line; a manifest without it is incomplete.
type End struct {
	Kind   string `json:"kind"`
	Files  int64  `json:"files"`
	Bytes  int64  `json:"bytes"`
	BagSHA string `json:"bag_sha256"`
	BagLen int64  `json:"bag_bytes"`
}

// FileName is a manifest's local file name for a bag key (see
// layout.ManifestFile).
func FileName(bagKey string) string { return layout.ManifestFile(bagKey) }

// Key is where a bag's plain manifest is stored, beside the bag (see
// layout.ManifestKey).
func Key(bagKey string) string { return layout.ManifestKey(bagKey) }
