// Package recovery is gb-recover: given only the destination (and, for an
// encrypted archive, the identity), it rebuilds a working gb directory on
// a new machine from what the store keeps in hot storage: the newest
// system/ files (inventory, source list, excludes, encrypt.txt, the
// configuration) and every manifest the inventory refers to. gb-find and
// gb-restore then work from that directory as they did on the lost one.
package recovery

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/keys"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
)

// KindRecovered is the summary record.
const KindRecovered = "recovered"

// Options configure a recovery.
type Options struct {
	Store    store.Store
	Dest     string // the destination URL, written into the new glacier.cfg
	Dir      string // the new gb directory; must be empty or absent
	Identity string // age identity or passphrase file, for .age files
	Year     int    // the system/ year to use; 0: the newest with an inventory
	// Rebuild builds the inventory from the store listing and the
	// manifests instead of reading system/inventory.json.
	Rebuild bool
	Now     time.Time
	// Settings that must survive into the new glacier.cfg when given
	// (the stored one may name an old endpoint).
	S3Endpoint, S3Region string
}

// Recovered summarises what was written.
type Recovered struct {
	Kind              string   `json:"kind"`
	Store             string   `json:"store"`
	Year              int      `json:"year"`
	Dir               string   `json:"dir"`
	Config            string   `json:"config"`
	Files             []string `json:"files"`
	Bags              int      `json:"bags"`
	Manifests         int      `json:"manifests"`
	ManifestsMissing  []string `json:"manifests_missing,omitempty"`
	EncryptedSkipped  int      `json:"encrypted_skipped,omitempty"`
	RecipientsWritten bool     `json:"recipients_written,omitempty"`
	Rebuilt           bool     `json:"rebuilt,omitempty"`
}

var systemKey = regexp.MustCompile(`^([0-9]{4})-backup/system/([^/]+)$`)

