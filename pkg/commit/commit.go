// Package commit is the gb-commit stage, the only writer of inventory.json.
// It applies what was really uploaded, bag by bag as each upload is
// confirmed, so a run cut short keeps everything it finished; atoms whose
// bags never arrived keep their previous entry and are retried next run.
package commit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/fault"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/keys"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
	"github.com/tidwall/gjson"
)

// Options configure a commit.
type Options struct {
	Settings *config.Settings
	Store    store.Store // nil in a dry run
	// StoreErr is why the store could not be opened: said only when the
	// store is needed, so that a destination gb-put already refused is
	// not refused twice.
	StoreErr error
	Now      time.Time
	DryRun   bool
	Input    string
}

// Committed is the stage's summary record.
type Committed struct {
	Kind string `json:"kind"`
	records.Outcome
	Inventory      string   `json:"inventory"`
	DryRun         bool     `json:"dry_run"`
	BagsCommitted  int      `json:"bags_committed"`
	BytesCommitted int64    `json:"bytes_committed"`
	AtomsPacked    int      `json:"atoms_packed"`
	AtomsKept      int      `json:"atoms_kept"`
	AtomsForgotten int      `json:"atoms_forgotten"`
	AtomsPending   int      `json:"atoms_pending"`
	BagsFailed     []string `json:"bags_failed,omitempty"`
	BagsRetired    []string `json:"bags_retired,omitempty"`
	SystemFiles    []string `json:"system_files,omitempty"`
	NextBag        int      `json:"next_bag"`
}

type plannedAtom struct {
	key          string // inventory key
	typ, hash    string
	files, bytes int64
	part, parts  int
}

type plannedBag struct {
	id, key, source, compress string
	files                     int64
	atoms                     []plannedAtom
	incomplete                map[string]bool
	uploaded                  bool
	staged, manifest          string // local files gb-pack wrote
	encrypt                   bool
	keys                      string
	failed                    bool
}

type state struct {
	opts     Options
	inv      *inventory.Inventory
	out      string
	bags     map[string]*plannedBag
	order    []string
	partsUp  map[string]map[int]string // atom -> part -> bag id
	done     map[string]bool           // atoms applied this run
	maxID    int
	spent    int // highest id whose key holds an object
	sum      Committed
	backedUp bool
	saved    bool
	listFile string
	exclFile string
	encFile  string
}

