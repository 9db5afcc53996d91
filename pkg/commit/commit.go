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
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/fault"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/keys"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
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

// stream is what the records of a run bring besides bags: the plan's
// verdicts on atoms and the sources scanned.
type stream struct {
	keeps     []string
	forgets   []string
	gones     map[string]time.Time
	sources   map[string]inventory.Source
	planSeen  bool
	planDirty int // atoms the plan packs (new and changed)
	listFile  string
	exclFile  string
	encFile   string
}

type state struct {
	*ledger
	opts     Options
	name     string // the input, for errors
	out      string // the inventory file written
	order    []string
	maxID    int
	sum      records.Committed
	rec      stream
	backedUp bool
	saved    bool
	// The summary of the stage before this one (gb-put, or gb-plan in a
	// dry run), and the plan's, which says whether forgets may be applied.
	up, planUp *records.Upstream
	summed     bool // the summary record was written
}

// upstream is the stage right before gb-commit: gb-put, or gb-plan (plan)
// in a dry run.
func upstream(opts Options, plan *records.Upstream) *records.Upstream {
	if opts.DryRun {
		return plan
	}
	return records.NewUpstream("gb-put", records.KindPut)
}

// Run applies the records of in to the inventory.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) (err error) {
	st := opts.Settings
	// On failure too the summary ends the output, with what was applied.
	var s *state
	defer func() {
		sum, written := records.Committed{Kind: records.KindCommitted}, false
		if s != nil {
			sum, written = s.sum, s.summed
		}
		err = records.Finish(out, err, written, &sum)
	}()
	lock, err := inventory.Acquire(st.InventoryFile)
	if err != nil {
		return err
	}
	defer lock.Release()
	inv, err := inventory.Load(st.InventoryFile)
	if err != nil {
		// gb-plan read it first: when it failed there, that was said.
		return upstream(opts, records.NewUpstream("gb-plan", records.KindPlan)).After(in, err)
	}
	s = newState(inv, opts)
	w := records.NewWriter(out)
	if err := s.run(ctx, in, w); err != nil {
		return err
	}
	return s.finish(w, errOut)
}

// run reads the records, applying each stored bag as it comes, settles the
// rest at the end, saves the inventory and stores the system files.
func (s *state) run(ctx context.Context, in io.Reader, w *records.Writer) error {
	if err := records.NewReader(in, s.name).Each(func(l records.Line) error {
		if err := s.record(l, w); err != nil {
			return err
		}
		return ctx.Err()
	}); err != nil {
		return err
	}
	s.settle()
	if !s.opts.DryRun {
		s.removeFailedStaging()
	}
	// A stream that ended before its plan and brought nothing (an earlier
	// stage failed at once) leaves the inventory as it was.
	if s.rec.planSeen || s.saved || s.sum.BagsCommitted > 0 {
		addRun(s.inv, s.sum, s.opts.Now)
		if err := s.save(); err != nil {
			return err
		}
	}
	s.sum.NextBag = s.inv.NextBag
	if !s.opts.DryRun && (s.opts.Store != nil || s.opts.StoreErr != nil) && (s.sum.BagsCommitted > 0 || s.sum.AtomsForgotten > 0 || len(s.sum.BagsRetired) > 0) {
		if s.opts.StoreErr != nil {
			return s.opts.StoreErr
		}
		files, err := s.uploadSystem(ctx)
		s.sum.SystemFiles = files
		if err != nil {
			return fmt.Errorf("inventory saved, but uploading system files failed (the next run retries): %w", err)
		}
	}
	return nil
}

func newState(inv *inventory.Inventory, opts Options) *state {
	s := &state{opts: opts, name: opts.Input, out: opts.Settings.InventoryFile,
		rec: stream{gones: map[string]time.Time{}, sources: map[string]inventory.Source{}}}
	if s.name == "" {
		s.name = "stdin"
	}
	if opts.DryRun {
		s.out = filepath.Join(filepath.Dir(opts.Settings.InventoryFile), "inventory_dryrun.json")
	}
	s.sum = records.Committed{Kind: records.KindCommitted, Inventory: s.out, DryRun: opts.DryRun}
	s.planUp = records.NewUpstream("gb-plan", records.KindPlan)
	s.up = upstream(opts, s.planUp)
	s.ledger = newLedger(inv, opts.Now, &s.sum)
	return s
}

