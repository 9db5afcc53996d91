package analysis

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/store"
)

var t0 = time.Date(2027, 1, 15, 2, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// inv builds an inventory: bags by id ("" manifest key: none stored),
// and the bag ids atoms refer to.
func inv(bags map[string][2]string, referenced ...string) *inventory.Inventory {
	v := inventory.New()
	for id, keys := range bags {
		v.Bags[id] = &inventory.Bag{Key: keys[0], ManifestKey: keys[1], Bytes: 100, StorageClass: store.DeepArchive, UploadedAt: t0.Add(-365 * day)}
	}
	for _, id := range referenced {
		v.Atoms["/a/"+id] = &inventory.Atom{Bags: []string{id}}
	}
	return v
}

func objs(keys ...string) []store.ObjectInfo {
	var out []store.ObjectInfo
	for _, k := range keys {
		out = append(out, store.ObjectInfo{Key: k, Size: 100, StorageClass: store.DeepArchive, UploadedAt: t0.Add(-365 * day)})
	}
	return out
}

const (
	bag1 = "2026-backup/src_bag_000001.tar.zst"
	man1 = "2026-backup/manifests/src_bag_000001.manifest.ndjson"
	bag2 = "2026-backup/src_bag_000002.tar.zst"
	man2 = "2026-backup/manifests/src_bag_000002.manifest.ndjson"
	bag3 = "2027-backup/encrypted_bag_000003.tar.zst.age"
	man3 = "2027-backup/manifests/encrypted_bag_000003.manifest.ndjson.age"
)

type orphan struct{ object, reason, key, bagKey string }

func TestAnalyze(t *testing.T) {
	for _, tc := range []struct {
		name        string
		inv         *inventory.Inventory
		objects     []store.ObjectInfo
		orphans     []orphan
		missing     []string
		goneRetired []string
		misnamed    []string
		systemYears []int
		counts      [3]int // bags, manifests, other
	}{
		{
			name:        "all needed",
			inv:         inv(map[string][2]string{"bag_000001": {bag1, man1}}, "bag_000001"),
			objects:     objs(bag1, man1, "2026-backup/system/inventory.json", "2026-backup/system/list.txt"),
			systemYears: []int{2026},
			counts:      [3]int{1, 1, 0},
		},
		{
			name: "retired bag and its manifest, a bag the inventory never had, a manifest without bag",
			inv:  inv(map[string][2]string{"bag_000001": {bag1, man1}, "bag_000002": {bag2, man2}}, "bag_000001"),
			objects: objs(bag1, man1, bag2, man2, bag3, "2027-backup/manifests/x_bag_000009.manifest.ndjson",
				"2027-backup/system/inventory.json.age", "notes.txt", "2026-backup/books.tar"),
			orphans: []orphan{
				{ObjectBag, ReasonRetired, bag2, ""},
				{ObjectManifest, ReasonBagOrphaned, man2, bag2},
				{ObjectBag, ReasonNotInInventory, bag3, ""},
				{ObjectManifest, ReasonBagMissing, "2027-backup/manifests/x_bag_000009.manifest.ndjson", ""},
			},
			systemYears: []int{2027},
			counts:      [3]int{3, 3, 2},
		},
		{
			name:     "a referenced id under another key is misnamed, never an orphan",
			inv:      inv(map[string][2]string{"bag_000001": {bag1, man1}}, "bag_000001"),
			objects:  objs(bag1, man1, "2027-backup/other_bag_000001.tar", "2027-backup/manifests/other_bag_000001.manifest.ndjson"),
			misnamed: []string{"2027-backup/other_bag_000001.tar", "2027-backup/manifests/other_bag_000001.manifest.ndjson"}, // bags, then manifests
			counts:   [3]int{2, 2, 0},
		},
		{
			name:    "no manifest key: another manifest of the bag is not misnamed",
			inv:     inv(map[string][2]string{"bag_000001": {bag1, ""}}, "bag_000001"),
			objects: objs(bag1, man1),
			counts:  [3]int{1, 1, 0},
		},
		{
			name:        "missing and gone",
			inv:         inv(map[string][2]string{"bag_000001": {bag1, man1}, "bag_000002": {bag2, man2}}, "bag_000001"),
			objects:     objs(man1),
			missing:     []string{"bag_000001"},
			goneRetired: []string{"bag_000002"},
			counts:      [3]int{0, 1, 0},
		},
		{
			name:        "system years ascending, only those with an inventory",
			inv:         inv(nil),
			objects:     objs("2027-backup/system/inventory.json", "2025-backup/system/inventory.json.age", "2026-backup/system/list.txt"),
			systemYears: []int{2025, 2027},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Analyze(tc.inv, tc.objects)
			var got []orphan
			for _, o := range a.Orphans {
				got = append(got, orphan{o.Object, o.Reason, o.Key, o.BagKey})
			}
			var sortedWant []orphan
			sortedWant = append(sortedWant, tc.orphans...)
			sortOrphans(sortedWant)
			if !reflect.DeepEqual(got, sortedWant) {
				t.Errorf("orphans:\n got %v\nwant %v", got, sortedWant)
			}
			if !reflect.DeepEqual(a.Missing, tc.missing) || !reflect.DeepEqual(a.GoneRetired, tc.goneRetired) {
				t.Errorf("missing %v gone %v, want %v %v", a.Missing, a.GoneRetired, tc.missing, tc.goneRetired)
			}
			var mis []string
			for _, o := range a.Misnamed {
				mis = append(mis, o.Key)
			}
			if !reflect.DeepEqual(mis, tc.misnamed) {
				t.Errorf("misnamed %v, want %v", mis, tc.misnamed)
			}
			if !reflect.DeepEqual(a.SystemYears, tc.systemYears) {
				t.Errorf("system years %v, want %v", a.SystemYears, tc.systemYears)
			}
			if c := [3]int{a.Bags, a.Manifests, a.Other}; c != tc.counts {
				t.Errorf("bags, manifests, other = %v, want %v", c, tc.counts)
			}
			for _, o := range a.Orphans {
				if a.Referenced[o.Bag] {
					t.Errorf("orphan %s carries a referenced id", o.Key)
				}
			}
		})
	}
}