// Run applies the records of in to the inventory.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) (err error) {
	st := opts.Settings
	// On failure too the summary ends the output, with what was applied.
	var s *state
	written := false
	defer func() {
		sum := Committed{Kind: records.KindCommitted}
		if s != nil {
			sum = s.sum
		}
		err = records.Finish(out, err, written, &sum)
	}()
	up := records.NewUpstream("gb-put", records.KindPut)
	if opts.DryRun {
		up = records.NewUpstream("gb-plan", records.KindPlan)
	}
	planUp := records.NewUpstream("gb-plan", records.KindPlan)
	name := opts.Input
	if name == "" {
		name = "stdin"
	}
	lock, err := inventory.Acquire(st.InventoryFile)
	if err != nil {
		return err
	}
	defer lock.Release()
	inv, err := inventory.Load(st.InventoryFile)
	if err != nil {
		return up.After(in, err) // gb-plan read it first
	}
	s = &state{opts: opts, inv: inv, out: st.InventoryFile, bags: map[string]*plannedBag{}, partsUp: map[string]map[int]string{}, done: map[string]bool{}}
	if opts.DryRun {
		s.out = filepath.Join(filepath.Dir(st.InventoryFile), "inventory_dryrun.json")
	}
	s.sum = Committed{Kind: records.KindCommitted, Inventory: s.out, DryRun: opts.DryRun}
	w := records.NewWriter(out)
	r := records.NewReader(in, name)
	var keeps []string
	var forgets []string
	gones := map[string]time.Time{}
	sources := map[string]inventory.Source{}
	planSeen := false
	planDirty := 0
	err = r.Each(func(l records.Line) error {
		up.Note(l)
		switch l.Kind {
		case records.KindSource:
			sources[l.Get("source").String()] = inventory.Source{Mode: l.Get("mode").String(), Encrypt: l.Get("encrypt").Bool()}
			if f := l.Get("list").String(); f != "" {
				s.listFile = f
			}
			if f := l.Get("exclude_file").String(); f != "" {
				s.exclFile = f
			}
			if f := l.Get("encrypt_file").String(); f != "" {
				s.encFile = f
			}
		case records.KindBag:
			b, err := parseBag(l, name)
			if err != nil {
				return err
			}
			if _, dup := s.bags[b.id]; dup {
				return l.Errorf(name, "bag %s appears twice", b.id)
			}
			if old := inv.Bags[b.id]; old != nil {
				return l.Errorf(name, "bag %s is already in the inventory (key %s); was this plan made before another commit?", b.id, old.Key)
			}
			s.bags[b.id] = b
			s.order = append(s.order, b.id)
			if n, _ := inventory.ParseBagID(b.id); n > s.maxID {
				s.maxID = n
			}
			if opts.DryRun {
				if err := s.apply(b, inventory.Bag{Key: b.key, Source: b.source, Bytes: l.Get("bytes").Int(), StorageClass: store.DeepArchive, UploadedAt: opts.Now, Compress: b.compress, Files: b.files}); err != nil {
					return err
				}
			}
		case records.KindPacked:
			if b := s.bags[l.Get("bag").String()]; b != nil {
				for _, k := range l.Get("incomplete_atoms").Array() {
					b.incomplete[k.String()] = true
				}
				b.staged, b.manifest = l.Get("file").String(), l.Get("manifest").String()
			}
		case records.KindUploaded:
			id := l.Get("bag").String()
			b := s.bags[id]
			if b == nil {
				return l.Errorf(name, "uploaded record for bag %s, which no bag record introduced", id)
			}
			if b.uploaded {
				return l.Errorf(name, "bag %s was reported uploaded twice", id)
			}
			if l.Get("key").String() != b.key {
				return l.Errorf(name, "bag %s uploaded as %s but planned as %s", id, l.Get("key").String(), b.key)
			}
			up := inventory.Bag{Key: b.key, Source: b.source, Bytes: l.Get("bytes").Int(), SHA256: l.Get("sha256").String(),
				StorageClass: l.Get("storage_class").String(), Compress: b.compress, Files: b.files, ManifestKey: l.Get("manifest_key").String()}
			if t, err := time.Parse(time.RFC3339Nano, l.Get("uploaded_at").String()); err == nil {
				up.UploadedAt = t.UTC()
			} else {
				return l.Errorf(name, "bag %s: bad uploaded_at %q", id, l.Get("uploaded_at").String())
			}
			if opts.DryRun {
				return nil
			}
			if err := s.apply(b, up); err != nil {
				return err
			}
			// Each confirmed bag is made durable at once: a crash later in
			// a multi-day run must not forget uploads already paid for.
			if err := s.save(); err != nil {
				return err
			}
		case records.KindFailed:
			id := l.Get("bag").String()
			if b := s.bags[id]; b != nil {
				b.failed = true
			}
			s.sum.BagsFailed = append(s.sum.BagsFailed, id)
			s.spend(id)
		case records.KindKeep:
			k, err := l.PathField("atom")
			if err != nil {
				return l.Errorf(name, "%v", err)
			}
			keeps = append(keeps, inventory.KeyOf(k))
		case records.KindForget:
			k, err := l.PathField("atom")
			if err != nil {
				return l.Errorf(name, "%v", err)
			}
			forgets = append(forgets, inventory.KeyOf(k))
		case records.KindPlan:
			// A failed plan planned nothing: as if it never came. Passed
			// on, so that the end of the pipe holds every stage's summary.
			if planUp.Note(l); !planUp.Failed() {
				planSeen = true
				planDirty = int(l.Get("atoms_new").Int() + l.Get("atoms_changed").Int())
			}
			return w.WriteRaw(l.Raw)
		case records.KindScan:
			return w.WriteRaw(l.Raw)
		case records.KindGone:
			k, err := l.PathField("atom")
			if err != nil {
				return l.Errorf(name, "%v", err)
			}
			if t, err := time.Parse(time.RFC3339Nano, l.Get("gone_since").String()); err == nil {
				gones[inventory.KeyOf(k)] = t.UTC()
			}
		case records.KindRetire, records.KindAtom:
			// Commit works these out from the inventory itself.
		default:
			if err := w.WriteRaw(l.Raw); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	now := opts.Now
	for _, k := range keeps {
		if a := inv.Atoms[k]; a != nil && !s.done[k] {
			a.LastSeen = now
			a.GoneSince = time.Time{} // back on disk
			s.sum.AtomsKept++
		}
	}
	if planSeen {
		for k, since := range gones {
			if a := inv.Atoms[k]; a != nil && a.GoneSince.IsZero() {
				a.GoneSince = since
			}
		}
	}
	if planSeen {
		for _, k := range forgets {
			if inv.Atoms[k] != nil {
				delete(inv.Atoms, k)
				s.sum.AtomsForgotten++
			}
		}
		// A source that left list.txt and has no atom left (it was reset)
		// leaves the inventory too.
		left := map[string]bool{}
		for _, a := range inv.Atoms {
			left[a.Source] = true
		}
		for src := range inv.Sources {
			if _, scanned := sources[src]; !scanned && !left[src] {
				delete(inv.Sources, src)
			}
		}
	}
	for src, so := range sources {
		old := inv.Sources[src]
		so.FirstSeen, so.LastSeen = now, now
		if old != nil {
			so.FirstSeen = old.FirstSeen
		}
		inv.Sources[src] = &so
	}
	for _, id := range s.order {
		b := s.bags[id]
		if !b.uploaded {
			for _, a := range b.atoms {
				if !s.done[a.key] {
					s.sum.AtomsPending++
				}
			}
			// A failed bag's id is spent: its staged copy or local manifest
			// would only mislead (find, a later bag of the same name). A
			// bag that never reached gb-put keeps its id and its staged
			// copy: the next run plans it again and gb-pack reuses it.
			if !opts.DryRun && b.failed {
				for _, f := range []string{b.staged, b.manifest} {
					if f != "" {
						os.Remove(f)
					}
				}
			}
		}
	}
	if planSeen && planDirty-s.sum.AtomsPacked > s.sum.AtomsPending {
		// Bags dropped between plan and commit never show up here; the
		// plan's count of atoms to pack still does.
		s.sum.AtomsPending = planDirty - s.sum.AtomsPacked
	}
	// Only ids whose key now holds an object (stored, or refused because
	// something else is there) are spent. A bag that was planned but never
	// stored (dropped by a stage, or cut off mid-upload) keeps its id: the
	// next run plans the same bag under it and gb-put resumes or adopts.
	if opts.DryRun && s.maxID >= inv.NextBag {
		inv.NextBag = s.maxID + 1
	}
	if s.spent >= inv.NextBag {
		inv.NextBag = s.spent + 1
	}
	ref := inv.Referenced()
	for _, id := range inv.SortedBagIDs() {
		b := inv.Bags[id]
		if !ref[id] && b.RetiredAt.IsZero() {
			b.RetiredAt = now
			s.sum.BagsRetired = append(s.sum.BagsRetired, id)
		} else if ref[id] {
			b.RetiredAt = time.Time{}
		}
	}
	// A stream that ended before its plan and brought nothing (an earlier
	// stage failed at once) leaves the inventory as it was.
	if planSeen || s.saved || s.sum.BagsCommitted > 0 {
		inv.Runs = append(inv.Runs, inventory.Run{At: now, DryRun: opts.DryRun, BagsAdded: s.sum.BagsCommitted, BytesAdded: s.sum.BytesCommitted,
			AtomsPacked: s.sum.AtomsPacked, AtomsKept: s.sum.AtomsKept, Forgotten: s.sum.AtomsForgotten, Pending: s.sum.AtomsPending})
		if err := s.save(); err != nil {
			return err
		}
	}
	s.sum.NextBag = inv.NextBag
	if !opts.DryRun && (opts.Store != nil || opts.StoreErr != nil) && (s.sum.BagsCommitted > 0 || s.sum.AtomsForgotten > 0 || len(s.sum.BagsRetired) > 0) {
		if opts.StoreErr != nil {
			return opts.StoreErr
		}
		files, err := s.uploadSystem(ctx)
		s.sum.SystemFiles = files
		if err != nil {
			return fmt.Errorf("inventory saved, but uploading system files failed (the next run retries): %w", err)
		}
	}
	result := s.result(up, planSeen)
	s.sum.Outcome, written = records.OutcomeOf(result), true
	if err := w.Write(s.sum); err != nil {
		return err
	}
	if result == nil || errors.Is(result, records.ErrWarnings) {
		fmt.Fprintf(errOut, "gb-commit: %d bags committed (%s), %d atoms packed, %d kept, %d forgotten, %d pending; %s\n",
			s.sum.BagsCommitted, cost.Bytes(s.sum.BytesCommitted), s.sum.AtomsPacked, s.sum.AtomsKept, s.sum.AtomsForgotten, s.sum.AtomsPending, s.what())
	}
	if err := w.Err(); err != nil {
		return err
	}
	return result
}

// result is how the commit ends: failed, quietly, when a stage before it
// failed (it said why); else failed when bags failed or the plan never
// came. Every error says what was done, and only that.
func (s *state) result(up *records.Upstream, planSeen bool) error {
	if err := up.Err(fmt.Sprintf("%d uploaded bags committed, %s", s.sum.BagsCommitted, s.what())); err != nil {
		return err
	}
	if !planSeen {
		return fmt.Errorf("input ended before the plan summary: committed %d uploaded bags, applied no forgets, %s; run again", s.sum.BagsCommitted, s.what())
	}
	if len(s.sum.BagsFailed) > 0 {
		return fmt.Errorf("%d bags failed to upload; their atoms are retried on the next run", len(s.sum.BagsFailed))
	}
	return nil
}

// what says what became of the inventory file.
func (s *state) what() string {
	switch {
	case !s.saved:
		return "inventory unchanged"
	case s.opts.DryRun:
		return "dry run: " + s.out + " written"
	}
	return "inventory saved"
}

func parseBag(l records.Line, name string) (*plannedBag, error) {
	b := &plannedBag{id: l.Get("id").String(), key: l.Get("key").String(), source: l.Get("source").String(), compress: l.Get("compress").String(),
		files: l.Get("files").Int(), incomplete: map[string]bool{}, encrypt: l.Get("encrypt").Bool(), keys: l.Get("keys").String()}
	if _, err := inventory.ParseBagID(b.id); err != nil {
		return nil, l.Errorf(name, "%v", err)
	}
	if b.key == "" || b.source == "" {
		return nil, l.Errorf(name, "bag %s needs key and source", b.id)
	}
	var perr error
	l.Get("atoms").ForEach(func(_, a gjson.Result) bool {
		k, err := records.ResultPath(a, "atom")
		if err != nil {
			perr = err
			return false
		}
		pa := plannedAtom{key: inventory.KeyOf(k), typ: a.Get("type").String(), hash: a.Get("hash").String(), files: a.Get("files").Int(),
			bytes: a.Get("bytes").Int(), part: int(a.Get("part").Int()), parts: int(a.Get("parts").Int())}
		if pa.hash == "" {
			perr = fmt.Errorf("atom %s has no hash", k)
			return false
		}
		if pa.parts == 0 {
			pa.part, pa.parts = 1, 1
		}
		b.atoms = append(b.atoms, pa)
		return true
	})
	if perr != nil {
		return nil, l.Errorf(name, "bag %s: %v", b.id, perr)
	}
	return b, nil
}

// apply records a stored bag and points every atom whose parts are now
// all stored at its new bags.
func (s *state) apply(b *plannedBag, stored inventory.Bag) error {
	now := s.opts.Now
	b.uploaded = true
	for _, a := range b.atoms {
		stored.Atoms = append(stored.Atoms, a.key)
	}
	stored.Encrypt, stored.Keys = b.encrypt, b.keys
	bg := stored
	s.inv.Bags[b.id] = &bg
	s.spend(b.id)
	if s.spent >= s.inv.NextBag {
		s.inv.NextBag = s.spent + 1
	}
	s.sum.BagsCommitted++
	s.sum.BytesCommitted += stored.Bytes
	for _, a := range b.atoms {
		if s.partsUp[a.key] == nil {
			s.partsUp[a.key] = map[int]string{}
		}
		s.partsUp[a.key][a.part] = b.id
		if len(s.partsUp[a.key]) < a.parts {
			continue
		}
		var ids []string
		incomplete := false
		var files, bytes int64
		for i := 1; i <= a.parts; i++ {
			id := s.partsUp[a.key][i]
			if id == "" {
				return fmt.Errorf("atom %s: part %d of %d has no bag", a.key, i, a.parts)
			}
			ids = append(ids, id)
			pb := s.bags[id]
			if pb.incomplete[a.key] {
				incomplete = true
			}
			for _, pa := range pb.atoms {
				if pa.key == a.key {
					files += pa.files
					bytes += pa.bytes
				}
			}
		}
		sort.Strings(ids)
		old := s.inv.Atoms[a.key]
		na := &inventory.Atom{Source: b.source, Type: a.typ, LastMetadataHash: a.hash, TarID: ids[0], ArchiveKey: s.inv.Bags[ids[0]].Key,
			Bags: ids, Files: files, Bytes: bytes, FirstSeen: now, LastSeen: now, PackedAt: now, Incomplete: incomplete,
			Encrypt: b.encrypt, Keys: b.keys}
		if a.parts == 1 {
			na.Files, na.Bytes = a.files, a.bytes
		}
		if old != nil {
			na.FirstSeen, na.Pinned = old.FirstSeen, old.Pinned
		}
		s.inv.Atoms[a.key] = na
		s.done[a.key] = true
		s.sum.AtomsPacked++
	}
	return nil
}

func (s *state) spend(id string) {
	if n, err := inventory.ParseBagID(id); err == nil && n > s.spent {
		s.spent = n
	}
}

func (s *state) save() error {
	fault.Point("commit.save")
	if !s.backedUp && !s.opts.DryRun {
		if _, err := inventory.BackupDaily(s.out, s.opts.Settings.InventoryBakDir, s.opts.Now); err != nil {
			return fmt.Errorf("daily inventory backup: %w", err)
		}
		s.backedUp = true
	}
	s.saved = true
	return s.inv.Save(s.out)
}

// uploadSystem copies what a new machine needs to carry on (inventory,
// config, source list, excludes, encrypt.txt) and RECOVERY.md to
// <year>-backup/system/ in hot storage. Once any source or atom is
// encrypted, every file that names atoms is stored encrypted to the same
// keys (as NAME.age); the plain copy under the other name is deleted, so
// the store never keeps both.
func (s *state) uploadSystem(ctx context.Context) ([]string, error) {
	st := s.opts.Settings
	prefix := fmt.Sprintf("%d-backup/system/", s.opts.Now.Year())
	var ks *keys.Keys
	if s.inv.UsesEncryption() {
		rf, _ := st.SideFile(st.RecipientsFile, "recipients.txt", s.listFile)
		kf, _ := st.SideFile(st.KeyFile, "key.txt", s.listFile)
		k, _, err := keys.Load(rf, kf)
		if err != nil {
			return nil, fmt.Errorf("the system files name encrypted atoms and are stored encrypted: %w", err)
		}
		ks = k
	}
	var done []string
	files := []struct {
		name, path string
		names      bool // names sources or atoms
	}{
		{"inventory.json", s.out, true},
		{"glacier.cfg", st.Config, false},
		{"list.txt", s.listFile, true},
		{"exclude.txt", s.exclFile, true},
		{"encrypt.txt", s.encFile, true},
	}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if os.IsNotExist(err) && f.name != "inventory.json" {
			continue
		}
		if err != nil {
			return done, err
		}
		key, other := path.Join(prefix, f.name), path.Join(prefix, f.name+".age")
		if ks != nil && f.names {
			if b, err = ks.EncryptBytes(b); err != nil {
				return done, fmt.Errorf("encrypt %s: %w", f.name, err)
			}
			key, other = other, key
		}
		if err := store.PutReplace(ctx, s.opts.Store, key, b); err != nil {
			return done, fmt.Errorf("%s: %w", key, err)
		}
		if err := s.opts.Store.Delete(ctx, other); err != nil {
			return done, fmt.Errorf("remove %s: %w", other, err)
		}
		done = append(done, key)
	}
	key := path.Join(prefix, "RECOVERY.md")
	if err := store.PutReplace(ctx, s.opts.Store, key, Recovery(s.inv, s.opts.Store.String(), s.opts.Now.Year(), ks, st.Prices())); err != nil {
		return done, fmt.Errorf("%s: %w", key, err)
	}
	done = append(done, key)
	return done, nil
}