// record takes in one record. Bags are applied as their upload is
// confirmed; the rest is kept for settle.
func (s *state) record(l records.Line, w *records.Writer) error {
	s.up.Note(l)
	switch l.Kind {
	case records.KindSource:
		return s.onSource(l)
	case records.KindBag:
		return s.onBag(l)
	case records.KindPacked:
		p, err := records.Decode[records.Packed](l)
		if err != nil {
			return err
		}
		if b := s.bags[p.Bag]; b != nil {
			for _, k := range p.IncompleteAtoms {
				b.incomplete[k] = true
			}
			b.staged, b.manifest = p.File, p.Manifest
		}
	case records.KindUploaded:
		return s.onUploaded(l)
	case records.KindFailed:
		f, err := records.Decode[records.Failed](l)
		if err != nil {
			return err
		}
		if b := s.bags[f.Bag]; b != nil {
			b.failed = true
		}
		s.sum.BagsFailed = append(s.sum.BagsFailed, f.Bag)
		s.spend(f.Bag)
	case records.KindKeep, records.KindForget, records.KindGone:
		return s.onVerdict(l)
	case records.KindPlan:
		// A failed plan planned nothing: as if it never came. Passed on,
		// so that the end of the pipe holds every stage's summary.
		if s.planUp.Note(l); !s.planUp.Failed() {
			p, err := records.Decode[records.PlanSummary](l)
			if err != nil {
				return err
			}
			s.rec.planSeen = true
			s.rec.planDirty = p.AtomsNew + p.AtomsChanged
		}
		return w.WriteRaw(l.Raw)
	case records.KindScan:
		return w.WriteRaw(l.Raw)
	case records.KindRetire, records.KindAtom:
		// Commit works these out from the inventory itself.
	default:
		return w.WriteRaw(l.Raw)
	}
	return nil
}

func (s *state) onSource(l records.Line) error {
	src, err := records.Decode[records.Source](l)
	if err != nil {
		return err
	}
	s.rec.sources[src.Source] = inventory.Source{Mode: src.Mode, Encrypt: src.Encrypt}
	if src.ListFile != "" {
		s.rec.listFile = src.ListFile
	}
	if src.Exclude != "" {
		s.rec.exclFile = src.Exclude
	}
	if src.EncryptFile != "" {
		s.rec.encFile = src.EncryptFile
	}
	return nil
}

func (s *state) onBag(l records.Line) error {
	rec, err := records.Decode[records.Bag](l)
	if err != nil {
		return err
	}
	b, err := plannedOf(rec)
	if err != nil {
		return l.Errorf(s.name, "%v", err)
	}
	if _, dup := s.bags[b.id]; dup {
		return l.Errorf(s.name, "bag %s appears twice", b.id)
	}
	if old := s.inv.Bags[b.id]; old != nil {
		return l.Errorf(s.name, "bag %s is already in the inventory (key %s); was this plan made before another commit?", b.id, old.Key)
	}
	s.bags[b.id] = b
	s.order = append(s.order, b.id)
	if n, _ := inventory.ParseBagID(b.id); n > s.maxID {
		s.maxID = n
	}
	if !s.opts.DryRun {
		return nil
	}
	// A dry run commits the plan as if every bag were stored now.
	return s.apply(b, inventory.Bag{Key: b.key, Source: b.source, Bytes: rec.Bytes, StorageClass: store.DeepArchive, UploadedAt: s.opts.Now,
		Compress: b.compress, Files: b.files})
}

func (s *state) onUploaded(l records.Line) error {
	u, err := records.Decode[records.Uploaded](l)
	if err != nil {
		return err
	}
	b := s.bags[u.Bag]
	if b == nil {
		return l.Errorf(s.name, "uploaded record for bag %s, which no bag record introduced", u.Bag)
	}
	if b.uploaded {
		return l.Errorf(s.name, "bag %s was reported uploaded twice", u.Bag)
	}
	if u.Key != b.key {
		return l.Errorf(s.name, "bag %s uploaded as %s but planned as %s", u.Bag, u.Key, b.key)
	}
	if u.UploadedAt.IsZero() {
		return l.Errorf(s.name, "bag %s: no uploaded_at", u.Bag)
	}
	if s.opts.DryRun {
		return nil
	}
	up := inventory.Bag{Key: b.key, Source: b.source, Bytes: u.Bytes, SHA256: u.SHA256, StorageClass: u.StorageClass, UploadedAt: u.UploadedAt.UTC(),
		Compress: b.compress, Files: b.files, ManifestKey: u.ManifestKey}
	if err := s.apply(b, up); err != nil {
		return err
	}
	// Each confirmed bag is made durable at once: a crash later in a
	// multi-day run must not forget uploads already paid for.
	return s.save()
}

// onVerdict takes in the plan's keep, forget and gone records.
func (s *state) onVerdict(l records.Line) error {
	switch l.Kind {
	case records.KindKeep:
		k, err := records.Decode[records.Keep](l)
		if err != nil {
			return err
		}
		key, err := s.atomKey(l, k.ExactAtom)
		s.rec.keeps = append(s.rec.keeps, key)
		return err
	case records.KindForget:
		f, err := records.Decode[records.Forget](l)
		if err != nil {
			return err
		}
		key, err := s.atomKey(l, f.ExactAtom)
		s.rec.forgets = append(s.rec.forgets, key)
		return err
	default:
		g, err := records.Decode[records.Gone](l)
		if err != nil {
			return err
		}
		key, err := s.atomKey(l, g.ExactAtom)
		if !g.GoneSince.IsZero() {
			s.rec.gones[key] = g.GoneSince.UTC()
		}
		return err
	}
}

