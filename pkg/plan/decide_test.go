package plan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/records"
)

var (
	decideNow = time.Date(2027, 1, 15, 2, 0, 0, 0, time.UTC)
	oldBag    = decideNow.AddDate(-1, 0, 0)  // past min_retention_days: free to delete
	youngBag  = decideNow.AddDate(0, 0, -10) // within min_retention_days
)

// testInventory holds source /s: atoms a and b in bag 1 (old), c in bag 2
// (young), and d split over bags 3 and 4 (old); next_bag 5.
func testInventory() *inventory.Inventory {
	inv := inventory.New()
	inv.NextBag = 5
	inv.Sources["/s"] = &inventory.Source{Mode: config.Mutable, FirstSeen: oldBag, LastSeen: oldBag}
	addBag := func(id string, at time.Time, bytes int64, atoms ...string) {
		inv.Bags[id] = &inventory.Bag{Key: "2026-backup/s_" + id + ".tar.zst", Source: "/s", Bytes: bytes, UploadedAt: at, Atoms: atoms}
		for _, k := range atoms {
			a := inv.Atoms[k]
			if a == nil {
				a = &inventory.Atom{Source: "/s", Type: "dir", LastMetadataHash: "h-" + strings.TrimPrefix(k, "/s/"), FirstSeen: oldBag, LastSeen: oldBag, PackedAt: at}
				inv.Atoms[k] = a
			}
			a.Bags = append(a.Bags, id)
			a.Bytes += bytes / int64(len(atoms))
		}
	}
	addBag("bag_000001", oldBag, 800, "/s/a", "/s/b")
	addBag("bag_000002", youngBag, 300, "/s/c")
	addBag("bag_000003", oldBag, 1000, "/s/d")
	addBag("bag_000004", oldBag, 200, "/s/d")
	return inv
}

// scanned is an atom of /s as the scan reports it; unchanged unless its
// hash is given another value.
func scanned(name string, bytes int64) records.Atom {
	a := atom(name, bytes)
	a.Source, a.Mode = "/s", config.Mutable
	return a
}

func with(a records.Atom, f func(*records.Atom)) records.Atom {
	f(&a)
	return a
}

var sourceS = SourceIn{Location: "/s", Mode: config.Mutable, Excludes: []string{}}

// unchangedS is the scan of testInventory's source with nothing changed.
func unchangedS() []records.Atom {
	return []records.Atom{scanned("a", 400), scanned("b", 400), scanned("c", 300), scanned("d", 1200)}
}

