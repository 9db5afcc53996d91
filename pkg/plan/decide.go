package plan

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/records"
)

// Input is what the plan is decided from: the scan's records, read and
// checked by Run.
type Input struct {
	// Sources the scan read, in the order their first record came.
	Sources []SourceIn
	// Unreachable holds the sources the scan could not read, with why:
	// nothing is known of them this run, so their atoms are kept.
	Unreachable map[string]string
	// Atoms in scan order; each names a source of Sources.
	Atoms []records.Atom
}

// SourceIn is a source the scan read.
type SourceIn struct {
	Location string
	Mode     string
	Excludes []string
}

// Plan is the decision: the records gb-plan writes, in this order after
// the records it passes through, and what it says on stderr.
type Plan struct {
	Keeps   []records.Keep
	Gones   []records.Gone
	Forgets []records.Forget
	Bags    []records.Bag
	Retires []records.Retire
	Summary records.PlanSummary
	// Notes are the lines for stderr before the summary's (warnings, and
	// why unchanged atoms are packed again), in order.
	Notes []string
}

// decision is the state shared by the steps of Decide.
type decision struct {
	inv    *inventory.Inventory
	st     *config.Settings
	prices cost.Prices
	now    time.Time
	ops    operations
	in     Input
	modes  map[string]string // scanned source -> mode
	plan   Plan

	dirtyBySource map[string][]records.Atom
	seen          map[string]bool // inventory keys the scan saw
	// Which bags each planned change takes a reference away from, and
	// which of those references an operation (not a change on disk) takes.
	lost, opLost map[string]int
	refs         map[string]int // references each bag has in the inventory
	reencrypted  int
	monthlyAdded float64 // storage of the new bags, unrounded
}

// Decide works out the plan from the scan, the inventory and the
// operations, as of now. It reads nothing and writes nothing: the same
// arguments always give the same plan. A refused plan is an error (a
// *config.Error for operations that name what the inventory lacks or would
// cost early-deletion fees without AllowEarly).
func Decide(in Input, inv *inventory.Inventory, opts Options, now time.Time) (Plan, error) {
	st := opts.Settings
	ops, err := operationAtoms(inv, opts, st.TargetBytes())
	if err != nil {
		return Plan{}, err
	}
	d := &decision{inv: inv, st: st, prices: st.Prices(), now: now, ops: ops, in: in, modes: map[string]string{},
		dirtyBySource: map[string][]records.Atom{}, seen: map[string]bool{}, lost: map[string]int{}, opLost: map[string]int{}, refs: map[string]int{}}
	for _, s := range in.Sources {
		d.modes[s.Location] = s.Mode
	}
	for _, a := range inv.Atoms {
		for _, id := range a.Bags {
			d.refs[id]++
		}
	}
	d.plan.Summary = records.PlanSummary{Kind: records.KindPlan, At: now, Year: now.Year(), TargetBytes: st.TargetBytes(), KeepDeletedDays: st.KeepDeletedDays,
		Operations: ops.names}
	if err := d.classify(); err != nil {
		return Plan{}, err
	}
	d.missing()
	if err := d.operationCost(opts.AllowEarly); err != nil {
		return Plan{}, err
	}
	if d.reencrypted > 0 {
		d.note("gb-plan: %d unchanged atoms are packed again because their encryption changed", d.reencrypted)
	}
	d.unlisted()
	d.newBags()
	d.retire()
	return d.plan, nil
}

func (d *decision) note(format string, args ...any) {
	d.plan.Notes = append(d.plan.Notes, fmt.Sprintf(format, args...))
}

// classify sorts the scanned atoms into kept, packed again by an
// operation, new and changed.
func (d *decision) classify() error {
	sum := &d.plan.Summary
	for _, a := range d.in.Atoms {
		exact, err := a.ExactKey()
		if err != nil {
			return fmt.Errorf("atom %s: %w", a.Key, err)
		}
		ik := inventory.KeyOf(exact)
		d.seen[ik] = true
		old := d.inv.Atoms[ik]
		switch {
		case old != nil && d.ops.reset[ik] != "" && !dirty(old, a, d.inv):
			sum.AtomsRepacked++
			sum.OperationBytes += a.Bytes
			for _, id := range old.Bags {
				d.lost[id]++
				d.opLost[id]++
			}
		case old != nil && !dirty(old, a, d.inv):
			sum.AtomsKept++
			d.plan.Keeps = append(d.plan.Keeps, records.Keep{Kind: records.KindKeep, Atom: a.Key, AtomB64: a.KeyB64, Source: a.Source, Hash: a.Hash, Bags: old.Bags})
			continue
		case old == nil:
			sum.AtomsNew++
		default:
			if old.LastMetadataHash == a.Hash && reencrypt(old, a) {
				d.reencrypted++
			}
			sum.AtomsChanged++
			for _, id := range old.Bags {
				d.lost[id]++
			}
		}
		d.dirtyBySource[a.Source] = append(d.dirtyBySource[a.Source], a)
	}
	return nil
}