// atomKey is the inventory key of a record's atom.
func (s *state) atomKey(l records.Line, exact func() (string, error)) (string, error) {
	k, err := exact()
	if err != nil {
		return "", l.Errorf(s.name, "%v", err)
	}
	return inventory.KeyOf(k), nil
}

// settle makes the changes that wait for the end of the stream: kept,
// gone and forgotten atoms (the last two only with the plan's summary, so
// a plan cut short forgets nothing), sources, pending atoms, next_bag and
// retired bags.
func (s *state) settle() {
	now := s.opts.Now
	s.sum.AtomsKept = keep(s.inv, s.rec.keeps, s.done, now)
	planDirty := -1
	if s.rec.planSeen {
		markGone(s.inv, s.rec.gones)
		s.sum.AtomsForgotten = forget(s.inv, s.rec.forgets, s.rec.sources)
		planDirty = s.rec.planDirty
	}
	updateSources(s.inv, s.rec.sources, now)
	s.sum.AtomsPending = pending(s.plannedBags(), s.done, planDirty, s.sum.AtomsPacked)
	advanceNextBag(s.inv, s.spent, s.maxID, s.opts.DryRun)
	s.sum.BagsRetired = stampRetired(s.inv, now)
}

// plannedBags are the plan's bags in plan order.
func (s *state) plannedBags() []*plannedBag {
	bags := make([]*plannedBag, len(s.order))
	for i, id := range s.order {
		bags[i] = s.bags[id]
	}
	return bags
}

// removeFailedStaging deletes what gb-pack left of the bags that failed to
// upload. A failed bag's id is spent: its staged copy or local manifest
// would only mislead (find, a later bag of the same name). A bag that
// never reached gb-put keeps its id and its staged copy: the next run
// plans it again and gb-pack reuses it.
func (s *state) removeFailedStaging() {
	for _, b := range s.plannedBags() {
		if b.uploaded || !b.failed {
			continue
		}
		for _, f := range []string{b.staged, b.manifest} {
			if f != "" {
				os.Remove(f)
			}
		}
	}
}

// finish writes the summary record, and the summary line unless the run
// failed (its error is the one line said), and returns what the run
// amounts to.
func (s *state) finish(w *records.Writer, errOut io.Writer) error {
	result := s.result()
	s.sum.Outcome, s.summed = records.OutcomeOf(result), true
	if err := w.Write(s.sum); err != nil {
		return err
	}
	if result == nil || errors.Is(result, records.ErrWarnings) {
		fmt.Fprintf(errOut, "gb-commit: %d bags committed (%s), %d atoms packed, %d kept, %d forgotten, %d pending; %s\n",
			s.sum.BagsCommitted, cost.Bytes(s.sum.BytesCommitted), s.sum.AtomsPacked, s.sum.AtomsKept, s.sum.AtomsForgotten, s.sum.AtomsPending, s.what())
	}
	return result
}

// result is how the commit ends: failed, quietly, when a stage before it
// failed (it said why); else failed when bags failed or the plan never
// came. Every error says what was done, and only that.
func (s *state) result() error {
	if err := s.up.Err(fmt.Sprintf("%d uploaded bags committed, %s", s.sum.BagsCommitted, s.what())); err != nil {
		return err
	}
	if !s.rec.planSeen {
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

// plannedOf is a planned bag with its atoms under their inventory keys.
func plannedOf(rec records.Bag) (*plannedBag, error) {
	b := &plannedBag{id: rec.ID, key: rec.Key, source: rec.Source, compress: rec.Compress, files: rec.Files, incomplete: map[string]bool{},
		encrypt: rec.Encrypt, keys: rec.Keys}
	if _, err := inventory.ParseBagID(b.id); err != nil {
		return nil, err
	}
	if b.key == "" || b.source == "" {
		return nil, fmt.Errorf("bag %s needs key and source", b.id)
	}
	for _, a := range rec.Atoms {
		k, err := a.ExactAtom()
		if err != nil {
			return nil, fmt.Errorf("bag %s: %v", b.id, err)
		}
		if a.Hash == "" {
			return nil, fmt.Errorf("bag %s: atom %s has no hash", b.id, k)
		}
		pa := plannedAtom{key: inventory.KeyOf(k), typ: a.Type, hash: a.Hash, files: a.Files, bytes: a.Bytes, part: a.Part, parts: a.Parts}
		if pa.parts == 0 {
			pa.part, pa.parts = 1, 1
		}
		b.atoms = append(b.atoms, pa)
	}
	return b, nil
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
	prefix := layout.SystemDir(s.opts.Now.Year())
	var ks *keys.Keys
	if s.inv.UsesEncryption() {
		rf, _ := st.SideFile(st.RecipientsFile, "recipients.txt", s.rec.listFile)
		kf, _ := st.SideFile(st.KeyFile, "key.txt", s.rec.listFile)
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
		{"list.txt", s.rec.listFile, true},
		{"exclude.txt", s.rec.exclFile, true},
		{"encrypt.txt", s.rec.encFile, true},
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
		key, other := path.Join(prefix, f.name), path.Join(prefix, layout.Seal(f.name))
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
