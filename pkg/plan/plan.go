// Package plan is the gb-plan stage: it compares scan records with the
// inventory and decides what to keep, what to pack into which new bag,
// what to forget and which bags lose their last reference, with the cost
// of it all.
package plan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
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
	"github.com/tidwall/gjson"
)

// Options configure a plan.
type Options struct {
	Settings *config.Settings
	Now      time.Time
	Input    string // name of the input for errors ("stdin")

	// Operations (the seed's): each packs again atoms that did not change.
	ResetSources      []string // forget these sources' atoms; a listed source is packed afresh
	ResetBags         []string // pack these bags' atoms again (a source's small bags are consolidated)
	Repack            bool     // pack everything again, pinned atoms excepted
	RepackUnderfilled float64  // pack again the atoms of bags filled below this percent of the target
	// AllowEarly lets an operation leave bags younger than
	// min_retention_days unreferenced, which costs their remaining days.
	AllowEarly bool
}

// BagAtom is an atom, or one part of a split atom, inside a bag.
type BagAtom struct {
	Atom    string `json:"atom"`
	AtomB64 string `json:"atom_b64,omitempty"`
	Path    string `json:"path"`
	PathB64 string `json:"path_b64,omitempty"`
	Type    string `json:"type"`
	Hash    string `json:"hash"`
	Files   int64  `json:"files"`
	Bytes   int64  `json:"bytes"`
	// Split atoms: this bag holds part Part of Parts, the entries from
	// From (inclusive) to To (exclusive; "" for the last part) in
	// canonical walk order.
	Part    int    `json:"part,omitempty"`
	Parts   int    `json:"parts,omitempty"`
	From    string `json:"from,omitempty"`
	FromB64 string `json:"from_b64,omitempty"`
	To      string `json:"to,omitempty"`
	ToB64   string `json:"to_b64,omitempty"`
}

// BagRecord is a new bag to pack and upload.
type BagRecord struct {
	Kind     string    `json:"kind"`
	ID       string    `json:"id"`
	Key      string    `json:"key"`
	Source   string    `json:"source"`
	Mode     string    `json:"mode"`
	Label    string    `json:"label"`
	Compress string    `json:"compress"`
	Encrypt  bool      `json:"encrypt"`
	Keys     string    `json:"keys,omitempty"` // the keys' ID when encrypted (see docs/records.md)
	Excludes []string  `json:"excludes"`
	Files    int64     `json:"files"`
	Bytes    int64     `json:"bytes"`
	Atoms    []BagAtom `json:"atoms"`
}

// Keep is an unchanged atom.
type Keep struct {
	Kind    string   `json:"kind"`
	Atom    string   `json:"atom"`
	AtomB64 string   `json:"atom_b64,omitempty"`
	Source  string   `json:"source"`
	Hash    string   `json:"hash"`
	Bags    []string `json:"bags"`
}

// Forget is an atom gone from disk.
type Forget struct {
	Kind    string   `json:"kind"`
	Atom    string   `json:"atom"`
	AtomB64 string   `json:"atom_b64,omitempty"`
	Source  string   `json:"source"`
	Bags    []string `json:"bags"`
	Reason  string   `json:"reason"`
}

// Retire is a bag that this plan leaves no longer fully referenced.
type Retire struct {
	Kind       string    `json:"kind"`
	Bag        string    `json:"bag"`
	Key        string    `json:"key"`
	Reason     string    `json:"reason"` // unreferenced | partly-superseded
	AtomsLeft  int       `json:"atoms_left"`
	Bytes      int64     `json:"bytes"`
	UploadedAt time.Time `json:"uploaded_at"`
	AgeDays    float64   `json:"age_days"`
	// What deleting it now would cost; prune waits until it is free.
	EarlyDeletionFee float64 `json:"early_deletion_fee_usd"`
}

