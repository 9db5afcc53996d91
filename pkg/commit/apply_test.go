package commit

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/records"
)

var (
	t0    = time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC) // the first run
	today = time.Date(2027, 1, 15, 2, 0, 0, 0, time.UTC) // this run
)

// baseInventory holds source /s with atom a in bag 1 and b (pinned) in
// bag 2; next_bag 3.
func baseInventory() *inventory.Inventory {
	inv := inventory.New()
	inv.NextBag = 3
	inv.Sources["/s"] = &inventory.Source{Mode: "MUTABLE", FirstSeen: t0, LastSeen: t0}
	for i, k := range []string{"/s/a", "/s/b"} {
		id := inventory.BagID(i + 1)
		inv.Bags[id] = &inventory.Bag{Key: "2026-backup/s_" + id + ".tar", Source: "/s", Bytes: 100, UploadedAt: t0, Atoms: []string{k}}
		inv.Atoms[k] = &inventory.Atom{Source: "/s", Type: "dir", LastMetadataHash: "old", TarID: id, Bags: []string{id}, Files: 1, Bytes: 100,
			FirstSeen: t0, LastSeen: t0, PackedAt: t0, Pinned: k == "/s/b"}
	}
	return inv
}

// pb is a planned bag of source /s; atoms are "name" or "name#part/parts".
func pb(id string, atoms ...string) *plannedBag {
	b := &plannedBag{id: id, key: "2027-backup/s_" + id + ".tar", source: "/s", compress: "none", incomplete: map[string]bool{}}
	for _, a := range atoms {
		pa := plannedAtom{typ: "dir", hash: "new", files: 2, bytes: 50, part: 1, parts: 1}
		name, part, ok := strings.Cut(a, "#")
		if ok {
			fmt.Sscanf(part, "%d/%d", &pa.part, &pa.parts)
		}
		pa.key = "/s/" + name
		b.atoms = append(b.atoms, pa)
		b.files += pa.files
	}
	return b
}

// atomLine renders an inventory atom for comparison.
func atomLine(inv *inventory.Inventory, k string) string {
	a := inv.Atoms[k]
	if a == nil {
		return k + " absent"
	}
	return fmt.Sprintf("%s %s %v first=%s packed=%s files=%d bytes=%d pinned=%v incomplete=%v enc=%v:%s", k, a.LastMetadataHash, a.Bags,
		a.FirstSeen.Format("2006"), a.PackedAt.Format("2006"), a.Files, a.Bytes, a.Pinned, a.Incomplete, a.Encrypt, a.Keys)
}

