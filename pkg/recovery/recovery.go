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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/keys"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
)

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

// recoverer is one recovery: the system files of the year chosen, and
// what was written.
type recoverer struct {
	opts  Options
	year  int
	names map[string]bool // system file names of the year
	ids   []age.Identity
	rec   records.Recovered
}

// Run recovers into opts.Dir and writes one recovered record.
func Run(ctx context.Context, _ io.Reader, out, errOut io.Writer, opts Options) error {
	if err := checkEmpty(opts.Dir); err != nil {
		return err
	}
	r, err := start(ctx, opts)
	if err != nil {
		return err
	}
	inv, invBytes, rebuilt, err := r.inventory(ctx, errOut)
	if err != nil {
		return err
	}
	if err := r.write(layout.Inventory, invBytes, 0o600); err != nil {
		return err
	}
	if err := r.systemFiles(ctx); err != nil {
		return err
	}
	recipients, err := r.manifests(ctx, inv, rebuilt, errOut)
	if err != nil {
		return err
	}
	// Backups from the new machine encrypt to the same public keys, so
	// nothing is packed again for a change of keys.
	if len(recipients) > 0 {
		if err := r.write("recipients.txt", []byte(strings.Join(recipients, "\n")+"\n"), 0o644); err != nil {
			return err
		}
		r.rec.RecipientsWritten = true
	}
	return r.finish(out, errOut, inv)
}

// start chooses the year whose system files are used, and reads the
// identity when they are encrypted.
func start(ctx context.Context, opts Options) (*recoverer, error) {
	years := map[int]map[string]bool{}
	err := opts.Store.List(ctx, "", func(o store.ObjectInfo) error {
		if k, ok := layout.Parse(o.Key); ok && k.Kind == layout.System {
			if years[k.Year] == nil {
				years[k.Year] = map[string]bool{}
			}
			years[k.Year][k.Name] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", opts.Store, err)
	}
	hasInv := func(names map[string]bool) bool {
		return names[layout.Inventory] || names[layout.Seal(layout.Inventory)]
	}
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
		return nil, &config.Error{Msg: fmt.Sprintf("%s holds no %s%s", opts.Store, layout.InventoryPattern, yearNote(opts.Year)),
			Hint: "check the destination URL (and prefix); if the archive is there but its inventory is lost, add --rebuild to rebuild it from the manifests"}
	}
	r := &recoverer{opts: opts, year: year, names: names,
		rec: records.Recovered{Kind: records.KindRecovered, Store: opts.Store.String(), Year: year, Dir: opts.Dir, Config: filepath.Join(opts.Dir, layout.Config)}}
	needKey := false
	for n := range names {
		needKey = needKey || layout.IsSealed(n)
	}
	switch {
	case opts.Identity != "":
		if r.ids, err = keys.Identities(opts.Identity); err != nil {
			return nil, err
		}
	case needKey:
		return nil, &config.Error{Msg: fmt.Sprintf("the archive's system files in %s are encrypted", layout.SystemDir(year)),
			Hint: "pass --identity FILE: the age identity (AGE-SECRET-KEY-1…) or the passphrase file the archive was encrypted to"}
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	return r, nil
}

// fetch reads a system file of the year, plain or sealed; ok is false
// when the store has neither.
func (r *recoverer) fetch(ctx context.Context, name string) (b []byte, ok bool, err error) {
	for _, n := range []string{name, layout.Seal(name)} {
		if !r.names[n] {
			continue
		}
		key := layout.SystemKey(r.year, n)
		b, err := getAll(ctx, r.opts.Store, key)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", key, err)
		}
		if layout.IsSealed(n) {
			if b, err = decrypt(b, r.ids); err != nil {
				return nil, false, fmt.Errorf("%s: %w", key, err)
			}
		}
		return b, true, nil
	}
	return nil, false, nil
}

// write writes a file of the new directory.
func (r *recoverer) write(name string, b []byte, perm os.FileMode) error {
	p := filepath.Join(r.opts.Dir, name)
	if err := inventory.WriteFileAtomic(p, b, perm); err != nil {
		return err
	}
	r.rec.Files = append(r.rec.Files, p)
	return nil
}

// inventory reads the stored inventory, or with Rebuild rebuilds it from
// the bags and manifests (returned too).
func (r *recoverer) inventory(ctx context.Context, errOut io.Writer) (*inventory.Inventory, []byte, []*storedBag, error) {
	if !r.opts.Rebuild {
		b, _, err := r.fetch(ctx, layout.Inventory)
		if err != nil {
			return nil, nil, nil, err
		}
		inv, err := inventory.Parse(layout.SystemKey(r.year, layout.Inventory), b)
		return inv, b, nil, err
	}
	inv, rebuilt, skipped, err := rebuild(ctx, r.opts.Store, r.ids, r.opts.Now, errOut)
	if err != nil {
		return nil, nil, nil, err
	}
	r.rec.Rebuilt, r.rec.EncryptedSkipped = true, skipped
	b, err := inv.Marshal()
	return inv, b, rebuilt, err
}

// systemFiles writes the source list, excludes, encrypt.txt, RECOVERY.md
// and a glacier.cfg for the new directory (the stored one kept beside it).
func (r *recoverer) systemFiles(ctx context.Context) error {
	for _, name := range []string{layout.List, layout.Exclude, layout.Encrypt, layout.Recovery} {
		b, ok, err := r.fetch(ctx, name)
		if err != nil {
			return err
		}
		if ok {
			if err := r.write(name, b, 0o600); err != nil {
				return err
			}
		}
	}
	stored, _, err := r.fetch(ctx, layout.Config)
	if err != nil {
		return err
	}
	if stored != nil {
		if err := r.write(layout.Config+".orig", stored, 0o600); err != nil {
			return err
		}
	}
	return r.write(layout.Config, Config(stored, r.opts), 0o600)
}

// manifests writes the manifests of every bag the inventory lists, so
// gb-find works without thawing anything, and returns the public keys an
// encrypted one names.
func (r *recoverer) manifests(ctx context.Context, inv *inventory.Inventory, rebuilt []*storedBag, errOut io.Writer) ([]string, error) {
	manDir := filepath.Join(r.opts.Dir, "manifests")
	if err := os.MkdirAll(manDir, 0o755); err != nil {
		return nil, err
	}
	if r.opts.Rebuild {
		return r.rebuiltManifests(manDir, rebuilt)
	}
	var recipients []string
	for _, id := range inv.SortedBagIDs() {
		bg := inv.Bags[id]
		r.rec.Bags++
		b, err := r.storedManifest(ctx, id, bg, errOut)
		if err != nil {
			return nil, err
		}
		if b == nil {
			continue
		}
		if recipients == nil && layout.IsSealed(bg.ManifestKey) {
			recipients = headerRecipients(b)
		}
		if err := inventory.WriteFileAtomic(filepath.Join(manDir, layout.ManifestFile(bg.Key)), b, 0o644); err != nil {
			return nil, err
		}
		r.rec.Manifests++
	}
	return recipients, nil
}

// storedManifest reads one bag's manifest from the store, decrypted; nil
// (and the record says why) when it is missing or cannot be decrypted.
func (r *recoverer) storedManifest(ctx context.Context, id string, bg *inventory.Bag, errOut io.Writer) ([]byte, error) {
	if bg.ManifestKey == "" {
		r.rec.ManifestsMissing = append(r.rec.ManifestsMissing, id)
		return nil, nil
	}
	b, err := getAll(ctx, r.opts.Store, bg.ManifestKey)
	if errors.Is(err, store.ErrNotFound) {
		r.rec.ManifestsMissing = append(r.rec.ManifestsMissing, id)
		fmt.Fprintf(errOut, "gb-recover: warning: %s: the manifest of %s is not in the store\n", bg.ManifestKey, id)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bg.ManifestKey, err)
	}
	if !layout.IsSealed(bg.ManifestKey) {
		return b, nil
	}
	if r.ids == nil {
		r.rec.EncryptedSkipped++
		return nil, nil
	}
	if b, err = decrypt(b, r.ids); err != nil {
		return nil, fmt.Errorf("%s: %w", bg.ManifestKey, err)
	}
	return b, nil
}

