package report

import (
	"sort"
	"time"

	"github.com/gbarchive/gb/pkg/analysis"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
)

// BuildOptions tune Build.
type BuildOptions struct {
	// ChurnRuns: how many recent runs churn looks at.
	ChurnRuns int
	// ListStore: Objects is the store's listing (else the store was not
	// listed).
	ListStore bool
	Objects   []store.ObjectInfo
}

// Build computes the report of inv at now. hist must already hold inv
// (History.Add) and any daily copies.
func Build(inv *inventory.Inventory, hist *History, p cost.Prices, now time.Time, o BuildOptions) *Report {
	if o.ChurnRuns <= 0 {
		o.ChurnRuns = DefaultChurnRuns
	}
	b := &builder{inv: inv, p: p, now: now, r: &Report{MinRetentionDays: p.MinRetentionDays}, ref: inv.Referenced(), srcs: map[string]*SourceRecord{}}
	sum := &b.r.Summary
	sum.Kind, sum.Status, sum.At, sum.HistoryFiles = KindReport, records.StatusOK, now, len(hist.Files)
	var stored map[string]bool
	if o.ListStore {
		stored = map[string]bool{}
		for _, ob := range o.Objects {
			stored[ob.Key] = true
		}
	}
	b.atoms()
	b.bags(stored)
	b.sources()
	b.restores()
	b.history(hist, o.ChurnRuns)
	if o.ListStore {
		b.storeSummary(o.Objects, stored)
	}
	sum.Monthly, sum.MonthlyRetired, sum.Yearly = cost.Round(sum.monthly), cost.Round(sum.monthlyRetired), cost.Round(12*sum.monthly)
	sum.Fees, sum.RestoreBulk, sum.RestoreStandard = cost.Round(sum.fees), cost.Round(sum.bulk), cost.Round(sum.std)
	return b.r
}

// builder is one report being built.
type builder struct {
	inv   *inventory.Inventory
	p     cost.Prices
	now   time.Time
	r     *Report
	ref   map[string]bool // bags some atom refers to
	srcs  map[string]*SourceRecord
	names []string // sources, sorted
	// largest is the largest bag in use.
	largest   *inventory.Bag
	largestID string
}

// src is the record of a source: those the inventory lists, and any an
// atom or bag names.
func (b *builder) src(name string) *SourceRecord {
	s := b.srcs[name]
	if s == nil {
		d, b64 := records.EncodePath(name)
		s = &SourceRecord{ReportSource: records.ReportSource{Kind: KindSource, Source: d, SourceB64: b64}}
		b.srcs[name] = s
	}
	return s
}

// atoms counts the atoms by source.
func (b *builder) atoms() {
	sum := &b.r.Summary
	for name, so := range b.inv.Sources {
		s := b.src(name)
		s.Mode, s.Encrypt, s.FirstSeen, s.LastSeen = so.Mode, so.Encrypt, so.FirstSeen, so.LastSeen
	}
	for _, a := range b.inv.Atoms {
		s := b.src(a.Source)
		s.Atoms++
		s.Files += a.Files
		s.Bytes += a.Bytes
		sum.Atoms++
		sum.Files += a.Files
		sum.Bytes += a.Bytes
		if a.Encrypt {
			s.AtomsEncrypted++
			sum.AtomsEncrypted++
		}
		if !a.GoneSince.IsZero() {
			s.AtomsGone++
			sum.AtomsGone++
		}
	}
}

// bags writes a record per bag and counts them by source and state.
func (b *builder) bags(stored map[string]bool) {
	inUse := map[string]int{} // bag -> atoms referring to it
	for _, a := range b.inv.Atoms {
		for _, id := range a.Bags {
			inUse[id]++
		}
	}
	sum := &b.r.Summary
	for _, id := range b.inv.SortedBagIDs() {
		bg := b.inv.Bags[id]
		br := b.bag(id, bg, inUse[id], stored)
		b.r.Bags = append(b.r.Bags, br)
		s := b.src(bg.Source)
		s.monthly += br.monthly
		sum.Bags++
		sum.BagBytes += bg.Bytes
		sum.monthly += br.monthly
		if bg.Encrypt {
			s.BagsEncrypted++
			sum.BagsEncrypted++
		}
		if b.ref[id] {
			s.Bags++
			s.BagBytes += bg.Bytes
			sum.BagsInUse++
			sum.InUseBytes += bg.Bytes
			if b.largest == nil || bg.Bytes > b.largest.Bytes {
				b.largest, b.largestID = bg, id
			}
			continue
		}
		s.BagsRetired++
		s.RetiredBytes += bg.Bytes
		sum.BagsRetired++
		sum.RetiredBytes += bg.Bytes
		sum.monthlyRetired += br.monthly
		if br.fee > 0 {
			sum.RetiredYoung++
			sum.fees += br.fee
			if sum.NextFreeFrom.IsZero() || br.FreeFrom.Before(sum.NextFreeFrom) {
				sum.NextFreeFrom = br.FreeFrom
			}
		} else {
			sum.RetiredFreeNow++
		}
	}
}

