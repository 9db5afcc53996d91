package prune_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/prune"
	"github.com/gbarchive/gb/pkg/store"
)

var t0 = time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// fixture is a local store whose clock the test moves, an inventory and
// the settings gb-prune reads.
type fixture struct {
	t   *testing.T
	st  *store.Local
	now time.Time // the store's clock: uploads are stamped with it
	set *config.Settings
	inv *inventory.Inventory
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, now: t0, inv: inventory.New()}
	os.MkdirAll(filepath.Join(dir, "store"), 0o755)
	st, err := store.NewLocal(filepath.Join(dir, "store"), store.LocalOptions{Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.st = st
	f.set = &config.Settings{StateDir: filepath.Join(dir, "state"), TargetBagGB: 40, MinRetentionDays: 180, PriceGBMonth: 0.00099}
	if err := f.set.Finish(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) put(key string, size int, class string) {
	f.t.Helper()
	b := bytes.Repeat([]byte{'x'}, size)
	if _, err := f.st.Put(context.Background(), key, bytes.NewReader(b), int64(size), store.PutOptions{StorageClass: class}); err != nil {
		f.t.Fatal(err)
	}
}

func bagKey(year int, n int) string {
	return fmt.Sprintf("%d-backup/src_%s.tar.zst", year, inventory.BagID(n))
}

// bag stores bag n with its manifest (and a local manifest copy) and
// records it in the inventory: referenced by an atom when ref, else as a
// retired bag. inInv false leaves the inventory alone (an uncommitted
// upload).
func (f *fixture) bag(n int, size int, inInv, ref bool) string {
	f.t.Helper()
	key := bagKey(f.now.Year(), n)
	f.put(key, size, store.DeepArchive)
	mk := manifest.Key(key)
	f.put(mk, 100, store.Standard)
	os.MkdirAll(f.set.ManifestDir, 0o755)
	os.WriteFile(filepath.Join(f.set.ManifestDir, manifest.FileName(key)), []byte("{}\n"), 0o644)
	if !inInv {
		return key
	}
	id := inventory.BagID(n)
	b := &inventory.Bag{Key: key, Source: "/src", Bytes: int64(size), StorageClass: store.DeepArchive, UploadedAt: f.now, ManifestKey: mk}
	if ref {
		atom := fmt.Sprintf("/src/a%d", n)
		b.Atoms = []string{atom}
		f.inv.Atoms[atom] = &inventory.Atom{Source: "/src", Type: "dir", TarID: id, ArchiveKey: key, Bags: []string{id}}
	} else {
		b.RetiredAt = f.now
	}
	f.inv.Bags[id] = b
	if n >= f.inv.NextBag {
		f.inv.NextBag = n + 1
	}
	return key
}

func (f *fixture) save() {
	f.t.Helper()
	if err := f.inv.Save(f.set.InventoryFile); err != nil {
		f.t.Fatal(err)
	}
}

type result struct {
	out, errOut string
	err         error
	recs        []map[string]any
}

func (r result) kind(k string) []map[string]any {
	var out []map[string]any
	for _, m := range r.recs {
		if m["kind"] == k {
			out = append(out, m)
		}
	}
	return out
}

func (r result) byKey(kind, key string) map[string]any {
	for _, m := range r.kind(kind) {
		if m["key"] == key {
			return m
		}
	}
	return nil
}

func (f *fixture) run(at time.Time, opts prune.Options) result {
	f.t.Helper()
	opts.Settings, opts.Now = f.set, at
	if opts.Store == nil {
		opts.Store = f.st
	}
	if opts.AbortUploadsAfter == 0 {
		opts.AbortUploadsAfter = 7 * day
	}
	var out, errOut bytes.Buffer
	err := prune.Run(context.Background(), nil, &out, &errOut, opts)
	r := result{out: out.String(), errOut: errOut.String(), err: err}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if jerr := json.Unmarshal([]byte(line), &m); jerr != nil {
			f.t.Fatalf("output line %q: %v", line, jerr)
		}
		r.recs = append(r.recs, m)
	}
	return r
}

func (f *fixture) exists(key string) bool {
	_, err := f.st.Head(context.Background(), key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.t.Fatal(err)
	}
	return err == nil
}

func (f *fixture) loadInv() *inventory.Inventory {
	f.t.Helper()
	inv, err := inventory.Load(f.set.InventoryFile)
	if err != nil {
		f.t.Fatal(err)
	}
	return inv
}

func TestNoOrphans(t *testing.T) {
	f := newFixture(t)
	f.bag(1, 1000, true, true)
	f.bag(2, 1000, true, true)
	f.put("2026-backup/system/inventory.json", 10, store.Standard)
	f.put("2026-backup/system/list.txt", 10, store.Standard)
	f.put("notes/readme.txt", 10, store.Standard) // not gb's: never touched
	f.save()
	r := f.run(t0.Add(400*day), prune.Options{Delete: true})
	if r.err != nil {
		t.Fatal(r.err, r.errOut)
	}
	if n := len(r.kind("orphan")) + len(r.kind("deleted")); n != 0 {
		t.Errorf("got %d orphan/deleted records:\n%s", n, r.out)
	}
	if !strings.Contains(r.errOut, "gb-prune: no orphans") {
		t.Errorf("stderr = %q, want the no-orphans summary", r.errOut)
	}
	for _, k := range []string{"2026-backup/system/inventory.json", "notes/readme.txt", bagKey(2026, 1)} {
		if !f.exists(k) {
			t.Errorf("%s was deleted", k)
		}
	}
}

// The dry run lists every kind of orphan with its age and fee and keeps
// everything; the same with --delete deletes what is free and keeps the
// young bag and its manifest.
func TestOrphans(t *testing.T) {
	f := newFixture(t)
	live := f.bag(1, 1000, true, true)
	oldStray := f.bag(2, 5000, false, false) // uploaded, never committed
	f.now = t0.Add(150 * day)
	young := f.bag(3, 2_000_000, true, false) // retired 150 days after bag 2
	f.put("2026-backup/manifests/src_bag_000009.manifest.ndjson", 50, store.Standard)
	f.put("2026-backup/system/inventory.json", 10, store.Standard)
	f.save()
	at := t0.Add(200 * day) // bag 2 is 200 days old, bag 3 50 days

	r := f.run(at, prune.Options{})
	if r.err != nil {
		t.Fatal(r.err, r.errOut)
	}
	orph := r.kind("orphan")
	if len(orph) != 5 {
		t.Fatalf("got %d orphans, want 5 (2 bags, 3 manifests):\n%s", len(orph), r.out)
	}
	if r.byKey("orphan", live) != nil || r.byKey("orphan", manifest.Key(live)) != nil {
		t.Errorf("a referenced bag or its manifest is listed as an orphan:\n%s", r.out)
	}
	s := r.byKey("orphan", oldStray)
	if s == nil || s["reason"] != "not-in-inventory" || s["object"] != "bag" || s["bag"] != "bag_000002" || s["age_days"] != 200.0 ||
		s["early_deletion_fee_usd"] != 0.0 || s["kept"] != nil || s["deletable_from"] != nil || s["bytes"] != 5000.0 || s["storage_class"] != "DEEP_ARCHIVE" {
		t.Errorf("old uncommitted bag: %v", s)
	}
	y := r.byKey("orphan", young)
	wantFee := 130.0 / 30 * (2_000_000 + 40960) / 1e9 * 0.00099
	if y == nil || y["reason"] != "retired" || y["kept"] != "young" || y["age_days"] != 50.0 ||
		y["deletable_from"] != t0.Add(330*day).Format(time.RFC3339) || !near(y["early_deletion_fee_usd"].(float64), wantFee) {
		t.Errorf("young retired bag: %v (want fee %.6f)", y, wantFee)
	}
	if m := r.byKey("orphan", manifest.Key(young)); m == nil || m["reason"] != "bag-orphaned" || m["kept"] != "bag-kept" || m["bag_key"] != young {
		t.Errorf("manifest of the young bag: %v", m)
	}
	if m := r.byKey("orphan", manifest.Key(oldStray)); m == nil || m["reason"] != "bag-orphaned" || m["kept"] != nil {
		t.Errorf("manifest of the old bag: %v", m)
	}
	if m := r.byKey("orphan", "2026-backup/manifests/src_bag_000009.manifest.ndjson"); m == nil || m["reason"] != "bag-missing" || m["early_deletion_fee_usd"] != 0.0 {
		t.Errorf("manifest without a bag: %v", m)
	}
	if len(r.kind("deleted")) != 0 || !f.exists(oldStray) {
		t.Fatalf("the dry run deleted something:\n%s", r.out)
	}
	sum := r.kind("prune")
	if len(sum) != 1 || sum[0]["dry_run"] != true || sum[0]["orphan_bags"] != 2.0 || sum[0]["kept_young"] != 1.0 {
		t.Errorf("summary: %v", sum)
	}
	wantLine := "gb-prune: dry run: 2 orphan bags, 2.0 MB (and 3 orphan manifests); --delete would delete 1 bag and 2 manifests and keep 1 younger than 180 days (free to delete from 2026-12-11; deleting now would cost <$0.01: --allow-early)\n"
	if r.errOut != wantLine {
		t.Errorf("stderr:\n got %q\nwant %q", r.errOut, wantLine)
	}

	r = f.run(at, prune.Options{Delete: true})
	if r.err != nil {
		t.Fatal(r.err, r.errOut)
	}
	del := r.kind("deleted")
	if len(del) != 3 {
		t.Fatalf("deleted %d, want 3 (old bag, its manifest, bagless manifest):\n%s", len(del), r.out)
	}
	if d := r.byKey("deleted", oldStray); d == nil || d["inventory_dropped"] != nil || d["local_manifest"] != filepath.Join(f.set.ManifestDir, "src_bag_000002.manifest.ndjson") {
		t.Errorf("deleted record of the old bag: %v", d)
	}
	if _, err := os.Stat(filepath.Join(f.set.ManifestDir, "src_bag_000002.manifest.ndjson")); !os.IsNotExist(err) {
		t.Errorf("local manifest of the deleted bag is still there (%v)", err)
	}
	for _, k := range []string{oldStray, manifest.Key(oldStray), "2026-backup/manifests/src_bag_000009.manifest.ndjson"} {
		if f.exists(k) {
			t.Errorf("%s was not deleted", k)
		}
	}
	for _, k := range []string{live, manifest.Key(live), young, manifest.Key(young), "2026-backup/system/inventory.json"} {
		if !f.exists(k) {
			t.Errorf("%s was deleted", k)
		}
	}
	wantLine = "gb-prune: 2 orphan bags, 2.0 MB (and 3 orphan manifests); deleted 1 bag and 2 manifests, kept 1 younger than 180 days (free to delete from 2026-12-11; deleting now costs <$0.01: --allow-early)\n"
	if r.errOut != wantLine {
		t.Errorf("stderr:\n got %q\nwant %q", r.errOut, wantLine)
	}
	if inv := f.loadInv(); inv.Bags["bag_000003"] == nil {
		t.Errorf("the young retired bag left the inventory")
	}

	// 200 days later the retired bag is free: deleted, and dropped from
	// the inventory (with a daily backup first and the system copy
	// refreshed).
	later := t0.Add(400 * day)
	r = f.run(later, prune.Options{Delete: true})
	if r.err != nil {
		t.Fatal(r.err, r.errOut)
	}
	d := r.byKey("deleted", young)
	if d == nil || d["inventory_dropped"] != true || d["early_deletion_fee_usd"] != 0.0 || d["reason"] != "retired" {
		t.Errorf("deleted record of the retired bag: %v\n%s", d, r.out)
	}
	if f.exists(young) || f.exists(manifest.Key(young)) {
		t.Errorf("retired bag or its manifest still stored")
	}
	inv := f.loadInv()
	if inv.Bags["bag_000003"] != nil || inv.Bags["bag_000001"] == nil || inv.NextBag != 4 {
		t.Errorf("inventory after prune: bags %v, next_bag %d", inv.SortedBagIDs(), inv.NextBag)
	}
	if _, err := os.Stat(filepath.Join(f.set.InventoryBakDir, "inventory-"+later.Format("2006-01-02")+".json")); err != nil {
		t.Errorf("no daily backup before the inventory changed: %v", err)
	}
	sys, err := f.st.Get(context.Background(), "2026-backup/system/inventory.json", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	var sb bytes.Buffer
	sb.ReadFrom(sys)
	sys.Close()
	if !strings.Contains(sb.String(), "bag_000001") || strings.Contains(sb.String(), "bag_000003") {
		t.Errorf("system/inventory.json not refreshed:\n%s", sb.String())
	}
	if s := r.kind("prune")[0]; s["system_files"] == nil || s["deleted_bags"] != 1.0 {
		t.Errorf("summary: %v", s)
	}

	// Nothing left: a second run changes nothing.
	r = f.run(later, prune.Options{Delete: true})
	if r.err != nil || len(r.kind("orphan")) != 0 || len(r.kind("deleted")) != 0 {
		t.Errorf("second run: %v\n%s%s", r.err, r.out, r.errOut)
	}
}

func near(a, b float64) bool { return a-b < 1e-4 && b-a < 1e-4 }

func TestAllowEarly(t *testing.T) {
	f := newFixture(t)
	f.bag(1, 1000, true, true)
	young := f.bag(2, 3000, true, false)
	f.save()
	f.set.PriceGBMonth = 100 // a fee that shows in cents
	at := t0.Add(30 * day)
	r := f.run(at, prune.Options{Delete: true, AllowEarly: true})
	if r.err != nil {
		t.Fatal(r.err, r.errOut)
	}
	d := r.byKey("deleted", young)
	wantFee := 150.0 / 30 * (3000 + 40960) / 1e9 * 100
	if d == nil || !near(d["early_deletion_fee_usd"].(float64), wantFee) || d["inventory_dropped"] != true {
		t.Fatalf("deleted record: %v (want fee %.4f)\n%s", d, wantFee, r.out)
	}
	if o := r.byKey("orphan", young); o == nil || o["kept"] != nil {
		t.Errorf("orphan record with --allow-early: %v", o)
	}
	if f.exists(young) || f.exists(manifest.Key(young)) {
		t.Errorf("young bag or its manifest not deleted")
	}
	if !strings.Contains(r.errOut, "deleted 1 bag and 1 manifest (early-deletion fees $0.02)") {
		t.Errorf("stderr = %q", r.errOut)
	}
}

// Nothing with the id of a bag in use is deleted, even under another key.
func TestNeverDeletesReferencedIDs(t *testing.T) {
	f := newFixture(t)
	f.bag(1, 1000, true, true)
	other := "2026-backup/renamed_bag_000001.tar.zst"
	f.put(other, 10, store.DeepArchive)
	f.put("2026-backup/manifests/renamed_bag_000001.manifest.ndjson", 10, store.Standard)
	f.save()
	r := f.run(t0.Add(400*day), prune.Options{Delete: true, AllowEarly: true})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.kind("orphan")) != 0 || !f.exists(other) {
		t.Errorf("an object with a referenced id was pruned:\n%s", r.out)
	}
	if !strings.Contains(r.errOut, "2 objects carry the id of a bag in use under another key") {
		t.Errorf("stderr = %q", r.errOut)
	}
}

func TestRefusals(t *testing.T) {
	t.Run("no inventory", func(t *testing.T) {
		f := newFixture(t)
		k := f.bag(1, 1000, false, false)
		r := f.run(t0.Add(400*day), prune.Options{Delete: true})
		var h interface{ HintText() string }
		if r.err == nil || !strings.Contains(r.err.Error(), "does not exist") || !errors.As(r.err, &h) {
			t.Fatalf("err = %v, want a refusal with a hint", r.err)
		}
		if !f.exists(k) || r.out != "" {
			t.Errorf("something was deleted or written:\n%s", r.out)
		}
	})
	t.Run("wrong store", func(t *testing.T) {
		f := newFixture(t)
		f.bag(1, 1000, true, true)
		f.save()
		f.st.Delete(context.Background(), bagKey(2026, 1))
		k := f.bag(7, 1000, false, false) // another archive's bag
		r := f.run(t0.Add(400*day), prune.Options{Delete: true})
		if r.err == nil || !strings.Contains(r.err.Error(), "holds none of the 1 bags") {
			t.Fatalf("err = %v, want the wrong-destination refusal", r.err)
		}
		if !f.exists(k) {
			t.Errorf("deleted a bag of what may be another archive")
		}
	})
	t.Run("inventory locked", func(t *testing.T) {
		f := newFixture(t)
		f.bag(1, 1000, true, true)
		k := f.bag(2, 1000, false, false)
		f.save()
		lock, err := inventory.Acquire(f.set.InventoryFile)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Release()
		r := f.run(t0.Add(400*day), prune.Options{Delete: true})
		if r.err == nil || !strings.Contains(r.err.Error(), "locked") || !f.exists(k) {
			t.Errorf("--delete under a held lock: %v", r.err)
		}
		if r := f.run(t0.Add(400*day), prune.Options{}); r.err != nil || len(r.kind("orphan")) != 2 {
			t.Errorf("dry run under a held lock: %v\n%s", r.err, r.out)
		}
	})
}

// A retired bag deleted by hand (or by a prune that died before saving)
// leaves the inventory on the next --delete.
func TestGoneRetiredBags(t *testing.T) {
	f := newFixture(t)
	f.bag(1, 1000, true, true)
	k := f.bag(2, 1000, true, false)
	f.save()
	f.st.Delete(context.Background(), k)
	r := f.run(t0.Add(10*day), prune.Options{})
	if r.err != nil || !strings.Contains(r.errOut, "1 retired bag in the inventory no longer in the store") {
		t.Errorf("dry run: %v %q", r.err, r.errOut)
	}
	r = f.run(t0.Add(10*day), prune.Options{Delete: true})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if d := r.byKey("deleted", k); d == nil || d["already_gone"] != true || d["inventory_dropped"] != true {
		t.Errorf("deleted record: %v\n%s", d, r.out)
	}
	if d := r.byKey("deleted", manifest.Key(k)); d == nil || d["reason"] != "bag-missing" {
		t.Errorf("its manifest: %v", d)
	}
	if f.loadInv().Bags["bag_000002"] != nil {
		t.Errorf("bag_000002 still in the inventory")
	}
}

// uploadStore is the local store with incomplete uploads, as S3 has.
type uploadStore struct {
	*store.Local
	ups     []store.Upload
	aborted []string
}

func (u *uploadStore) ListUploads(_ context.Context, prefix string, fn func(store.Upload) error) error {
	for _, up := range u.ups {
		if strings.HasPrefix(up.Key, prefix) {
			if err := fn(up); err != nil {
				return err
			}
		}
	}
	return nil
}

func (u *uploadStore) AbortUpload(_ context.Context, key, id string) error {
	u.aborted = append(u.aborted, key+" "+id)
	return nil
}

func TestIncompleteUploads(t *testing.T) {
	f := newFixture(t)
	f.bag(1, 1000, true, true)
	f.save()
	us := &uploadStore{Local: f.st, ups: []store.Upload{
		{Key: "2026-backup/src_bag_000005.tar.zst", ID: "old", Initiated: t0, StorageClass: store.DeepArchive, Parts: 3, Size: 48 << 20},
		{Key: "2026-backup/src_bag_000006.tar.zst", ID: "new", Initiated: t0.Add(9 * day), StorageClass: store.DeepArchive, Parts: 1, Size: 16 << 20},
	}}
	at := t0.Add(10 * day)
	r := f.run(at, prune.Options{Store: us})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(us.aborted) != 0 {
		t.Fatalf("dry run aborted %v", us.aborted)
	}
	o := r.kind("orphan")
	if len(o) != 2 || o[0]["object"] != "upload" || o[0]["upload_id"] != "old" || o[0]["kept"] != nil || o[0]["bytes"] != float64(48<<20) ||
		o[1]["kept"] != "recent" || o[1]["deletable_from"] != t0.Add(16*day).Format(time.RFC3339) {
		t.Errorf("upload orphans:\n%s", r.out)
	}
	if !strings.Contains(r.errOut, "2 incomplete uploads, 67.1 MB (--delete aborts those older than 7d)") {
		t.Errorf("stderr = %q", r.errOut)
	}
	r = f.run(at, prune.Options{Store: us, Delete: true})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(us.aborted) != 1 || us.aborted[0] != "2026-backup/src_bag_000005.tar.zst old" {
		t.Errorf("aborted %v, want the old upload only", us.aborted)
	}
	if d := r.kind("deleted"); len(d) != 1 || d[0]["object"] != "upload" || d[0]["upload_id"] != "old" {
		t.Errorf("deleted records:\n%s", r.out)
	}
	if !strings.Contains(r.errOut, "2 incomplete uploads, 67.1 MB: 1 aborted, 1 younger than 7d kept") {
		t.Errorf("stderr = %q", r.errOut)
	}
	// abort_uploads_after 0 aborts every one (the helper takes 0 for the
	// default, so the test says -1, which acts the same).
	us.aborted = nil
	r = f.run(at, prune.Options{Store: us, Delete: true, AbortUploadsAfter: -1})
	if r.err != nil || len(us.aborted) != 2 {
		t.Errorf("after 0: aborted %v (%v)", us.aborted, r.err)
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * day, "1.5d": 36 * time.Hour, "36h": 36 * time.Hour, "0": 0, "0d": 0, " 90m ": 90 * time.Minute} {
		got, err := prune.ParseAge(in)
		if err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "7", "-1d", "seven days", "d"} {
		if _, err := prune.ParseAge(in); err == nil || !config.IsConfigError(err) {
			t.Errorf("ParseAge(%q): err = %v, want a configuration error", in, err)
		}
	}
}

// failStore refuses to delete one key.
type failStore struct {
	*store.Local
	key string
}

func (s failStore) Delete(ctx context.Context, key string) error {
	if key == s.key {
		return errors.New("access denied")
	}
	return s.Local.Delete(ctx, key)
}

// A deletion that fails keeps its manifest, leaves the others going, and
// makes the run fail; what was deleted is still saved in the inventory.
func TestDeleteFailure(t *testing.T) {
	f := newFixture(t)
	f.bag(1, 1000, true, true)
	bad := f.bag(2, 1000, true, false)
	good := f.bag(3, 1000, true, false)
	f.save()
	r := f.run(t0.Add(400*day), prune.Options{Store: failStore{f.st, bad}, Delete: true})
	if r.err == nil || !strings.Contains(r.err.Error(), "1 deletions failed (first: access denied)") {
		t.Fatalf("err = %v", r.err)
	}
	if !strings.Contains(r.errOut, "gb-prune: warning: delete "+bad+": access denied") {
		t.Errorf("stderr = %q", r.errOut)
	}
	if !f.exists(bad) || !f.exists(manifest.Key(bad)) || f.exists(good) || f.exists(manifest.Key(good)) {
		t.Errorf("wrong objects deleted")
	}
	inv := f.loadInv()
	if inv.Bags["bag_000002"] == nil || inv.Bags["bag_000003"] != nil {
		t.Errorf("inventory bags after a partial prune: %v", inv.SortedBagIDs())
	}
	if s := r.kind("prune"); len(s) != 1 || s[0]["failed"] != 1.0 {
		t.Errorf("summary: %v", s)
	}
}

type brokenPipe struct{ n int }

func (b *brokenPipe) Write(p []byte) (int, error) {
	if b.n--; b.n < 0 {
		return 0, errors.New("broken pipe")
	}
	return len(p), nil
}

// When stdout goes away, deleting stops at the first record that cannot
// be written, and what was deleted is saved.
func TestOutputGone(t *testing.T) {
	f := newFixture(t)
	f.bag(1, 1000, true, true)
	k2 := f.bag(2, 1000, true, false)
	k3 := f.bag(3, 1000, true, false)
	f.save()
	// The 4 orphan records fit; the first deleted record does not.
	out := &brokenPipe{n: 4}
	err := prune.Run(context.Background(), nil, out, io.Discard, prune.Options{Settings: f.set, Store: f.st, Now: t0.Add(400 * day), Delete: true, AbortUploadsAfter: 7 * day})
	if err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("err = %v", err)
	}
	if f.exists(k2) || !f.exists(k3) || !f.exists(manifest.Key(k2)) {
		t.Errorf("deleted after the output broke: bag 2 gone %v, bag 3 gone %v", !f.exists(k2), !f.exists(k3))
	}
	if inv := f.loadInv(); inv.Bags["bag_000002"] != nil || inv.Bags["bag_000003"] == nil {
		t.Errorf("inventory: %v", inv.SortedBagIDs())
	}
}