// rebuiltManifests writes the manifests a rebuild already read.
func (r *recoverer) rebuiltManifests(manDir string, rebuilt []*storedBag) ([]string, error) {
	var recipients []string
	for _, b := range rebuilt {
		r.rec.Bags++
		if err := inventory.WriteFileAtomic(filepath.Join(manDir, layout.ManifestFile(b.hdr.Key)), b.manifest, 0o644); err != nil {
			return nil, err
		}
		r.rec.Manifests++
		if recipients == nil && b.hdr.Encryption != nil {
			recipients = headerRecipients(b.manifest)
		}
	}
	return recipients, nil
}

// finish writes the record and says what to do next.
func (r *recoverer) finish(out, errOut io.Writer, inv *inventory.Inventory) error {
	rec := &r.rec
	w := records.NewWriter(out)
	if err := w.Write(*rec); err != nil {
		return err
	}
	if err := w.Err(); err != nil {
		return err
	}
	fmt.Fprintf(errOut, "gb-recover: %s: inventory of %d (%d bags, %d atoms) and %d manifests written to %s\n",
		r.opts.Store, r.year, rec.Bags, len(inv.Atoms), rec.Manifests, r.opts.Dir)
	fmt.Fprintf(errOut, "gb-recover: next: gb-find -c %s NAME, then gb-restore -c %s plan …\n", rec.Config, rec.Config)
	if inv.UsesEncryption() && !rec.RecipientsWritten {
		fmt.Fprintf(errOut, "gb-recover: to back up encrypted sources from here, put the passphrase in %s (chmod 600) or the public keys in %s\n",
			filepath.Join(r.opts.Dir, "key.txt"), filepath.Join(r.opts.Dir, "recipients.txt"))
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
	var h manifest.Header
	if json.Unmarshal(line, &h) != nil || h.Encryption == nil {
		return nil
	}
	out := append([]string(nil), h.Encryption.Recipients...)
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