func sortOrphans(o []orphan) {
	for i := 1; i < len(o); i++ {
		for j := i; j > 0 && o[j].key < o[j-1].key; j-- {
			o[j], o[j-1] = o[j-1], o[j]
		}
	}
}

func TestBagIDOfKey(t *testing.T) {
	for key, want := range map[string]string{
		"2026-backup/home-me_x_bag_000042.tar.zst":                 "bag_000042 bag",
		"2026-backup/enc_bag_1234567.tar.zst.age":                  "bag_1234567 bag",
		"2026-backup/src_bag_000001.tar":                           "bag_000001 bag",
		"2026-backup/manifests/src_bag_000001.manifest.ndjson":     "bag_000001 manifest",
		"2026-backup/manifests/enc_bag_000001.manifest.ndjson.age": "bag_000001 manifest",
		"2026-backup/system/inventory.json":                        " ",
		"2026-backup/src_bag_000001.tar.gz":                        " ",
		"2026-backup/sub/src_bag_000001.tar.zst":                   " ",
		"archive-2026/src_bag_000001.tar.zst":                      " ",
		"2026-backup/manifests/src_bag_01.manifest.ndjson":         " ",
	} {
		id, obj := BagIDOfKey(key)
		if id+" "+obj != want {
			t.Errorf("BagIDOfKey(%q) = %q %q, want %q", key, id, obj, want)
		}
	}
}

