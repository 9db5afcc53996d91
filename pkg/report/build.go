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
	r := &Report{MinRetentionDays: p.MinRetentionDays}
	sum := &r.Summary
	sum.Kind, sum.At, sum.HistoryFiles = KindReport, now, len(hist.Files)
	ref := inv.Referenced()
	inUse := map[string]int{} // bag -> atoms referring to it
	for _, a := range inv.Atoms {
		for _, id := range a.Bags {
			inUse[id]++
		}
	}

	// Sources: those the inventory lists, and any an atom or bag names.
	srcs := map[string]*SourceRecord{}
	src := func(name string) *SourceRecord {
		s := srcs[name]
		if s == nil {
			d, b := records.EncodePath(name)
			s = &SourceRecord{ReportSource: records.ReportSource{Kind: KindSource, Source: d, SourceB64: b}}
			srcs[name] = s
		}
		return s
	}
	for name, so := range inv.Sources {
		s := src(name)
		s.Mode, s.Encrypt, s.FirstSeen, s.LastSeen = so.Mode, so.Encrypt, so.FirstSeen, so.LastSeen
	}
	for _, a := range inv.Atoms {
		s := src(a.Source)
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

	// Bags.
	var stored map[string]bool
	if o.ListStore {
		stored = map[string]bool{}
		for _, ob := range o.Objects {
			stored[ob.Key] = true
		}
	}
	var largest *inventory.Bag
	var largestID string
	for _, id := range inv.SortedBagIDs() {
		b := inv.Bags[id]
		d, b64 := records.EncodePath(b.Source)
		br := BagRecord{ReportBag: records.ReportBag{Kind: KindBag, Bag: id, Key: b.Key, Source: d, SourceB64: b64, State: StateInUse, Atoms: len(b.Atoms), AtomsInUse: inUse[id],
			Files: b.Files, Bytes: b.Bytes, Compress: b.Compress, Encrypt: b.Encrypt, StorageClass: b.StorageClass, UploadedAt: b.UploadedAt,
			AgeDays: cost.AgeDays(b.UploadedAt, now), RetiredAt: b.RetiredAt}}
		if !ref[id] {
			br.State = StateRetired
		}
		if analysis.Retained(b.StorageClass) {
			br.fee, br.FreeFrom = p.EarlyDeletion(b.Bytes, b.UploadedAt, now)
		}
		br.monthly = p.StorageMonth(b.Bytes, 1)
		br.bulk = p.Restore(cost.TierBulk, b.Bytes, 1).Total()
		br.std = p.Restore(cost.TierStandard, b.Bytes, 1).Total()
		br.Fee, br.Monthly, br.RestoreBulk, br.RestoreStd = cost.Round(br.fee), cost.Round(br.monthly), cost.Round(br.bulk), cost.Round(br.std)
		if stored != nil {
			in := stored[b.Key]
			br.InStore = &in
		}
		r.Bags = append(r.Bags, br)

		s := src(b.Source)
		s.monthly += br.monthly
		sum.Bags++
		sum.BagBytes += b.Bytes
		sum.monthly += br.monthly
		if b.Encrypt {
			s.BagsEncrypted++
			sum.BagsEncrypted++
		}
		if ref[id] {
			s.Bags++
			s.BagBytes += b.Bytes
			sum.BagsInUse++
			sum.InUseBytes += b.Bytes
			if largest == nil || b.Bytes > largest.Bytes {
				largest, largestID = b, id
			}
			continue
		}
		s.BagsRetired++
		s.RetiredBytes += b.Bytes
		sum.BagsRetired++
		sum.RetiredBytes += b.Bytes
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
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := srcs[n]
		s.Monthly = cost.Round(s.monthly)
		r.Sources = append(r.Sources, *s)
	}
	sum.Sources = len(names)

	// Restores: the largest bag in use, each source, everything. Only
	// bags in use: retired ones hold nothing the inventory needs.
	restore := func(scope, bag, source string, bags []*inventory.Bag) {
		var bytes int64
		enc := 0
		for _, b := range bags {
			bytes += b.Bytes
			if b.Encrypt {
				enc++
			}
		}
		for _, tier := range cost.Tiers {
			c := p.Restore(tier, bytes, len(bags))
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
			r.Restores = append(r.Restores, x)
		}
	}
	if largest != nil {
		restore(ScopeBag, largestID, "", []*inventory.Bag{largest})
	}
	bySource := map[string][]*inventory.Bag{}
	var all []*inventory.Bag
	for _, id := range inv.SortedBagIDs() {
		if b := inv.Bags[id]; ref[id] {
			bySource[b.Source] = append(bySource[b.Source], b)
			all = append(all, b)
		}
	}
	for _, n := range names {
		restore(ScopeSource, "", n, bySource[n])
	}
	restore(ScopeAll, "", "", all)

	r.Runs = buildRuns(inv, hist, p)
	for _, x := range r.Runs {
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
	r.Churn, sum.ChurnRuns = buildChurn(inv, hist, o.ChurnRuns)
	sum.ChurnAtoms = len(r.Churn)
	for _, c := range r.Churn {
		if c.Candidate {
			sum.ChurnCandidates++
		}
	}

	if o.ListStore {
		ss := &records.ReportStore{}
		keys := map[string]bool{}
		for _, b := range inv.Bags {
			keys[b.Key] = true
			if !stored[b.Key] {
				ss.BagsMissing++
			}
		}
		for _, ob := range o.Objects {
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
		sum.storeMonthly = p.StorageMonth(ss.ColdBytes, ss.ColdObjects)
		ss.Monthly = cost.Round(sum.storeMonthly)
		sum.Store = ss
	}

	sum.Monthly, sum.MonthlyRetired, sum.Yearly = cost.Round(sum.monthly), cost.Round(sum.monthlyRetired), cost.Round(12*sum.monthly)
	sum.Fees, sum.RestoreBulk, sum.RestoreStandard = cost.Round(sum.fees), cost.Round(sum.bulk), cost.Round(sum.std)
	return r
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