// missing handles the inventory atoms of scanned sources that the scan
// did not see: they are gone from disk, and kept (with their bags) for
// keep_deleted_days after the first run that missed them, so an
// accidental delete does not reach the archive even with a yearly
// cadence, then forgotten. Atoms of a reset source go at once. In key
// order, so the same inputs always give the same plan.
func (d *decision) missing() {
	sum := &d.plan.Summary
	grace := time.Duration(d.st.KeepDeletedDays * 24 * float64(time.Hour))
	for _, k := range slices.Sorted(maps.Keys(d.inv.Atoms)) {
		a := d.inv.Atoms[k]
		_, scanned := d.modes[a.Source]
		reset := d.ops.reset[k]
		if d.seen[k] || (!scanned && reset != ResetSource) {
			continue
		}
		disp, b64 := records.EncodePath(inventory.PathOf(k))
		since := a.GoneSince
		if since.IsZero() {
			since = d.now
		}
		switch {
		case reset == ResetSource:
			d.plan.Forgets = append(d.plan.Forgets, records.Forget{Kind: records.KindForget, Atom: disp, AtomB64: b64, Source: a.Source, Bags: a.Bags, Reason: "source reset"})
		case d.now.Sub(since) < grace:
			if reset != "" {
				d.note("gb-plan: warning: %s is gone from disk, so --%s cannot pack it again; its bags keep it", disp, reset)
			}
			sum.AtomsGone++
			d.plan.Gones = append(d.plan.Gones, records.Gone{Kind: records.KindGone, Atom: disp, AtomB64: b64, Source: a.Source, Bags: a.Bags, LastSeen: a.LastSeen,
				GoneSince: since, ForgetAfter: since.Add(grace)})
			continue
		default:
			d.plan.Forgets = append(d.plan.Forgets, records.Forget{Kind: records.KindForget, Atom: disp, AtomB64: b64, Source: a.Source, Bags: a.Bags,
				Reason: fmt.Sprintf("gone from disk since %s (keep_deleted_days = %g)", since.UTC().Format("2006-01-02"), d.st.KeepDeletedDays)})
		}
		sum.AtomsForgotten++
		for _, id := range a.Bags {
			d.lost[id]++
			if reset == ResetSource {
				d.opLost[id]++
			}
		}
	}
}

// minAge is min_retention_days as a duration.
func (d *decision) minAge() time.Duration {
	return time.Duration(d.prices.MinRetentionDays * 24 * float64(time.Hour))
}

// operationCost works out what the operations cost on top of the upload:
// the bags they leave unreferenced while younger than min_retention_days
// are billed until then, deleted or not. Without allowEarly such a plan is
// refused.
func (d *decision) operationCost(allowEarly bool) error {
	sum := &d.plan.Summary
	var young []string
	for id := range d.opLost {
		bg := d.inv.Bags[id]
		if bg == nil || d.refs[id]-d.lost[id] > 0 || d.now.Sub(bg.UploadedAt) >= d.minAge() {
			continue
		}
		sum.OperationFees += d.prices.EarlyDeletionFee(bg.Bytes, bg.UploadedAt, d.now)
		young = append(young, id)
	}
	sort.Strings(young)
	sum.OperationYoung = young
	sum.OperationFees = cost.Round(sum.OperationFees)
	if len(young) > 0 && !allowEarly {
		return &config.Error{Msg: fmt.Sprintf("%s would leave %d bags younger than %g days unreferenced (%s): they are billed until then either way, %s in all",
			strings.Join(d.ops.names, " "), len(young), d.prices.MinRetentionDays, strings.Join(young, ", "), cost.USD(sum.OperationFees)),
			Hint: "wait until they are older, leave them out, or add --allow-early to pay for it"}
	}
	return nil
}

// unlisted warns of the sources the inventory has and the scan did not
// read: those that left list.txt keep their atoms until they are reset,
// those the scan could not read keep them as last backed up.
func (d *decision) unlisted() {
	count := map[string]int{}
	for k, a := range d.inv.Atoms {
		if _, scanned := d.modes[a.Source]; !scanned && d.ops.reset[k] != ResetSource {
			count[a.Source]++
		}
	}
	for _, src := range slices.Sorted(maps.Keys(count)) {
		n := count[src]
		if _, ok := d.in.Unreachable[src]; ok {
			d.note("gb-plan: warning: %s could not be read this run; its %d atoms and their bags are kept as last backed up", src, n)
			continue
		}
		d.note("gb-plan: warning: %s is in the inventory (%d atoms) but not in the source list; its atoms and bags are kept (gb-plan --reset-source %s drops them)", src, n, src)
	}
}