func TestApply(t *testing.T) {
	tests := []struct {
		name    string
		plan    []*plannedBag
		prepare func(bags map[string]*plannedBag)
		store   []string // bag ids stored, in order
		want    []string // atomLine of /s/a, /s/b, /s/c
		next    int
		packed  int
		err     string
	}{
		{
			name: "a stored bag takes over its atoms, keeping first_seen and pinned",
			plan: []*plannedBag{pb("bag_000003", "a", "b", "c")}, store: []string{"bag_000003"},
			want: []string{
				"/s/a new [bag_000003] first=2026 packed=2027 files=2 bytes=50 pinned=false incomplete=false enc=false:",
				"/s/b new [bag_000003] first=2026 packed=2027 files=2 bytes=50 pinned=true incomplete=false enc=false:",
				"/s/c new [bag_000003] first=2027 packed=2027 files=2 bytes=50 pinned=false incomplete=false enc=false:",
			},
			next: 4, packed: 3,
		},
		{
			name: "a bag not stored leaves its atoms as they were",
			plan: []*plannedBag{pb("bag_000003", "a"), pb("bag_000004", "c")}, store: []string{"bag_000004"},
			want: []string{
				"/s/a old [bag_000001] first=2026 packed=2026 files=1 bytes=100 pinned=false incomplete=false enc=false:",
				"/s/b old [bag_000002] first=2026 packed=2026 files=1 bytes=100 pinned=true incomplete=false enc=false:",
				"/s/c new [bag_000004] first=2027 packed=2027 files=2 bytes=50 pinned=false incomplete=false enc=false:",
			},
			next: 5, packed: 1,
		},
		{
			name: "a split atom moves once its last part is stored, with the parts' sums",
			plan: []*plannedBag{pb("bag_000003", "a#1/2"), pb("bag_000004", "a#2/2", "c")}, store: []string{"bag_000004", "bag_000003"},
			want: []string{
				"/s/a new [bag_000003 bag_000004] first=2026 packed=2027 files=4 bytes=100 pinned=false incomplete=false enc=false:",
				"/s/b old [bag_000002] first=2026 packed=2026 files=1 bytes=100 pinned=true incomplete=false enc=false:",
				"/s/c new [bag_000004] first=2027 packed=2027 files=2 bytes=50 pinned=false incomplete=false enc=false:",
			},
			next: 5, packed: 2,
		},
		{
			name: "a split atom with a part missing keeps its old entry",
			plan: []*plannedBag{pb("bag_000003", "a#1/2"), pb("bag_000004", "a#2/2")}, store: []string{"bag_000003"},
			want: []string{
				"/s/a old [bag_000001] first=2026 packed=2026 files=1 bytes=100 pinned=false incomplete=false enc=false:",
				"/s/b old [bag_000002] first=2026 packed=2026 files=1 bytes=100 pinned=true incomplete=false enc=false:",
				"/s/c absent",
			},
			next: 4, packed: 0,
		},
		{
			name: "an atom gb-pack could not read fully is stored incomplete, encryption is taken from the bag",
			plan: []*plannedBag{pb("bag_000003", "a#1/2"), pb("bag_000004", "a#2/2")}, store: []string{"bag_000003", "bag_000004"},
			prepare: func(bags map[string]*plannedBag) {
				bags["bag_000003"].incomplete["/s/a"] = true
				for _, b := range bags {
					b.encrypt, b.keys = true, "k1"
				}
			},
			want: []string{
				"/s/a new [bag_000003 bag_000004] first=2026 packed=2027 files=4 bytes=100 pinned=false incomplete=true enc=true:k1",
				"/s/b old [bag_000002] first=2026 packed=2026 files=1 bytes=100 pinned=true incomplete=false enc=false:",
				"/s/c absent",
			},
			next: 5, packed: 1,
		},
		{
			name: "a plan whose parts do not add up is refused",
			plan: []*plannedBag{pb("bag_000003", "a#2/2"), pb("bag_000004", "a#3/2")}, store: []string{"bag_000003", "bag_000004"},
			err: "atom /s/a: part 1 of 2 has no bag",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := baseInventory()
			var sum records.Committed
			g := newLedger(inv, today, &sum)
			for _, b := range tt.plan {
				g.bags[b.id] = b
			}
			if tt.prepare != nil {
				tt.prepare(g.bags)
			}
			var err error
			for _, id := range tt.store {
				if err = g.apply(g.bags[id], inventory.Bag{Key: g.bags[id].key, Source: "/s", Bytes: 70, UploadedAt: today}); err != nil {
					break
				}
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range []string{"/s/a", "/s/b", "/s/c"} {
				got = append(got, atomLine(inv, k))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("atoms:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if inv.NextBag != tt.next || sum.AtomsPacked != tt.packed || sum.BagsCommitted != len(tt.store) || sum.BytesCommitted != int64(70*len(tt.store)) {
				t.Errorf("next_bag %d, packed %d, committed %d (%d bytes); want %d, %d, %d", inv.NextBag, sum.AtomsPacked, sum.BagsCommitted, sum.BytesCommitted,
					tt.next, tt.packed, len(tt.store))
			}
			for _, id := range tt.store {
				bg := inv.Bags[id]
				if bg == nil || bg.Key != g.bags[id].key || len(bg.Atoms) != len(g.bags[id].atoms) || bg.Encrypt != g.bags[id].encrypt {
					t.Errorf("bag %s in the inventory: %+v", id, bg)
				}
			}
		})
	}
}

func TestKeep(t *testing.T) {
	inv := baseInventory()
	inv.Atoms["/s/a"].GoneSince = t0
	inv.Atoms["/s/b"].GoneSince = t0
	n := keep(inv, []string{"/s/a", "/s/b", "/s/nothere"}, map[string]bool{"/s/b": true}, today)
	if n != 1 {
		t.Errorf("kept %d, want 1 (b was packed this run, nothere is not in the inventory)", n)
	}
	if a := inv.Atoms["/s/a"]; !a.LastSeen.Equal(today) || !a.GoneSince.IsZero() {
		t.Errorf("kept atom: last_seen %v, gone_since %v; want seen today, back on disk", a.LastSeen, a.GoneSince)
	}
	if b := inv.Atoms["/s/b"]; !b.LastSeen.Equal(t0) || !b.GoneSince.Equal(t0) {
		t.Errorf("an atom packed this run was touched by keep: %+v", b)
	}
	if inv.Atoms["/s/nothere"] != nil {
		t.Error("keep added an atom")
	}
}

func TestMarkGone(t *testing.T) {
	inv := baseInventory()
	earlier := today.AddDate(0, -2, 0)
	inv.Atoms["/s/b"].GoneSince = earlier
	markGone(inv, map[string]time.Time{"/s/a": today, "/s/b": today, "/s/nothere": today})
	if got := inv.Atoms["/s/a"].GoneSince; !got.Equal(today) {
		t.Errorf("a: gone_since %v, want %v", got, today)
	}
	if got := inv.Atoms["/s/b"].GoneSince; !got.Equal(earlier) {
		t.Errorf("b: gone_since %v, want the first stamp %v", got, earlier)
	}
	if inv.Atoms["/s/nothere"] != nil {
		t.Error("markGone added an atom")
	}
}

// baseInventory plus /t, a source with no atoms.
func TestForget(t *testing.T) {
	tests := []struct {
		name        string
		forgets     []string
		scanned     []string
		wantN       int
		wantAtoms   []string
		wantSources []string
	}{
		{name: "nothing to forget", scanned: []string{"/s", "/t"}, wantAtoms: []string{"/s/a", "/s/b"}, wantSources: []string{"/s", "/t"}},
		{name: "an atom forgotten, one not in the inventory", forgets: []string{"/s/a", "/s/nothere"}, scanned: []string{"/s", "/t"}, wantN: 1,
			wantAtoms: []string{"/s/b"}, wantSources: []string{"/s", "/t"}},
		{name: "a scanned source with no atom left stays", forgets: []string{"/s/a", "/s/b"}, scanned: []string{"/s"}, wantN: 2,
			wantSources: []string{"/s"}},
		{name: "an unlisted source with no atom left leaves", forgets: []string{"/s/a", "/s/b"}, scanned: []string{"/u"}, wantN: 2},
		{name: "an unlisted source with atoms left stays", forgets: []string{"/s/a"}, scanned: []string{"/u"}, wantN: 1,
			wantAtoms: []string{"/s/b"}, wantSources: []string{"/s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := baseInventory()
			inv.Sources["/t"] = &inventory.Source{Mode: "MUTABLE", FirstSeen: t0, LastSeen: t0}
			scanned := map[string]inventory.Source{}
			for _, s := range tt.scanned {
				scanned[s] = inventory.Source{}
			}
			n := forget(inv, tt.forgets, scanned)
			if n != tt.wantN {
				t.Errorf("forgot %d, want %d", n, tt.wantN)
			}
			if got := slices.Sorted(maps.Keys(inv.Atoms)); !slices.Equal(got, tt.wantAtoms) {
				t.Errorf("atoms %v, want %v", got, tt.wantAtoms)
			}
			if got := slices.Sorted(maps.Keys(inv.Sources)); !slices.Equal(got, tt.wantSources) {
				t.Errorf("sources %v, want %v", got, tt.wantSources)
			}
		})
	}
}

func TestUpdateSources(t *testing.T) {
	inv := baseInventory()
	updateSources(inv, map[string]inventory.Source{"/s": {Mode: "IMMUTABLE", Encrypt: true}, "/t": {Mode: "MUTABLE"}}, today)
	s := inv.Sources["/s"]
	if s.Mode != "IMMUTABLE" || !s.Encrypt || !s.FirstSeen.Equal(t0) || !s.LastSeen.Equal(today) {
		t.Errorf("/s: %+v; want the scan's mode and encryption, first seen kept, last seen today", s)
	}
	if s := inv.Sources["/t"]; s == nil || !s.FirstSeen.Equal(today) || !s.LastSeen.Equal(today) {
		t.Errorf("/t: %+v; want first and last seen today", s)
	}
}

func TestPending(t *testing.T) {
	stored := pb("bag_000003", "a", "b")
	stored.uploaded = true
	lost := pb("bag_000004", "c", "d#1/2")
	other := pb("bag_000005", "d#2/2")
	tests := []struct {
		name      string
		bags      []*plannedBag
		done      []string
		planDirty int
		packed    int
		want      int
	}{
		{name: "all stored", bags: []*plannedBag{stored}, done: []string{"/s/a", "/s/b"}, planDirty: 2, packed: 2, want: 0},
		{name: "the atoms of a bag not stored", bags: []*plannedBag{stored, lost}, done: []string{"/s/a", "/s/b"}, planDirty: 4, packed: 2, want: 2},
		{name: "a split atom counts once per missing part", bags: []*plannedBag{lost, other}, planDirty: 2, want: 3},
		{name: "an atom stored in another bag is not pending", bags: []*plannedBag{lost}, done: []string{"/s/c"}, planDirty: 2, packed: 1, want: 1},
		{name: "bags dropped before commit: the plan's count", bags: []*plannedBag{stored}, done: []string{"/s/a", "/s/b"}, planDirty: 7, packed: 2, want: 5},
		{name: "no plan summary: only what the bags show", bags: []*plannedBag{stored, lost}, done: []string{"/s/a", "/s/b"}, planDirty: -1, packed: 2, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := map[string]bool{}
			for _, k := range tt.done {
				done[k] = true
			}
			if got := pending(tt.bags, done, tt.planDirty, tt.packed); got != tt.want {
				t.Errorf("pending %d, want %d", got, tt.want)
			}
		})
	}
}