// bag is the record of one bag: its state, what it costs to keep, delete
// and restore.
func (b *builder) bag(id string, bg *inventory.Bag, inUse int, stored map[string]bool) BagRecord {
	p, now := b.p, b.now
	d, b64 := records.EncodePath(bg.Source)
	br := BagRecord{ReportBag: records.ReportBag{Kind: KindBag, Bag: id, Key: bg.Key, Source: d, SourceB64: b64, State: StateInUse, Atoms: len(bg.Atoms), AtomsInUse: inUse,
		Files: bg.Files, Bytes: bg.Bytes, Compress: bg.Compress, Encrypt: bg.Encrypt, StorageClass: bg.StorageClass, UploadedAt: bg.UploadedAt,
		AgeDays: cost.AgeDays(bg.UploadedAt, now), RetiredAt: bg.RetiredAt}}
	if !b.ref[id] {
		br.State = StateRetired
	}
	if analysis.Retained(bg.StorageClass) {
		br.fee, br.FreeFrom = p.EarlyDeletion(bg.Bytes, bg.UploadedAt, now)
	}
	br.monthly = p.StorageMonth(bg.Bytes, 1)
	br.bulk = p.Restore(cost.TierBulk, bg.Bytes, 1).Total()
	br.std = p.Restore(cost.TierStandard, bg.Bytes, 1).Total()
	br.Fee, br.Monthly, br.RestoreBulk, br.RestoreStd = cost.Round(br.fee), cost.Round(br.monthly), cost.Round(br.bulk), cost.Round(br.std)
	if stored != nil {
		in := stored[bg.Key]
		br.InStore = &in
	}
	return br
}

// sources writes the source records, sorted.
func (b *builder) sources() {
	for n := range b.srcs {
		b.names = append(b.names, n)
	}
	sort.Strings(b.names)
	for _, n := range b.names {
		s := b.srcs[n]
		s.Monthly = cost.Round(s.monthly)
		b.r.Sources = append(b.r.Sources, *s)
	}
	b.r.Summary.Sources = len(b.names)
}

// restores prices restoring the largest bag in use, each source, and
// everything. Only bags in use: retired ones hold nothing the inventory
// needs.
func (b *builder) restores() {
	if b.largest != nil {
		b.restore(ScopeBag, b.largestID, "", []*inventory.Bag{b.largest})
	}
	bySource := map[string][]*inventory.Bag{}
	var all []*inventory.Bag
	for _, id := range b.inv.SortedBagIDs() {
		if bg := b.inv.Bags[id]; b.ref[id] {
			bySource[bg.Source] = append(bySource[bg.Source], bg)
			all = append(all, bg)
		}
	}
	for _, n := range b.names {
		b.restore(ScopeSource, "", n, bySource[n])
	}
	b.restore(ScopeAll, "", "", all)
}

// restore prices restoring some bags at each tier.
func (b *builder) restore(scope, bag, source string, bags []*inventory.Bag) {
	var bytes int64
	enc := 0
	for _, bg := range bags {
		bytes += bg.Bytes
		if bg.Encrypt {
			enc++
		}
	}
	sum := &b.r.Summary
	for _, tier := range cost.Tiers {
		c := b.p.Restore(tier, bytes, len(bags))
		x := RestoreRecord{ReportRestore: records.ReportRestore{Kind: KindRestore, Scope: scope, Bag: bag, Tier: tier, Bags: len(bags), Bytes: bytes, BagsEncrypted: enc,
			Thaw: cost.Round(c.Thaw), Requests: cost.Round(c.Requests), Egress: cost.Round(c.Egress), Total: cost.Round(c.Total()), Hours: c.Hours}, total: c.Total()}
		if scope == ScopeSource {
			x.Source, x.SourceB64 = records.EncodePath(source)
		}
		if scope == ScopeAll {
			if tier == cost.TierBulk {
				sum.bulk = c.Total()
			} else {
				sum.std = c.Total()
			}
		}
		b.r.Restores = append(b.r.Restores, x)
	}
}

// history adds the runs and the churn.
func (b *builder) history(hist *History, churnRuns int) {
	sum := &b.r.Summary
	b.r.Runs = buildRuns(b.inv, hist, b.p)
	for _, x := range b.r.Runs {
		if x.DryRun {
			continue
		}
		sum.Runs++
		sum.UploadedBytes += x.BytesAdded
		if sum.FirstRun.IsZero() {
			sum.FirstRun = x.At
		}
		sum.LastRun = x.At
	}
	b.r.Churn, sum.ChurnRuns = buildChurn(b.inv, hist, churnRuns)
	sum.ChurnAtoms = len(b.r.Churn)
	for _, c := range b.r.Churn {
		if c.Candidate {
			sum.ChurnCandidates++
		}
	}
}