// Summary is the plan's last record.
type Summary struct {
	Kind string `json:"kind"`
	records.Outcome
	At               time.Time `json:"at"`
	Year             int       `json:"year"`
	TargetBytes      int64     `json:"target_bytes"`
	AtomsNew         int       `json:"atoms_new"`
	AtomsChanged     int       `json:"atoms_changed"`
	AtomsKept        int       `json:"atoms_kept"`
	AtomsForgotten   int       `json:"atoms_forgotten"`
	Bags             int       `json:"bags"`
	Files            int64     `json:"files"`
	Bytes            int64     `json:"bytes"`
	PutRequests      int       `json:"put_requests"`
	UploadCost       float64   `json:"upload_cost_usd"`
	MonthlyAdded     float64   `json:"monthly_storage_added_usd"`
	MonthlyTotal     float64   `json:"monthly_storage_total_usd"`
	BagsRetired      int       `json:"bags_retired"`
	RetiredBytes     int64     `json:"retired_bytes"`
	EarlyDeletionFee float64   `json:"early_deletion_fees_if_deleted_now_usd"`
	AtomsRepacked    int       `json:"atoms_repacked"` // unchanged atoms an operation packs again
	AtomsGone        int       `json:"atoms_gone"`     // gone from disk, kept for keep_deleted_days
	KeepDeletedDays  float64   `json:"keep_deleted_days"`
	Operations       []string  `json:"operations,omitempty"`
	OperationBytes   int64     `json:"operation_bytes"`    // bytes packed again because of the operations
	OperationFees    float64   `json:"operation_fees_usd"` // remaining minimum storage of young bags the operations leave unreferenced
	OperationYoung   []string  `json:"operation_young_bags,omitempty"`
	// Bags this plan leaves unreferenced while younger than
	// min_retention_days (their remaining days are early_deletion_fees…),
	// and when the last of them may be deleted free.
	YoungRetired  []string  `json:"young_retired_bags,omitempty"`
	YoungFreeFrom time.Time `json:"young_retired_free_from,omitzero"`
	FirstBag      string    `json:"first_bag,omitempty"`
	NextBag       int       `json:"next_bag"`
	NothingToDo   bool      `json:"nothing_to_do"`
}

type atomIn struct {
	key, keyB64   string // display forms
	exact         string // exact atom key bytes
	path, pathB64 string
	typ, mode     string
	source        string
	hash          string
	files, bytes  int64
	parts         []partIn
	encrypt       bool
	keys          string
}

type partIn struct {
	from, fromB64 string
	files, bytes  int64
}