// Run recovers into opts.Dir and writes one recovered record.
func Run(ctx context.Context, _ io.Reader, out, errOut io.Writer, opts Options) error {
	if err := checkEmpty(opts.Dir); err != nil {
		return err
	}
	years := map[int]map[string]bool{}
	err := opts.Store.List(ctx, "", func(o store.ObjectInfo) error {
		if m := systemKey.FindStringSubmatch(o.Key); m != nil {
			y, _ := strconv.Atoi(m[1])
			if years[y] == nil {
				years[y] = map[string]bool{}
			}
			years[y][m[2]] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list %s: %w", opts.Store, err)
	}
	hasInv := func(names map[string]bool) bool { return names["inventory.json"] || names["inventory.json.age"] }
	year := opts.Year
	if year == 0 {
		for y, names := range years {
			if (hasInv(names) || opts.Rebuild) && y > year {
				year = y
			}
		}
	}
	names := years[year]
	if !hasInv(names) && !opts.Rebuild {
		return &config.Error{Msg: fmt.Sprintf("%s holds no <year>-backup/system/inventory.json%s", opts.Store, yearNote(opts.Year)),
			Hint: "check the destination URL (and prefix); if the archive is there but its inventory is lost, add --rebuild to rebuild it from the manifests"}
	}
	var ids []age.Identity
	needKey := false
	for n := range names {
		needKey = needKey || strings.HasSuffix(n, ".age")
	}
	if opts.Identity != "" {
		if ids, err = keys.Identities(opts.Identity); err != nil {
			return err
		}
	} else if needKey {
		if opts.Identity == "" {
			return &config.Error{Msg: fmt.Sprintf("the archive's system files in %d-backup/system/ are encrypted", year),
				Hint: "pass --identity FILE: the age identity (AGE-SECRET-KEY-1…) or the passphrase file the archive was encrypted to"}
		}
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return err
	}
	rec := Recovered{Kind: KindRecovered, Store: opts.Store.String(), Year: year, Dir: opts.Dir, Config: filepath.Join(opts.Dir, "glacier.cfg")}
	prefix := fmt.Sprintf("%d-backup/system/", year)
	fetch := func(name string) ([]byte, bool, error) {
		for _, n := range []string{name, name + ".age"} {
			if !names[n] {
				continue
			}
			b, err := getAll(ctx, opts.Store, prefix+n)
			if err != nil {
				return nil, false, fmt.Errorf("%s%s: %w", prefix, n, err)
			}
			if strings.HasSuffix(n, ".age") {
				if b, err = decrypt(b, ids); err != nil {
					return nil, false, fmt.Errorf("%s%s: %w", prefix, n, err)
				}
			}
			return b, true, nil
		}
		return nil, false, nil
	}
	var inv *inventory.Inventory
	var invBytes []byte
	var rebuilt []*storedBag
	if opts.Rebuild {
		var skipped int
		if inv, rebuilt, skipped, err = rebuild(ctx, opts.Store, ids, opts.Now, errOut); err != nil {
			return err
		}
		rec.Rebuilt, rec.EncryptedSkipped = true, skipped
		if invBytes, err = inv.Marshal(); err != nil {
			return err
		}
	} else {
		if invBytes, _, err = fetch("inventory.json"); err != nil {
			return err
		}
		if inv, err = inventory.Parse(prefix+"inventory.json", invBytes); err != nil {
			return err
		}
	}
	write := func(name string, b []byte, perm os.FileMode) error {
		p := filepath.Join(opts.Dir, name)
		if err := inventory.WriteFileAtomic(p, b, perm); err != nil {
			return err
		}
		rec.Files = append(rec.Files, p)
		return nil
	}
	if err := write("inventory.json", invBytes, 0o600); err != nil {
		return err
	}
	for _, name := range []string{"list.txt", "exclude.txt", "encrypt.txt", "RECOVERY.md"} {
		b, ok, err := fetch(name)
		if err != nil {
			return err
		}
		if ok {
			if err := write(name, b, 0o600); err != nil {
				return err
			}
		}
	}
	stored, _, err := fetch("glacier.cfg")
	if err != nil {
		return err
	}
	if stored != nil {
		if err := write("glacier.cfg.orig", stored, 0o600); err != nil {
			return err
		}
	}
	if err := write("glacier.cfg", Config(stored, opts), 0o600); err != nil {
		return err
	}

	// The manifests of every bag the inventory still lists, so gb-find
	// works without thawing anything.
	manDir := filepath.Join(opts.Dir, "manifests")
	if err := os.MkdirAll(manDir, 0o755); err != nil {
		return err
	}
	var recipients []string
	for _, b := range rebuilt {
		rec.Bags++
		if err := inventory.WriteFileAtomic(filepath.Join(manDir, manifest.FileName(b.hdr.Key)), b.manifest, 0o644); err != nil {
			return err
		}
		rec.Manifests++
		if recipients == nil && b.hdr.Encryption != nil {
			recipients = headerRecipients(b.manifest)
		}
	}
	for _, id := range inv.SortedBagIDs() {
		if rebuilt != nil {
			break
		}
		bg := inv.Bags[id]
		rec.Bags++
		if bg.ManifestKey == "" {
			rec.ManifestsMissing = append(rec.ManifestsMissing, id)
			continue
		}
		b, err := getAll(ctx, opts.Store, bg.ManifestKey)
		if errors.Is(err, store.ErrNotFound) {
			rec.ManifestsMissing = append(rec.ManifestsMissing, id)
			fmt.Fprintf(errOut, "gb-recover: warning: %s: the manifest of %s is not in the store\n", bg.ManifestKey, id)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", bg.ManifestKey, err)
		}
		if strings.HasSuffix(bg.ManifestKey, ".age") {
			if ids == nil {
				rec.EncryptedSkipped++
				continue
			}
			if b, err = decrypt(b, ids); err != nil {
				return fmt.Errorf("%s: %w", bg.ManifestKey, err)
			}
			if recipients == nil {
				recipients = headerRecipients(b)
			}
		}
		if err := inventory.WriteFileAtomic(filepath.Join(manDir, manifest.FileName(bg.Key)), b, 0o644); err != nil {
			return err
		}
		rec.Manifests++
	}
	// Backups from the new machine encrypt to the same public keys, so
	// nothing is packed again for a change of keys.
	if len(recipients) > 0 {
		if err := write("recipients.txt", []byte(strings.Join(recipients, "\n")+"\n"), 0o644); err != nil {
			return err
		}
		rec.RecipientsWritten = true
	}
	w := records.NewWriter(out)
	if err := w.Write(rec); err != nil {
		return err
	}
	if err := w.Err(); err != nil {
		return err
	}
	fmt.Fprintf(errOut, "gb-recover: %s: inventory of %d (%d bags, %d atoms) and %d manifests written to %s\n",
		opts.Store, year, rec.Bags, len(inv.Atoms), rec.Manifests, opts.Dir)
	fmt.Fprintf(errOut, "gb-recover: next: gb-find -c %s NAME, then gb-restore -c %s plan …\n", rec.Config, rec.Config)
	if inv.UsesEncryption() && !rec.RecipientsWritten {
		fmt.Fprintf(errOut, "gb-recover: to back up encrypted sources from here, put the passphrase in %s (chmod 600) or the public keys in %s\n",
			filepath.Join(opts.Dir, "key.txt"), filepath.Join(opts.Dir, "recipients.txt"))
	}
	if rec.EncryptedSkipped > 0 || len(rec.ManifestsMissing) > 0 {
		return fmt.Errorf("%d manifests missing from the store, %d encrypted ones skipped (pass --identity): %w", len(rec.ManifestsMissing), rec.EncryptedSkipped, records.ErrWarnings)
	}
	return nil
}

func yearNote(y int) string {
	if y == 0 {
		return ""
	}
	return fmt.Sprintf(" for %d", y)
}

// checkEmpty refuses a directory that already holds files: recovery never
// overwrites an inventory or a configuration.
func checkEmpty(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &config.Error{Msg: fmt.Sprintf("%s: %v", dir, err)}
	}
	if len(ents) > 0 {
		return &config.Error{Msg: fmt.Sprintf("%s is not empty; gb-recover writes into an empty or new directory", dir),
			Hint: "choose a new directory; gb-recover never replaces an inventory or a glacier.cfg"}
	}
	return nil
}

func getAll(ctx context.Context, st store.Store, key string) ([]byte, error) {
	r, err := st.Get(ctx, key, 0, -1)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func decrypt(b []byte, ids []age.Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(b), ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, &config.Error{Msg: "the identity given does not open it", Hint: "use the identity (or passphrase) the archive was encrypted to; RECOVERY.md lists its public keys"}
		}
		return nil, err
	}
	return io.ReadAll(r)
}