func TestAdvanceNextBag(t *testing.T) {
	tests := []struct {
		name        string
		next, spent int
		maxID       int
		dryRun      bool
		want        int
	}{
		{name: "nothing stored", next: 5, want: 5},
		{name: "past the highest stored or refused id", next: 5, spent: 7, maxID: 9, want: 8},
		{name: "an id below next_bag changes nothing", next: 5, spent: 3, want: 5},
		{name: "a dry run spends every planned id", next: 5, maxID: 9, dryRun: true, want: 10},
		{name: "a dry run with nothing planned", next: 5, dryRun: true, want: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := inventory.New()
			inv.NextBag = tt.next
			advanceNextBag(inv, tt.spent, tt.maxID, tt.dryRun)
			if inv.NextBag != tt.want {
				t.Errorf("next_bag %d, want %d", inv.NextBag, tt.want)
			}
		})
	}
}

func TestStampRetired(t *testing.T) {
	inv := baseInventory()
	earlier := today.AddDate(0, -1, 0)
	inv.Bags["bag_000007"] = &inventory.Bag{Key: "k7", RetiredAt: earlier} // retired before
	inv.Bags["bag_000008"] = &inventory.Bag{Key: "k8"}                     // unreferenced now
	inv.Bags["bag_000002"].RetiredAt = earlier                             // referenced again
	got := stampRetired(inv, today)
	if !slices.Equal(got, []string{"bag_000008"}) {
		t.Errorf("retired %v, want [bag_000008]", got)
	}
	for id, want := range map[string]time.Time{"bag_000001": {}, "bag_000002": {}, "bag_000007": earlier, "bag_000008": today} {
		if at := inv.Bags[id].RetiredAt; !at.Equal(want) {
			t.Errorf("%s: retired_at %v, want %v", id, at, want)
		}
	}
}

func TestAddRun(t *testing.T) {
	inv := baseInventory()
	addRun(inv, records.Committed{DryRun: true, BagsCommitted: 2, BytesCommitted: 300, AtomsPacked: 4, AtomsKept: 5, AtomsForgotten: 1, AtomsPending: 3}, today)
	want := inventory.Run{At: today, DryRun: true, BagsAdded: 2, BytesAdded: 300, AtomsPacked: 4, AtomsKept: 5, Forgotten: 1, Pending: 3}
	if len(inv.Runs) != 1 || inv.Runs[0] != want {
		t.Errorf("runs %+v, want [%+v]", inv.Runs, want)
	}
}