// render shows a plan one record a line, with the summary's counts last.
func render(p Plan) string {
	var b strings.Builder
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "note %s\n", n)
	}
	for _, k := range p.Keeps {
		fmt.Fprintf(&b, "keep %s %v\n", k.Atom, k.Bags)
	}
	for _, g := range p.Gones {
		fmt.Fprintf(&b, "gone %s %v until %s\n", g.Atom, g.Bags, g.ForgetAfter.Format("2006-01-02"))
	}
	for _, f := range p.Forgets {
		fmt.Fprintf(&b, "forget %s %v: %s\n", f.Atom, f.Bags, f.Reason)
	}
	for _, bg := range p.Bags {
		fmt.Fprintf(&b, "bag %s %s %d: %s\n", bg.ID, bg.Key, bg.Bytes, shape([][]records.BagAtom{bg.Atoms}))
	}
	for _, r := range p.Retires {
		fmt.Fprintf(&b, "retire %s %s left=%d fee=%g\n", r.Bag, r.Reason, r.AtomsLeft, r.EarlyDeletionFee)
	}
	s := p.Summary
	fmt.Fprintf(&b, "plan new=%d changed=%d kept=%d gone=%d forgotten=%d repacked=%d bags=%d retired=%d next=%d nothing=%v",
		s.AtomsNew, s.AtomsChanged, s.AtomsKept, s.AtomsGone, s.AtomsForgotten, s.AtomsRepacked, s.Bags, s.BagsRetired, s.NextBag, s.NothingToDo)
	if len(s.Operations) > 0 {
		fmt.Fprintf(&b, " ops=%q young=%v", s.Operations, s.OperationYoung)
	}
	if len(s.YoungRetired) > 0 {
		fmt.Fprintf(&b, " young_retired=%v free=%s", s.YoungRetired, s.YoungFreeFrom.Format("2006-01-02"))
	}
	return b.String()
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name      string
		inv       func(*inventory.Inventory) // changes to testInventory
		empty     bool                       // start from an empty inventory instead
		sources   []SourceIn
		atoms     []records.Atom
		unreached map[string]string
		opts      Options // operations; settings are filled in
		keepDays  float64
		want      string
		err       string
	}{
		{
			name: "new atoms on a first run", empty: true, sources: []SourceIn{sourceS},
			atoms: []records.Atom{scanned("a", 400), scanned("b", 400)},
			want: "bag bag_000001 2027-backup/s_bag_000001.tar.zst 800: a+b\n" +
				"plan new=2 changed=0 kept=0 gone=0 forgotten=0 repacked=0 bags=1 retired=0 next=2 nothing=false",
		},
		{
			name: "nothing changed", sources: []SourceIn{sourceS}, atoms: unchangedS(),
			want: "keep /s/a [bag_000001]\nkeep /s/b [bag_000001]\nkeep /s/c [bag_000002]\nkeep /s/d [bag_000003 bag_000004]\n" +
				"plan new=0 changed=0 kept=4 gone=0 forgotten=0 repacked=0 bags=0 retired=0 next=5 nothing=true",
		},
		{
			name: "a changed atom leaves its bag partly superseded", sources: []SourceIn{sourceS},
			atoms: []records.Atom{with(scanned("a", 450), func(a *records.Atom) { a.Hash = "h-a2" }), scanned("b", 400), scanned("c", 300), scanned("d", 1200)},
			want: "keep /s/b [bag_000001]\nkeep /s/c [bag_000002]\nkeep /s/d [bag_000003 bag_000004]\n" +
				"bag bag_000005 2027-backup/s_bag_000005.tar.zst 450: a\n" +
				"retire bag_000001 partly-superseded left=1 fee=0\n" +
				"plan new=0 changed=1 kept=3 gone=0 forgotten=0 repacked=0 bags=1 retired=0 next=6 nothing=false",
		},
		{
			name: "a new atom beside unchanged ones", sources: []SourceIn{sourceS},
			atoms: append(unchangedS(), scanned("e", 10)),
			want: "keep /s/a [bag_000001]\nkeep /s/b [bag_000001]\nkeep /s/c [bag_000002]\nkeep /s/d [bag_000003 bag_000004]\n" +
				"bag bag_000005 2027-backup/s_bag_000005.tar.zst 10: e\n" +
				"plan new=1 changed=0 kept=4 gone=0 forgotten=0 repacked=0 bags=1 retired=0 next=6 nothing=false",
		},
		{
			name: "an incomplete atom and one whose bag is missing are packed again", sources: []SourceIn{sourceS}, atoms: unchangedS(),
			inv: func(inv *inventory.Inventory) {
				inv.Atoms["/s/a"].Incomplete = true
				inv.Atoms["/s/d"].Bags = []string{"bag_000003", "bag_000009"}
			},
			want: "keep /s/b [bag_000001]\nkeep /s/c [bag_000002]\n" +
				"bag bag_000005 2027-backup/s_bag_000005.tar.zst 400: a\nbag bag_000006 2027-backup/s_bag_000006.tar.zst 1200: d\n" +
				"retire bag_000001 partly-superseded left=1 fee=0\nretire bag_000003 unreferenced left=0 fee=0\n" +
				"plan new=0 changed=2 kept=2 gone=0 forgotten=0 repacked=0 bags=2 retired=1 next=7 nothing=false",
		},
		{
			name: "bags fill up to the target in scan order", empty: true, sources: []SourceIn{sourceS},
			atoms: []records.Atom{scanned("a", 400), scanned("b", 400), scanned("c", 400), scanned("d", 200), scanned("e", 1500)},
			want: "bag bag_000001 2027-backup/s_bag_000001.tar.zst 800: a+b\nbag bag_000002 2027-backup/s_bag_000002.tar.zst 600: c+d\n" +
				"bag bag_000003 2027-backup/s_bag_000003.tar.zst 1500: e\n" +
				"plan new=5 changed=0 kept=0 gone=0 forgotten=0 repacked=0 bags=3 retired=0 next=4 nothing=false",
		},
		{
			name: "an immutable source gives each atom its own bag", empty: true,
			sources: []SourceIn{{Location: "/s", Mode: config.Immutable, Excludes: []string{}}},
			atoms:   []records.Atom{scanned("a", 10), scanned("b", 10)},
			want: "bag bag_000001 2027-backup/s_bag_000001.tar.zst 10: a\nbag bag_000002 2027-backup/s_bag_000002.tar.zst 10: b\n" +
				"plan new=2 changed=0 kept=0 gone=0 forgotten=0 repacked=0 bags=2 retired=0 next=3 nothing=false",
		},
		{
			name: "a split atom gets a bag per part", empty: true, sources: []SourceIn{sourceS},
			atoms: []records.Atom{scanned("a", 10), with(split("big", []string{"", "m", "t"}, []int64{900, 900, 5}), func(a *records.Atom) { a.Mode = config.Mutable }), scanned("b", 10)},
			want: "bag bag_000001 2027-backup/s_bag_000001.tar.zst 900: big#1/3\nbag bag_000002 2027-backup/s_bag_000002.tar.zst 900: big#2/3\n" +
				"bag bag_000003 2027-backup/s_bag_000003.tar.zst 5: big#3/3\nbag bag_000004 2027-backup/s_bag_000004.tar.zst 20: a+b\n" +
				"plan new=3 changed=0 kept=0 gone=0 forgotten=0 repacked=0 bags=4 retired=0 next=5 nothing=false",
		},
		{
			name: "a gone atom is kept for keep_deleted_days", sources: []SourceIn{sourceS}, keepDays: 30,
			atoms: []records.Atom{scanned("a", 400), scanned("b", 400), scanned("d", 1200)},
			want: "keep /s/a [bag_000001]\nkeep /s/b [bag_000001]\nkeep /s/d [bag_000003 bag_000004]\n" +
				"gone /s/c [bag_000002] until 2027-02-14\n" +
				"plan new=0 changed=0 kept=3 gone=1 forgotten=0 repacked=0 bags=0 retired=0 next=5 nothing=true",
		},
		{
			name: "a gone atom is forgotten after keep_deleted_days", sources: []SourceIn{sourceS}, keepDays: 30,
			inv:   func(inv *inventory.Inventory) { inv.Atoms["/s/c"].GoneSince = decideNow.AddDate(0, 0, -31) },
			atoms: []records.Atom{scanned("a", 400), scanned("b", 400), scanned("d", 1200)},
			want: "keep /s/a [bag_000001]\nkeep /s/b [bag_000001]\nkeep /s/d [bag_000003 bag_000004]\n" +
				"forget /s/c [bag_000002]: gone from disk since 2026-12-15 (keep_deleted_days = 30)\n" +
				"retire bag_000002 unreferenced left=0 fee=0\n" +
				"plan new=0 changed=0 kept=3 gone=0 forgotten=1 repacked=0 bags=0 retired=1 next=5 nothing=false young_retired=[bag_000002] free=2027-07-04",
		},
		{
			name: "with keep_deleted_days 0 a gone atom is forgotten at once", sources: []SourceIn{sourceS},
			atoms: []records.Atom{scanned("c", 300), scanned("d", 1200)},
			want: "keep /s/c [bag_000002]\nkeep /s/d [bag_000003 bag_000004]\n" +
				"forget /s/a [bag_000001]: gone from disk since 2027-01-15 (keep_deleted_days = 0)\n" +
				"forget /s/b [bag_000001]: gone from disk since 2027-01-15 (keep_deleted_days = 0)\n" +
				"retire bag_000001 unreferenced left=0 fee=0\n" +
				"plan new=0 changed=0 kept=2 gone=0 forgotten=2 repacked=0 bags=0 retired=1 next=5 nothing=false",
		},
		{
			name: "a source the scan could not read keeps its atoms", unreached: map[string]string{"/s": "connection refused"},
			want: "note gb-plan: warning: /s could not be read this run; its 4 atoms and their bags are kept as last backed up\n" +
				"plan new=0 changed=0 kept=0 gone=0 forgotten=0 repacked=0 bags=0 retired=0 next=5 nothing=true",
		},
		{
			name: "a source no longer listed keeps its atoms", sources: []SourceIn{{Location: "/t", Mode: config.Mutable, Excludes: []string{}}},
			atoms: []records.Atom{with(scanned("x", 5), func(a *records.Atom) { a.Key, a.Path, a.Source = "/t/x", "/t/x", "/t" })},
			want: "note gb-plan: warning: /s is in the inventory (4 atoms) but not in the source list; its atoms and bags are kept (gb-plan --reset-source /s drops them)\n" +
				"bag bag_000005 2027-backup/t_bag_000005.tar.zst 5: /t/x\n" +
				"plan new=1 changed=0 kept=0 gone=0 forgotten=0 repacked=0 bags=1 retired=0 next=6 nothing=false",
		},
		{
			name: "a change of encryption packs unchanged atoms again, apart from plain ones", sources: []SourceIn{sourceS},
			atoms: []records.Atom{with(scanned("a", 400), func(a *records.Atom) { a.Encrypt, a.Keys = true, "k1" }), scanned("b", 400), with(scanned("e", 5), func(a *records.Atom) { a.Encrypt, a.Keys = true, "k1" }),
				scanned("f", 5), scanned("c", 300), scanned("d", 1200)},
			want: "note gb-plan: 1 unchanged atoms are packed again because their encryption changed\n" +
				"keep /s/b [bag_000001]\nkeep /s/c [bag_000002]\nkeep /s/d [bag_000003 bag_000004]\n" +
				"bag bag_000005 2027-backup/s_bag_000005.tar.zst 5: f\nbag bag_000006 2027-backup/encrypted_bag_000006.tar.zst.age 405: a+e\n" +
				"retire bag_000001 partly-superseded left=1 fee=0\n" +
				"plan new=2 changed=1 kept=3 gone=0 forgotten=0 repacked=0 bags=2 retired=0 next=7 nothing=false",
		},
		{
			name: "other keys pack an encrypted atom again", sources: []SourceIn{sourceS},
			inv:   func(inv *inventory.Inventory) { inv.Atoms["/s/c"].Encrypt, inv.Atoms["/s/c"].Keys = true, "k1" },
			atoms: []records.Atom{scanned("a", 400), scanned("b", 400), with(scanned("c", 300), func(a *records.Atom) { a.Encrypt, a.Keys = true, "k2" }), scanned("d", 1200)},
			want: "note gb-plan: 1 unchanged atoms are packed again because their encryption changed\n" +
				"keep /s/a [bag_000001]\nkeep /s/b [bag_000001]\nkeep /s/d [bag_000003 bag_000004]\n" +
				"bag bag_000005 2027-backup/encrypted_bag_000005.tar.zst.age 300: c\n" +
				"retire bag_000002 unreferenced left=0 fee=0\n" +
				"plan new=0 changed=1 kept=3 gone=0 forgotten=0 repacked=0 bags=1 retired=1 next=6 nothing=false young_retired=[bag_000002] free=2027-07-04",
		},
		{
			name: "--reset-bag packs an old bag's atoms again", sources: []SourceIn{sourceS}, atoms: unchangedS(),
			opts: Options{ResetBags: []string{"bag_000001"}},
			want: "keep /s/c [bag_000002]\nkeep /s/d [bag_000003 bag_000004]\n" +
				"bag bag_000005 2027-backup/s_bag_000005.tar.zst 800: a+b\n" +
				"retire bag_000001 unreferenced left=0 fee=0\n" +
				`plan new=0 changed=0 kept=2 gone=0 forgotten=0 repacked=2 bags=1 retired=1 next=6 nothing=false ops=["--reset-bag bag_000001"] young=[]`,
		},
		{
			name: "--reset-bag of a young bag is refused", sources: []SourceIn{sourceS}, atoms: unchangedS(),
			opts: Options{ResetBags: []string{"bag_000002"}},
			err:  "--reset-bag bag_000002 would leave 1 bags younger than 180 days unreferenced (bag_000002)",
		},
		{
			name: "--allow-early pays for a young bag", sources: []SourceIn{sourceS}, atoms: unchangedS(),
			opts: Options{ResetBags: []string{"bag_000002"}, AllowEarly: true},
			want: "keep /s/a [bag_000001]\nkeep /s/b [bag_000001]\nkeep /s/d [bag_000003 bag_000004]\n" +
				"bag bag_000005 2027-backup/s_bag_000005.tar.zst 300: c\n" +
				"retire bag_000002 unreferenced left=0 fee=0\n" +
				`plan new=0 changed=0 kept=3 gone=0 forgotten=0 repacked=1 bags=1 retired=1 next=6 nothing=false ops=["--reset-bag bag_000002"] young=[bag_000002] young_retired=[bag_000002] free=2027-07-04`,
		},
		{
			name: "--reset-bag of a bag the inventory lacks is refused", sources: []SourceIn{sourceS}, atoms: unchangedS(),
			opts: Options{ResetBags: []string{"bag_000042"}}, err: "--reset-bag bag_000042: no such bag in the inventory",
		},
		{
			name: "--reset-bag cannot pack a gone atom again", sources: []SourceIn{sourceS}, keepDays: 30,
			atoms: []records.Atom{scanned("a", 400), scanned("b", 400), scanned("d", 1200)},
			opts:  Options{ResetBags: []string{"bag_000002"}, AllowEarly: true},
			want: "note gb-plan: warning: /s/c is gone from disk, so --reset-bag cannot pack it again; its bags keep it\n" +
				"keep /s/a [bag_000001]\nkeep /s/b [bag_000001]\nkeep /s/d [bag_000003 bag_000004]\n" +
				"gone /s/c [bag_000002] until 2027-02-14\n" +
				`plan new=0 changed=0 kept=3 gone=1 forgotten=0 repacked=0 bags=0 retired=0 next=5 nothing=true ops=["--reset-bag bag_000002"] young=[]`,
		},
		{
			name: "--reset-source packs the seen atoms again and forgets the rest at once", sources: []SourceIn{sourceS}, keepDays: 30,
			atoms: []records.Atom{scanned("a", 400), scanned("b", 400), scanned("c", 300)},
			opts:  Options{ResetSources: []string{"/s/"}, AllowEarly: true},
			want: "forget /s/d [bag_000003 bag_000004]: source reset\n" +
				"bag bag_000005 2027-backup/s_bag_000005.tar.zst 800: a+b\nbag bag_000006 2027-backup/s_bag_000006.tar.zst 300: c\n" +
				"retire bag_000001 unreferenced left=0 fee=0\nretire bag_000002 unreferenced left=0 fee=0\n" +
				"retire bag_000003 unreferenced left=0 fee=0\nretire bag_000004 unreferenced left=0 fee=0\n" +
				`plan new=0 changed=0 kept=0 gone=0 forgotten=1 repacked=3 bags=2 retired=4 next=7 nothing=false ops=["--reset-source /s"] young=[bag_000002] young_retired=[bag_000002] free=2027-07-04`,
		},
		{
			name: "--reset-source of an unlisted source forgets its atoms", sources: []SourceIn{{Location: "/t", Mode: config.Mutable, Excludes: []string{}}},
			inv:  func(inv *inventory.Inventory) { delete(inv.Atoms, "/s/c"); delete(inv.Bags, "bag_000002") },
			opts: Options{ResetSources: []string{"/s"}},
			want: "forget /s/a [bag_000001]: source reset\nforget /s/b [bag_000001]: source reset\nforget /s/d [bag_000003 bag_000004]: source reset\n" +
				"retire bag_000001 unreferenced left=0 fee=0\nretire bag_000003 unreferenced left=0 fee=0\nretire bag_000004 unreferenced left=0 fee=0\n" +
				`plan new=0 changed=0 kept=0 gone=0 forgotten=3 repacked=0 bags=0 retired=3 next=5 nothing=false ops=["--reset-source /s"] young=[]`,
		},
		{
			name: "--reset-source of a source the inventory lacks is refused", sources: []SourceIn{sourceS}, atoms: unchangedS(),
			opts: Options{ResetSources: []string{"/nowhere"}}, err: "--reset-source /nowhere: no such source in the inventory",
		},
		{
			name: "--repack leaves pinned atoms", sources: []SourceIn{sourceS}, atoms: unchangedS(),
			inv:  func(inv *inventory.Inventory) { inv.Atoms["/s/c"].Pinned = true },
			opts: Options{Repack: true},
			want: "keep /s/c [bag_000002]\n" +
				"bag bag_000005 2027-backup/s_bag_000005.tar.zst 800: a+b\nbag bag_000006 2027-backup/s_bag_000006.tar.zst 1200: d\n" +
				"retire bag_000001 unreferenced left=0 fee=0\nretire bag_000003 unreferenced left=0 fee=0\nretire bag_000004 unreferenced left=0 fee=0\n" +
				`plan new=0 changed=0 kept=1 gone=0 forgotten=0 repacked=3 bags=2 retired=3 next=7 nothing=false ops=["--repack"] young=[]`,
		},
		{
			name: "--repack-underfilled moves atoms of small bags, not split atoms", sources: []SourceIn{sourceS}, atoms: unchangedS(),
			opts: Options{RepackUnderfilled: 50, AllowEarly: true},
			want: "keep /s/a [bag_000001]\nkeep /s/b [bag_000001]\nkeep /s/d [bag_000003 bag_000004]\n" +
				"bag bag_000005 2027-backup/s_bag_000005.tar.zst 300: c\n" +
				"retire bag_000002 unreferenced left=0 fee=0\n" +
				`plan new=0 changed=0 kept=3 gone=0 forgotten=0 repacked=1 bags=1 retired=1 next=6 nothing=false ops=["--repack-underfilled 50"] young=[bag_000002] young_retired=[bag_000002] free=2027-07-04`,
		},
		{
			name: "--repack-underfilled needs a percentage", sources: []SourceIn{sourceS}, atoms: unchangedS(),
			opts: Options{RepackUnderfilled: 120}, err: "--repack-underfilled 120: give a percentage",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInventory()
			if tt.empty {
				inv = inventory.New()
			}
			if tt.inv != nil {
				tt.inv(inv)
			}
			opts := tt.opts
			opts.Settings = &config.Settings{TargetBagGB: 0.000001, Compress: "zstd", MinRetentionDays: 180, PriceGBMonth: 0.00099, PricePut1k: 0.05,
				KeepDeletedDays: tt.keepDays}
			in := Input{Sources: tt.sources, Atoms: tt.atoms, Unreachable: tt.unreached}
			p, err := Decide(in, inv, opts, decideNow)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !config.IsConfigError(err) {
					t.Fatalf("error %v, want a config error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := render(p); got != tt.want {
				t.Errorf("plan:\n%s\nwant:\n%s", render(p), tt.want)
			}
		})
	}
}

// The same arguments give the same plan, and deciding changes nothing in
// the inventory.
func TestDecideIsPure(t *testing.T) {
	opts := Options{Settings: &config.Settings{TargetBagGB: 0.000001, Compress: "zstd", MinRetentionDays: 180, KeepDeletedDays: 30}, Repack: true}
	in := Input{Sources: []SourceIn{sourceS}, Atoms: []records.Atom{scanned("a", 400), scanned("e", 5)}}
	inv := testInventory()
	before, _ := inv.Marshal()
	p1, err := Decide(in, inv, opts, decideNow)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := Decide(in, inv, opts, decideNow)
	if render(p1) != render(p2) {
		t.Errorf("two decisions differ:\n%s\n%s", render(p1), render(p2))
	}
	if after, _ := inv.Marshal(); string(after) != string(before) {
		t.Errorf("Decide changed the inventory")
	}
}