// newBags packs each source's dirty atoms into new bags, in source order,
// numbered from the inventory's next_bag.
func (d *decision) newBags() {
	sum := &d.plan.Summary
	next := d.inv.NextBag
	for _, src := range d.in.Sources {
		for _, nb := range sourceBags(d.dirtyBySource[src.Location], src.Mode == config.Immutable, d.st.TargetBytes()) {
			id := inventory.BagID(next)
			next++
			if sum.FirstBag == "" {
				sum.FirstBag = id
			}
			rec := bagRecord(id, src, nb, d.st.Compress, d.now.Year())
			sum.Bags++
			sum.Files += rec.Files
			sum.Bytes += rec.Bytes
			sum.PutRequests += cost.PutRequests(rec.Bytes) + 1 // the bag and its manifest
			d.monthlyAdded += d.prices.StorageMonth(rec.Bytes, 1)
			d.plan.Bags = append(d.plan.Bags, rec)
		}
	}
	if sum.Bags > 0 {
		sum.PutRequests += 5 // system/: inventory, config, list, excludes, RECOVERY.md
	}
	sum.NextBag = next
}

// newBag is one bag's atoms and the keys they are encrypted to ("" for
// plain atoms).
type newBag struct {
	atoms []records.BagAtom
	keys  string
}

// sourceBags packs one source's dirty atoms; encrypted and plain atoms
// never share a bag.
func sourceBags(dirty []records.Atom, immutable bool, target int64) []newBag {
	var plain, sealed []records.Atom
	for _, a := range dirty {
		if a.Encrypt {
			sealed = append(sealed, a)
		} else {
			plain = append(plain, a)
		}
	}
	var bags []newBag
	for _, group := range [][]records.Atom{plain, sealed} {
		for _, b := range Pack(group, immutable, target) {
			bags = append(bags, newBag{atoms: b, keys: group[0].Keys})
		}
	}
	return bags
}

// bagRecord is the record of a new bag.
func bagRecord(id string, src SourceIn, nb newBag, compress string, year int) records.Bag {
	label := Label(src.Location)
	zstd := compress == "zstd"
	rec := records.Bag{Kind: records.KindBag, ID: id, Key: layout.BagKey(year, label, id, zstd, false),
		Source: src.Location, Mode: src.Mode, Label: label, Compress: compress, Excludes: src.Excludes, Atoms: nb.atoms}
	if nb.keys != "" {
		// The key names no source: a directory's name can say as much as
		// its files.
		rec.Encrypt, rec.Keys = true, nb.keys
		rec.Key = layout.BagKey(year, EncryptedLabel, id, zstd, true)
	}
	for _, ba := range nb.atoms {
		rec.Files += ba.Files
		rec.Bytes += ba.Bytes
	}
	return rec
}

// retire lists the bags the plan takes references away from, unreferenced
// or partly superseded, and totals what is stored.
func (d *decision) retire() {
	sum := &d.plan.Summary
	var monthlyKept float64
	for _, id := range d.inv.SortedBagIDs() {
		bg := d.inv.Bags[id]
		left := d.refs[id] - d.lost[id]
		// Every bag in the inventory is still stored (and billed) until
		// it is pruned, referenced or not.
		monthlyKept += d.prices.StorageMonth(bg.Bytes, 1)
		if d.lost[id] == 0 {
			continue
		}
		ret := records.Retire{Kind: records.KindRetire, Bag: id, Key: bg.Key, AtomsLeft: left, Bytes: bg.Bytes, UploadedAt: bg.UploadedAt,
			AgeDays: float64(int(d.now.Sub(bg.UploadedAt).Hours()/24*10)) / 10}
		if left == 0 {
			ret.Reason = "unreferenced"
			ret.EarlyDeletionFee = cost.Round(d.prices.EarlyDeletionFee(bg.Bytes, bg.UploadedAt, d.now))
			sum.BagsRetired++
			sum.RetiredBytes += bg.Bytes
			sum.EarlyDeletionFee += ret.EarlyDeletionFee
			if d.now.Sub(bg.UploadedAt) < d.minAge() {
				// A run sooner than min_retention_days after the last one:
				// these bags are billed until they may be deleted free.
				sum.YoungRetired = append(sum.YoungRetired, id)
				if free := bg.UploadedAt.Add(d.minAge()); free.After(sum.YoungFreeFrom) {
					sum.YoungFreeFrom = free
				}
			}
		} else {
			ret.Reason = "partly-superseded"
		}
		d.plan.Retires = append(d.plan.Retires, ret)
	}
	sum.UploadCost = cost.Round(d.prices.Puts(sum.PutRequests))
	sum.MonthlyAdded = cost.Round(d.monthlyAdded)
	sum.MonthlyTotal = cost.Round(d.monthlyAdded + monthlyKept)
	sum.EarlyDeletionFee = cost.Round(sum.EarlyDeletionFee)
	sum.NothingToDo = sum.Bags == 0 && sum.AtomsForgotten == 0
}