func TestAgeOf(t *testing.T) {
	p := cost.Prices{MinRetentionDays: 180, GBMonth: 0.00099}
	for _, tc := range []struct {
		name      string
		class     string
		age       time.Duration
		fee       bool
		deletable time.Time
	}{
		{"old deep archive", store.DeepArchive, 200 * day, false, time.Time{}},
		{"young deep archive", store.DeepArchive, 30 * day, true, t0.Add(150 * day)},
		{"young standard: no minimum", store.Standard, 1 * day, false, time.Time{}},
		{"uploaded after now (clock skew)", store.DeepArchive, -1 * day, true, t0.Add(180 * day)},
	} {
		a := AgeOf(store.ObjectInfo{Size: 1e9, StorageClass: tc.class, UploadedAt: t0.Add(-tc.age)}, p, t0)
		if (a.Fee > 0) != tc.fee || !a.DeletableFrom.Equal(tc.deletable) {
			t.Errorf("%s: %+v, want fee %v deletable from %v", tc.name, a, tc.fee, tc.deletable)
		}
		if a.Days < 0 {
			t.Errorf("%s: negative age", tc.name)
		}
	}
}

func TestUploadAge(t *testing.T) {
	for _, tc := range []struct {
		started   time.Duration // before t0
		after     time.Duration
		deletable time.Time
	}{
		{10 * day, 7 * day, time.Time{}},
		{2 * day, 7 * day, t0.Add(5 * day)},
		{0, 0, time.Time{}},
		{-day, 7 * day, t0.Add(7 * day)}, // started "after" now: counted from now
	} {
		a := UploadAge(store.Upload{Initiated: t0.Add(-tc.started)}, t0, tc.after)
		if !a.DeletableFrom.Equal(tc.deletable) {
			t.Errorf("started %v ago, abort after %v: deletable from %v, want %v", tc.started, tc.after, a.DeletableFrom, tc.deletable)
		}
	}
}

func TestWaiting(t *testing.T) {
	p := cost.Prices{MinRetentionDays: 180, GBMonth: 0.00099}
	young := store.ObjectInfo{Size: 1e9, StorageClass: store.DeepArchive, UploadedAt: t0.Add(-10 * day)}
	old := young
	old.UploadedAt = t0.Add(-200 * day)
	for _, tc := range []struct {
		o    Orphan
		want bool
	}{
		{Orphan{Object: ObjectBag, Reason: ReasonRetired, Info: young}, true},
		{Orphan{Object: ObjectBag, Reason: ReasonRetired, Info: old}, false},
		{Orphan{Object: ObjectBag, Reason: ReasonNotInInventory, Info: young}, false},
		{Orphan{Object: ObjectManifest, Reason: ReasonBagOrphaned, Info: young}, false},
	} {
		if got := Waiting(tc.o, p, t0); got != tc.want {
			t.Errorf("Waiting(%s %s) = %v", tc.o.Object, tc.o.Reason, got)
		}
	}
}

type name string

func (n name) String() string { return string(n) }

func TestCheckInventory(t *testing.T) {
	for _, tc := range []struct {
		name    string
		missing bool
		a       Analysis
		refuse  string
	}{
		{"fine", false, Analysis{Bags: 2, Referenced: map[string]bool{"b1": true}}, ""},
		{"no inventory, empty store", true, Analysis{}, ""},
		{"no inventory, bags stored", true, Analysis{Bags: 3}, "does not exist"},
		{"none of the bags stored", false, Analysis{Bags: 3, Referenced: map[string]bool{"b1": true, "b2": true}, Missing: []string{"b1", "b2"}}, "holds none of the 2 bags"},
		{"some missing", false, Analysis{Bags: 3, Referenced: map[string]bool{"b1": true, "b2": true}, Missing: []string{"b1"}}, ""},
	} {
		err := CheckInventory("inv.json", tc.missing, &tc.a, name("file:///s"))
		var r *Refusal
		switch {
		case tc.refuse == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.refuse != "" && (!errors.As(err, &r) || !strings.Contains(err.Error(), tc.refuse) || r.HintText() == ""):
			t.Errorf("%s: %v, want a refusal with %q and a hint", tc.name, err, tc.refuse)
		}
	}
}