// storeSummary compares the store's listing with the inventory's bags.
func (b *builder) storeSummary(objects []store.ObjectInfo, stored map[string]bool) {
	ss := &records.ReportStore{}
	keys := map[string]bool{}
	for _, bg := range b.inv.Bags {
		keys[bg.Key] = true
		if !stored[bg.Key] {
			ss.BagsMissing++
		}
	}
	for _, ob := range objects {
		ss.Objects++
		ss.Bytes += ob.Size
		if store.IsCold(ob.StorageClass) {
			ss.ColdObjects++
			ss.ColdBytes += ob.Size
		} else {
			ss.StandardObjects++
			ss.StandardBytes += ob.Size
		}
		if _, kind := layout.BagOf(ob.Key); kind == layout.Bag && !keys[ob.Key] {
			ss.BagsUnknown++
		}
	}
	sum := &b.r.Summary
	sum.storeMonthly = b.p.StorageMonth(ss.ColdBytes, ss.ColdObjects)
	ss.Monthly = cost.Round(sum.storeMonthly)
	sum.Store = ss
}

// buildRuns turns the inventory's runs into records: what each run
// packed (new or again, from the history), and what the inventory held
// after it (from the copy that ends with it; otherwise estimated from the
// last known state plus the bags added since, which ignores prunes).
func buildRuns(inv *inventory.Inventory, hist *History, p cost.Prices) []RunRecord {
	byTime := map[int64]int{}
	out := make([]RunRecord, len(inv.Runs))
	for i, run := range inv.Runs {
		byTime[run.At.UnixNano()] = i
		out[i] = RunRecord{ReportRun: records.ReportRun{Kind: KindRun, Run: i + 1, At: run.At, DryRun: run.DryRun, BagsAdded: run.BagsAdded, BytesAdded: run.BytesAdded,
			AtomsPacked: run.AtomsPacked, AtomsKept: run.AtomsKept, AtomsForgotten: run.Forgotten, AtomsPending: run.Pending}}
	}
	for key, m := range hist.packs {
		for t, pk := range m {
			i, ok := byTime[t]
			if !ok {
				continue
			}
			if pk.firstSeen == t {
				out[i].AtomsNew++
				continue
			}
			out[i].AtomsRepacked++
			out[i].RepackedBytes += pk.bytes
			if hist.changed(key, t) {
				out[i].AtomsChanged++
			}
		}
	}
	var cur state
	for i := range out {
		x := &out[i]
		if n := x.AtomsPacked - x.AtomsNew - x.AtomsRepacked; n > 0 {
			x.AtomsUntracked = n
		}
		if s, ok := hist.stateAfter(x.At); ok {
			cur = s
		} else {
			cur.bags += x.BagsAdded
			cur.bytes += x.BytesAdded
			x.Estimated = true
		}
		x.StoredBags, x.StoredBytes = cur.bags, cur.bytes
		x.monthly = p.StorageMonth(cur.bytes, cur.bags)
		x.Monthly = cost.Round(x.monthly)
	}
	return out
}

// buildChurn lists the atoms packed again because they changed in one of
// the last n runs (dry runs left out), and says how many runs it looked
// at. An atom's chances are the runs among them after the one that first
// saw it, up to the last that saw it; it is a candidate to split or
// exclude when it has at least 2 chances and changed in all but at most a
// fifth of them.
func buildChurn(inv *inventory.Inventory, hist *History, n int) ([]ChurnRecord, int) {
	var window []time.Time
	for i := len(inv.Runs) - 1; i >= 0 && len(window) < n; i-- {
		if !inv.Runs[i].DryRun {
			window = append(window, inv.Runs[i].At)
		}
	}
	var out []ChurnRecord
	for key, a := range inv.Atoms {
		c := ChurnRecord{ReportChurn: records.ReportChurn{Kind: KindChurn, Type: a.Type, Files: a.Files, Bytes: a.Bytes, FirstSeen: a.FirstSeen, PackedAt: a.PackedAt}, key: key}
		for _, t := range window {
			if !t.After(a.FirstSeen) || (!a.LastSeen.IsZero() && t.After(a.LastSeen)) {
				continue
			}
			c.Runs++
			if pk, ok := hist.packedIn(key, t); ok && hist.changed(key, t.UnixNano()) {
				c.Changes++
				c.ChangedBytes += pk.bytes
			}
		}
		if c.Changes == 0 {
			continue
		}
		c.Candidate = c.Runs >= 2 && (c.Runs-c.Changes)*5 <= c.Runs
		c.Atom, c.AtomB64 = records.EncodePath(inventory.PathOf(key))
		c.Source, c.SourceB64 = records.EncodePath(a.Source)
		out = append(out, c)
	}
	// Candidates first, then by bytes packed again, then by atom.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Candidate != b.Candidate {
			return a.Candidate
		}
		if a.ChangedBytes != b.ChangedBytes {
			return a.ChangedBytes > b.ChangedBytes
		}
		return a.key < b.key
	})
	return out, len(window)
}