// headerRecipients reads the public keys from a manifest's header line.
func headerRecipients(b []byte) []string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	l := records.Line{Raw: line}
	var out []string
	for _, r := range l.Get("encryption.recipients").Array() {
		out = append(out, r.String())
	}
	sort.Strings(out)
	return out
}

// Config is the new glacier.cfg: the stored one with everything that
// named the lost machine's paths or another destination replaced, so the
// recovered directory is self-contained. Pricing and the other settings
// are kept as they were.
func Config(stored []byte, opts Options) []byte {
	replaced := map[string]bool{"dest": true, "s3_bucket": true, "state_dir": true, "staging_dir": true, "manifest_dir": true,
		"inventory_file": true, "inventory_bak_dir": true, "exclude_file": true, "encrypt_file": true, "recipients_file": true, "key_file": true}
	if opts.S3Endpoint != "" {
		replaced["s3_endpoint"] = true
	}
	if opts.S3Region != "" {
		replaced["s3_region"] = true
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by gb-recover on %s from %s (the stored copy: glacier.cfg.orig).\n", time.Now().UTC().Format("2006-01-02"), opts.Dest)
	fmt.Fprintf(&b, "[settings]\ndest = %s\nstate_dir = .\nstaging_dir = stage\nmanifest_dir = manifests\ninventory_file = inventory.json\ninventory_bak_dir = invbak\n", opts.Dest)
	if opts.S3Endpoint != "" {
		fmt.Fprintf(&b, "s3_endpoint = %s\n", opts.S3Endpoint)
	}
	if opts.S3Region != "" {
		fmt.Fprintf(&b, "s3_region = %s\n", opts.S3Region)
	}
	// Lines by section, so [settings] lines that came after another
	// section in the stored file still land under [settings].
	section := ""
	var order []string
	lines := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(stored))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]"):
			section = strings.ToLower(strings.TrimSpace(t[1 : len(t)-1]))
			if _, seen := lines[section]; !seen {
				lines[section] = nil
				order = append(order, section)
			}
			continue
		case t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";"):
			continue
		}
		key := t
		if i := strings.IndexAny(t, "=:"); i >= 0 {
			key = t[:i]
		}
		if section == "settings" && replaced[strings.ToLower(strings.TrimSpace(key))] {
			continue
		}
		lines[section] = append(lines[section], line)
	}
	for _, l := range lines["settings"] {
		fmt.Fprintln(&b, l)
	}
	for _, sec := range order {
		if sec == "settings" {
			continue
		}
		fmt.Fprintf(&b, "\n[%s]\n", sec)
		for _, l := range lines[sec] {
			fmt.Fprintln(&b, l)
		}
	}
	return b.Bytes()
}