// Run reads scan records from in and writes the plan to out.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) (err error) {
	st := opts.Settings
	// On failure too the summary ends the output, and only it.
	sum, written := Summary{Kind: records.KindPlan}, false
	defer func() { err = records.Finish(out, err, written, &sum) }()
	up := records.NewUpstream("gb-scan", records.KindScan)
	inv, err := inventory.Load(st.InventoryFile)
	if err != nil {
		return err
	}
	name := opts.Input
	if name == "" {
		name = "stdin"
	}
	// Operations naming what the inventory lacks stop before any input is
	// read.
	ops, err := operationAtoms(inv, opts, st.TargetBytes())
	if err != nil {
		return err
	}
	w := records.NewWriter(out)
	// Records passed through wait until the plan is decided: a refused
	// plan writes nothing at all.
	var passed bytes.Buffer
	pw := records.NewWriter(&passed)
	r := records.NewReader(in, name)
	var atoms []atomIn
	sources := map[string]string{} // location -> mode
	excludes := map[string][]string{}
	unreachable := map[string]string{}
	var sourceOrder []string
	complete := false
	seen := map[string]int{}
	err = r.Each(func(l records.Line) error {
		switch l.Kind {
		case records.KindSource:
			src := l.Get("source").String()
			if e := l.Get("error").String(); e != "" {
				// A remote source gb-scan could not read: nothing is
				// known of it this run, so its atoms are kept as they
				// are, like those of a source not listed.
				unreachable[src] = e
				return pw.WriteRaw(l.Raw)
			}
			if _, ok := sources[src]; !ok {
				sourceOrder = append(sourceOrder, src)
			}
			sources[src] = l.Get("mode").String()
			excludes[src] = []string{}
			for _, x := range l.Get("excludes").Array() {
				excludes[src] = append(excludes[src], x.String())
			}
			if err := pw.WriteRaw(l.Raw); err != nil {
				return err
			}
		case records.KindAtom:
			a, err := parseAtom(l, name)
			if err != nil {
				return err
			}
			if prev, dup := seen[a.exact]; dup {
				return l.Errorf(name, "atom %s already appeared on line %d", a.key, prev)
			}
			seen[a.exact] = l.No
			if _, ok := sources[a.source]; !ok {
				return l.Errorf(name, "atom %s names source %s, which no source record introduced", a.key, a.source)
			}
			atoms = append(atoms, a)
		case records.KindScan:
			if up.Note(l); up.Failed() {
				return up.Err("")
			}
			if !l.Get("complete").Bool() {
				return l.Errorf(name, "the scan summary says the scan did not complete")
			}
			complete = true
			// Passed on, so that the end of the pipe holds every stage's summary.
			return pw.WriteRaw(l.Raw)
		default:
			if err := pw.WriteRaw(l.Raw); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	if !complete {
		return up.Err("nothing was planned")
	}

	prices := st.Prices()
	now := opts.Now
	sum = Summary{Kind: records.KindPlan, At: now, Year: now.Year(), TargetBytes: st.TargetBytes(), KeepDeletedDays: st.KeepDeletedDays}
	next := inv.NextBag
	sum.Operations = ops.names
	dirtyBySource := map[string][]atomIn{}
	seenKeys := map[string]bool{}
	// Which bags each planned change takes a reference away from, and
	// which of those references an operation (not a change on disk) takes.
	lost, opLost := map[string]int{}, map[string]int{}
	reencrypted := 0
	var keeps []Keep
	for _, a := range atoms {
		ik := inventory.KeyOf(a.exact)
		seenKeys[ik] = true
		old := inv.Atoms[ik]
		if old != nil && ops.reset[ik] != "" && !dirty(old, a, inv) {
			sum.AtomsRepacked++
			sum.OperationBytes += a.bytes
			for _, id := range old.Bags {
				lost[id]++
				opLost[id]++
			}
			dirtyBySource[a.source] = append(dirtyBySource[a.source], a)
			continue
		}
		if old != nil && !dirty(old, a, inv) {
			sum.AtomsKept++
			keeps = append(keeps, Keep{Kind: records.KindKeep, Atom: a.key, AtomB64: a.keyB64, Source: a.source, Hash: a.hash, Bags: old.Bags})
			continue
		}
		if old == nil {
			sum.AtomsNew++
		} else {
			if old.LastMetadataHash == a.hash && reencrypt(old, a) {
				reencrypted++
			}
			sum.AtomsChanged++
			for _, id := range old.Bags {
				lost[id]++
			}
		}
		dirtyBySource[a.source] = append(dirtyBySource[a.source], a)
	}
	// Atoms of scanned sources that the scan did not see are gone from
	// disk: kept (with their bags) for keep_deleted_days after the first
	// run that missed them, so an accidental delete does not reach the
	// archive even with a yearly cadence, then forgotten. Atoms of a reset source go at once. In key order, so the
	// same inputs always give the same plan.
	atomKeys := slices.Sorted(maps.Keys(inv.Atoms))
	var forgets []Forget
	var gones []Gone
	grace := time.Duration(st.KeepDeletedDays * 24 * float64(time.Hour))
	for _, k := range atomKeys {
		a := inv.Atoms[k]
		_, scanned := sources[a.Source]
		if seenKeys[k] || (!scanned && ops.reset[k] != ResetSource) {
			continue
		}
		d, b := records.EncodePath(inventory.PathOf(k))
		since := a.GoneSince
		if since.IsZero() {
			since = now
		}
		switch {
		case ops.reset[k] == ResetSource:
			forgets = append(forgets, Forget{Kind: records.KindForget, Atom: d, AtomB64: b, Source: a.Source, Bags: a.Bags, Reason: "source reset"})
		case now.Sub(since) < grace:
			if r := ops.reset[k]; r != "" {
				fmt.Fprintf(errOut, "gb-plan: warning: %s is gone from disk, so --%s cannot pack it again; its bags keep it\n", d, r)
			}
			sum.AtomsGone++
			gones = append(gones, Gone{Kind: records.KindGone, Atom: d, AtomB64: b, Source: a.Source, Bags: a.Bags, LastSeen: a.LastSeen,
				GoneSince: since, ForgetAfter: since.Add(grace)})
			continue
		default:
			forgets = append(forgets, Forget{Kind: records.KindForget, Atom: d, AtomB64: b, Source: a.Source, Bags: a.Bags,
				Reason: fmt.Sprintf("gone from disk since %s (keep_deleted_days = %g)", since.UTC().Format("2006-01-02"), st.KeepDeletedDays)})
		}
		sum.AtomsForgotten++
		for _, id := range a.Bags {
			lost[id]++
			if ops.reset[k] == ResetSource {
				opLost[id]++
			}
		}
	}
	// What the operations cost on top of the upload: the bags they leave
	// unreferenced while younger than min_retention_days are billed until
	// then, deleted or not. Checked before anything is written, so a
	// refused plan leaves no half plan behind.
	refs := map[string]int{}
	for _, a := range inv.Atoms {
		for _, id := range a.Bags {
			refs[id]++
		}
	}
	var opYoung []string
	minAge := time.Duration(prices.MinRetentionDays * 24 * float64(time.Hour))
	for id := range opLost {
		bg := inv.Bags[id]
		if bg == nil || refs[id]-lost[id] > 0 || now.Sub(bg.UploadedAt) >= minAge {
			continue
		}
		sum.OperationFees += prices.EarlyDeletionFee(bg.Bytes, bg.UploadedAt, now)
		opYoung = append(opYoung, id)
	}
	sort.Strings(opYoung)
	sum.OperationYoung = opYoung
	sum.OperationFees = cost.Round(sum.OperationFees)
	if len(opYoung) > 0 && !opts.AllowEarly {
		return &config.Error{Msg: fmt.Sprintf("%s would leave %d bags younger than %g days unreferenced (%s): they are billed until then either way, %s in all",
			strings.Join(ops.names, " "), len(opYoung), prices.MinRetentionDays, strings.Join(opYoung, ", "), cost.USD(sum.OperationFees)),
			Hint: "wait until they are older, leave them out, or add --allow-early to pay for it"}
	}
	for line := range bytes.Lines(passed.Bytes()) {
		if err := w.WriteRaw(bytes.TrimSuffix(line, []byte("\n"))); err != nil {
			return err
		}
	}
	for _, k := range keeps {
		if err := w.Write(k); err != nil {
			return err
		}
	}
	for _, g := range gones {
		if err := w.Write(g); err != nil {
			return err
		}
	}
	for _, f := range forgets {
		if err := w.Write(f); err != nil {
			return err
		}
	}
	if reencrypted > 0 {
		fmt.Fprintf(errOut, "gb-plan: %d unchanged atoms are packed again because their encryption changed\n", reencrypted)
	}
	// Sources that left list.txt keep their atoms until they are reset.
	unlisted := map[string]int{}
	for k, a := range inv.Atoms {
		if _, scanned := sources[a.Source]; !scanned && ops.reset[k] != ResetSource {
			unlisted[a.Source]++
		}
	}
	for _, src := range slices.Sorted(maps.Keys(unlisted)) {
		n := unlisted[src]
		if _, ok := unreachable[src]; ok {
			fmt.Fprintf(errOut, "gb-plan: warning: %s could not be read this run; its %d atoms and their bags are kept as last backed up\n", src, n)
			continue
		}
		fmt.Fprintf(errOut, "gb-plan: warning: %s is in the inventory (%d atoms) but not in the source list; its atoms and bags are kept (gb-plan --reset-source %s drops them)\n", src, n, src)
	}

	zstd := st.Compress == "zstd"
	var monthlyAdded float64
	for _, src := range sourceOrder {
		dirty := dirtyBySource[src]
		if len(dirty) == 0 {
			continue
		}
		label := Label(src)
		// Encrypted and plain atoms never share a bag.
		var plain, sealed []atomIn
		for _, a := range dirty {
			if a.encrypt {
				sealed = append(sealed, a)
			} else {
				plain = append(plain, a)
			}
		}
		var bags [][]BagAtom
		var keysOf []string
		for _, group := range [][]atomIn{plain, sealed} {
			for _, b := range Pack(group, sources[src] == config.Immutable, st.TargetBytes()) {
				bags = append(bags, b)
				keysOf = append(keysOf, group[0].keys)
			}
		}
		for i, b := range bags {
			id := inventory.BagID(next)
			next++
			if sum.FirstBag == "" {
				sum.FirstBag = id
			}
			rec := BagRecord{Kind: records.KindBag, ID: id, Key: layout.BagKey(now.Year(), label, id, zstd, false),
				Source: src, Mode: sources[src], Label: label, Compress: st.Compress, Excludes: excludes[src], Atoms: b}
			if keysOf[i] != "" {
				// The key names no source: a directory's name can say as
				// much as its files.
				rec.Encrypt, rec.Keys = true, keysOf[i]
				rec.Key = layout.BagKey(now.Year(), EncryptedLabel, id, zstd, true)
			}
			for _, ba := range b {
				rec.Files += ba.Files
				rec.Bytes += ba.Bytes
			}
			sum.Bags++
			sum.Files += rec.Files
			sum.Bytes += rec.Bytes
			sum.PutRequests += cost.PutRequests(rec.Bytes) + 1 // the bag and its manifest
			monthlyAdded += prices.StorageMonth(rec.Bytes, 1)
			if err := w.Write(rec); err != nil {
				return err
			}
		}
	}
	if sum.Bags > 0 {
		sum.PutRequests += 5 // system/: inventory, config, list, excludes, RECOVERY.md
	}
	var monthlyKept float64
	for _, id := range inv.SortedBagIDs() {
		bg := inv.Bags[id]
		left := refs[id] - lost[id]
		// Every bag in the inventory is still stored (and billed) until
		// it is pruned, referenced or not.
		monthlyKept += prices.StorageMonth(bg.Bytes, 1)
		if lost[id] == 0 {
			continue
		}
		ret := Retire{Kind: records.KindRetire, Bag: id, Key: bg.Key, AtomsLeft: left, Bytes: bg.Bytes, UploadedAt: bg.UploadedAt,
			AgeDays: float64(int(now.Sub(bg.UploadedAt).Hours()/24*10)) / 10}
		if left == 0 {
			ret.Reason = "unreferenced"
			ret.EarlyDeletionFee = cost.Round(prices.EarlyDeletionFee(bg.Bytes, bg.UploadedAt, now))
			sum.BagsRetired++
			sum.RetiredBytes += bg.Bytes
			sum.EarlyDeletionFee += ret.EarlyDeletionFee
			if now.Sub(bg.UploadedAt) < minAge {
				// A run sooner than min_retention_days after the last one:
				// these bags are billed until they may be deleted free.
				sum.YoungRetired = append(sum.YoungRetired, id)
				if free := bg.UploadedAt.Add(minAge); free.After(sum.YoungFreeFrom) {
					sum.YoungFreeFrom = free
				}
			}
		} else {
			ret.Reason = "partly-superseded"
		}
		if err := w.Write(ret); err != nil {
			return err
		}
	}
	sum.UploadCost = cost.Round(prices.Puts(sum.PutRequests))
	sum.MonthlyAdded = cost.Round(monthlyAdded)
	sum.MonthlyTotal = cost.Round(monthlyAdded + monthlyKept)
	sum.EarlyDeletionFee = cost.Round(sum.EarlyDeletionFee)
	sum.NextBag = next
	sum.NothingToDo = sum.Bags == 0 && sum.AtomsForgotten == 0
	sum.Outcome, written = records.OutcomeOf(nil), true
	if err := w.Write(sum); err != nil {
		return err
	}
	fmt.Fprintln(errOut, "gb-plan: "+sum.Human())
	return w.Err()
}

// Human is the plan in one line for people and cron logs.
func (s Summary) Human() string {
	if s.NothingToDo {
		gone := ""
		if s.AtomsGone > 0 {
			gone = fmt.Sprintf(", %d gone from disk (kept with their bags for keep_deleted_days = %g)", s.AtomsGone, s.KeepDeletedDays)
		}
		return fmt.Sprintf("nothing to do: %d atoms unchanged%s, nothing to upload; storage %s/month", s.AtomsKept, gone, cost.USD(s.MonthlyTotal))
	}
	msg := fmt.Sprintf("%d new, %d changed, %d unchanged, %d gone atoms", s.AtomsNew, s.AtomsChanged, s.AtomsKept, s.AtomsForgotten+s.AtomsGone)
	if s.AtomsGone > 0 {
		msg += fmt.Sprintf(" (%d kept with their bags for keep_deleted_days = %g, %d forgotten)", s.AtomsGone, s.KeepDeletedDays, s.AtomsForgotten)
	}
	if s.AtomsRepacked > 0 {
		msg += fmt.Sprintf("; %d unchanged atoms packed again (%s) by %s", s.AtomsRepacked, cost.Bytes(s.OperationBytes), strings.Join(s.Operations, " "))
		if len(s.OperationYoung) > 0 {
			msg += fmt.Sprintf(", leaving %d bags younger than the minimum storage period billed %s more", len(s.OperationYoung), cost.USD(s.OperationFees))
		}
	}
	msg += fmt.Sprintf("; %d bags to upload (%s, %d files), %d PUT requests (%s); storage +%s/month, %s/month in all",
		s.Bags, cost.Bytes(s.Bytes), s.Files, s.PutRequests, cost.USD(s.UploadCost), cost.USD(s.MonthlyAdded), cost.USD(s.MonthlyTotal))
	if s.BagsRetired > 0 {
		msg += fmt.Sprintf("; %d bags (%s) no longer referenced", s.BagsRetired, cost.Bytes(s.RetiredBytes))
		if len(s.YoungRetired) > 0 {
			msg += fmt.Sprintf(", %d of them younger than the minimum storage period (%s): kept until %s, %s until then",
				len(s.YoungRetired), strings.Join(s.YoungRetired, " "), s.YoungFreeFrom.UTC().Format("2006-01-02"), cost.USD(s.EarlyDeletionFee))
		}
	}
	return msg
}

// EncryptedLabel starts the key of every encrypted bag in place of the
// source's label.
const EncryptedLabel = "encrypted"

// dirty reports whether an atom must be packed again.
func dirty(old *inventory.Atom, a atomIn, inv *inventory.Inventory) bool {
	if old.LastMetadataHash != a.hash || old.Incomplete || old.Type != a.typ || len(old.Bags) == 0 {
		return true
	}
	if reencrypt(old, a) {
		return true
	}
	for _, id := range old.Bags {
		if inv.Bags[id] == nil {
			return true
		}
	}
	return false
}

// reencrypt reports whether the atom's encryption changed: tagged or
// untagged, or other keys. Its bags then hold it the wrong way.
func reencrypt(old *inventory.Atom, a atomIn) bool {
	return old.Encrypt != a.encrypt || (a.encrypt && old.Keys != a.keys)
}

func parseAtom(l records.Line, name string) (atomIn, error) {
	var a atomIn
	var err error
	if a.exact, err = l.PathField("atom"); err != nil {
		return a, l.Errorf(name, "atom: %v", err)
	}
	a.key, a.keyB64 = l.Get("atom").String(), l.Get("atom_b64").String()
	a.path, a.pathB64 = l.Get("path").String(), l.Get("path_b64").String()
	a.typ, a.mode, a.source, a.hash = l.Get("type").String(), l.Get("mode").String(), l.Get("source").String(), l.Get("hash").String()
	a.files, a.bytes = l.Get("files").Int(), l.Get("bytes").Int()
	if a.key == "" || a.path == "" || a.source == "" || a.hash == "" {
		return a, l.Errorf(name, "atom record needs atom, path, source and hash")
	}
	switch a.typ {
	case "dir", "loose", "tree":
	default:
		return a, l.Errorf(name, "atom %s has unknown type %q", a.key, a.typ)
	}
	a.encrypt, a.keys = l.Get("encrypt").Bool(), l.Get("keys").String()
	if a.encrypt && a.keys == "" {
		return a, l.Errorf(name, "atom %s asks for encryption but names no keys; refusing to plan it", a.key)
	}
	var perr error
	l.Get("parts").ForEach(func(_, p gjson.Result) bool {
		if _, err := records.ResultPath(p, "from"); err != nil {
			perr = err
			return false
		}
		a.parts = append(a.parts, partIn{from: p.Get("from").String(), fromB64: p.Get("from_b64").String(), files: p.Get("files").Int(), bytes: p.Get("bytes").Int()})
		return true
	})
	if perr != nil {
		return a, l.Errorf(name, "atom %s: bad part: %v", a.key, perr)
	}
	return a, nil
}

// Pack groups the dirty atoms of one source into bags: atoms in scan order
// fill the open bag until the next would pass the target; an atom that was
// split gets one bag per part, emitted as it comes while the open bag keeps
// filling, so small atoms on both sides of it share bags (fewer objects,
// fewer requests); an IMMUTABLE atom never shares.
func Pack(atoms []atomIn, immutable bool, target int64) [][]BagAtom {
	var bags [][]BagAtom
	var cur []BagAtom
	var curBytes int64
	flush := func() {
		if len(cur) > 0 {
			bags = append(bags, cur)
			cur, curBytes = nil, 0
		}
	}
	for _, a := range atoms {
		base := BagAtom{Atom: a.key, AtomB64: a.keyB64, Path: a.path, PathB64: a.pathB64, Type: a.typ, Hash: a.hash, Files: a.files, Bytes: a.bytes}
		if len(a.parts) > 1 {
			for i, p := range a.parts {
				ba := base
				ba.Part, ba.Parts = i+1, len(a.parts)
				ba.Files, ba.Bytes = p.files, p.bytes
				ba.From, ba.FromB64 = p.from, p.fromB64
				if i+1 < len(a.parts) {
					ba.To, ba.ToB64 = a.parts[i+1].from, a.parts[i+1].fromB64
				}
				bags = append(bags, []BagAtom{ba})
			}
			continue
		}
		if immutable {
			bags = append(bags, []BagAtom{base})
			continue
		}
		if len(cur) > 0 && curBytes+a.bytes > target {
			flush()
		}
		cur = append(cur, base)
		curBytes += a.bytes
	}
	flush()
	return bags
}

// Label names a source inside bag keys: its location with "/" as "-" and
// anything outside [A-Za-z0-9._-] as "_"; a label that had to be changed
// or shortened ends in a short hash of the location. Labels are for
// people; two sources may share one ("/a-b" and "/a/b"), and keys stay
// unique through the bag id.
func Label(location string) string {
	var b strings.Builder
	changed := false
	for _, c := range []byte(strings.Trim(location, "/")) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
			b.WriteByte(c)
		case c == '/':
			b.WriteByte('-')
		default:
			b.WriteByte('_')
			changed = true
		}
	}
	s := b.String()
	if s == "" {
		s, changed = "root", true
	}
	if len(s) > 60 {
		s, changed = s[:60], true
	}
	if changed {
		h := sha256.Sum256([]byte(location))
		s += "-" + hex.EncodeToString(h[:3])
	}
	return s
}
