package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/audit"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/exitcode"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/store"
)

var t0 = time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

type fixture struct {
	t   *testing.T
	dir string
	st  *store.Local
	now time.Time
	set *config.Settings
	inv *inventory.Inventory
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: filepath.Join(dir, "store"), now: t0, inv: inventory.New()}
	os.MkdirAll(f.dir, 0o755)
	st, err := store.NewLocal(f.dir, store.LocalOptions{Now: func() time.Time { return f.now }})
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

func (f *fixture) put(key string, b []byte, class string) {
	f.t.Helper()
	if _, err := f.st.Put(context.Background(), key, bytes.NewReader(b), int64(len(b)), store.PutOptions{StorageClass: class}); err != nil {
		f.t.Fatal(err)
	}
}

func bagKey(n int) string { return fmt.Sprintf("2026-backup/src_%s.tar.zst", inventory.BagID(n)) }

// bag stores bag n and its manifest and records them in the inventory,
// referenced by one atom unless retired.
func (f *fixture) bag(n int, retired bool) string {
	f.t.Helper()
	key := bagKey(n)
	b := []byte(strings.Repeat(fmt.Sprint(n), 1000))
	f.put(key, b, store.DeepArchive)
	mk := manifest.Key(key)
	f.put(mk, []byte("{}\n"), store.Standard)
	sum := sha256.Sum256(b)
	id := inventory.BagID(n)
	bg := &inventory.Bag{Key: key, Source: "/src", Bytes: int64(len(b)), SHA256: hex.EncodeToString(sum[:]), StorageClass: store.DeepArchive,
		UploadedAt: f.now, ManifestKey: mk}
	if retired {
		bg.RetiredAt = f.now
	} else {
		atom := fmt.Sprintf("/src/a%d", n)
		bg.Atoms = []string{atom}
		f.inv.Atoms[atom] = &inventory.Atom{Source: "/src", Type: "dir", TarID: id, ArchiveKey: key, Bags: []string{id}}
	}
	f.inv.Bags[id] = bg
	return key
}

// backedUp is a store and inventory as a first run leaves them: two bags,
// their manifests and the system files.
func (f *fixture) backedUp() {
	f.bag(1, false)
	f.bag(2, false)
	f.put("2026-backup/system/inventory.json", []byte("{}"), store.Standard)
	f.put("2026-backup/system/list.txt", []byte("/src ::MUTABLE\n"), store.Standard)
	f.inv.Runs = append(f.inv.Runs, inventory.Run{At: t0, BagsAdded: 2, AtomsPacked: 2})
	f.save()
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

func (r result) findings() map[string][]map[string]any {
	m := map[string][]map[string]any{}
	for _, rec := range r.recs {
		if rec["kind"] == "finding" {
			m[rec["problem"].(string)] = append(m[rec["problem"].(string)], rec)
		}
	}
	return m
}

func (r result) summary() map[string]any {
	for _, rec := range r.recs {
		if rec["kind"] == "audit" {
			return rec
		}
	}
	return nil
}

func (f *fixture) run(st store.Store, at time.Time) result {
	f.t.Helper()
	if st == nil {
		st = f.st
	}
	var out, errOut bytes.Buffer
	err := audit.Run(context.Background(), nil, &out, &errOut, audit.Options{Settings: f.set, Store: st, Now: at})
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

func TestClean(t *testing.T) {
	f := newFixture(t)
	f.backedUp()
	r := f.run(nil, t0.Add(day))
	if r.err != nil {
		t.Fatalf("audit of a fresh backup: %v\n%s%s", r.err, r.out, r.errOut)
	}
	s := r.summary()
	if len(r.recs) != 1 || s == nil || s["clean"] != true || s["bags"] != 2.0 || s["bags_checked"] != 2.0 || s["objects"] != 6.0 || s["system_year"] != 2026.0 {
		t.Errorf("records:\n%s", r.out)
	}
	if !strings.HasPrefix(r.errOut, "gb-audit: clean: 2 bags and their manifests as the inventory says, system files of 2026 present") {
		t.Errorf("stderr = %q", r.errOut)
	}
}

// An empty store and no inventory (nothing backed up yet) is clean.
func TestNothingYet(t *testing.T) {
	f := newFixture(t)
	if r := f.run(nil, t0); r.err != nil || r.summary()["clean"] != true {
		t.Errorf("empty: %v\n%s", r.err, r.out)
	}
	f.bag(1, false) // in the store, but no inventory file
	r := f.run(nil, t0)
	if r.err == nil || !strings.Contains(r.err.Error(), "does not exist") {
		t.Errorf("bags without an inventory: err = %v", r.err)
	}
	if code, ok := exitcode.Of(r.err); ok && code != exitcode.Failure {
		t.Errorf("an audit that could not finish: exit code %d, want %d", code, exitcode.Failure)
	}
}

// A failure to audit is not a finding: it carries no code of its own, so
// the command exits 1.
func TestCannotAudit(t *testing.T) {
	f := newFixture(t)
	f.backedUp()
	if err := os.WriteFile(f.set.InventoryFile, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := f.run(nil, t0.Add(day))
	var pe *audit.ProblemsError
	if r.err == nil || errors.As(r.err, &pe) {
		t.Fatalf("damaged inventory: err = %v, want a failure that is not a ProblemsError", r.err)
	}
	if code, ok := exitcode.Of(r.err); ok && code != exitcode.Failure {
		t.Errorf("damaged inventory: exit code %d, want %d", code, exitcode.Failure)
	}
}

func TestProblems(t *testing.T) {
	f := newFixture(t)
	f.backedUp()
	gone := f.bag(3, false)
	grown := f.bag(4, false)
	resummed := f.bag(5, false)
	reclassed := f.bag(6, false)
	noManifest := f.bag(7, false)
	retiredGone := f.bag(8, true)
	retired := f.bag(9, true)
	f.inv.Bags["bag_000005"].SHA256 = strings.Repeat("0", 64)
	f.inv.Bags["bag_000006"].StorageClass = store.Standard
	f.inv.Runs = append(f.inv.Runs, inventory.Run{At: t0.AddDate(1, 0, 0), BagsAdded: 1})
	f.save()
	ctx := context.Background()
	f.st.Delete(ctx, gone)
	f.st.Delete(ctx, manifest.Key(gone))
	f.st.Delete(ctx, manifest.Key(noManifest))
	f.st.Delete(ctx, retiredGone)
	// A bag that grew on disk (damaged by hand).
	p := filepath.Join(f.dir, filepath.FromSlash(grown))
	os.Chmod(p, 0o600)
	fh, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString("junk")
	fh.Close()
	f.put("2026-backup/src_bag_000042.tar.zst", []byte("stray"), store.DeepArchive)
	f.put("2026-backup/other_bag_000001.tar.zst", []byte("misnamed"), store.DeepArchive)
	us := &uploadStore{Local: f.st, ups: []store.Upload{{Key: "2026-backup/src_bag_000043.tar.zst", ID: "u1", Initiated: t0, StorageClass: store.DeepArchive, Parts: 2, Size: 32 << 20}}}

	r := f.run(us, t0.Add(10*day))
	var pe *audit.ProblemsError
	if !errors.As(r.err, &pe) {
		t.Fatalf("err = %v, want a ProblemsError", r.err)
	}
	if code, ok := exitcode.Of(r.err); !ok || code != exitcode.Warnings {
		t.Errorf("findings: exit code %d (%v), want %d", code, ok, exitcode.Warnings)
	}
	fs := r.findings()
	check := func(problem, key, severity string, n int) map[string]any {
		t.Helper()
		if len(fs[problem]) != n {
			t.Errorf("%s: %d findings, want %d:\n%s", problem, len(fs[problem]), n, r.out)
			return nil
		}
		for _, f := range fs[problem] {
			if f["key"] == key {
				if f["severity"] != severity || f["detail"] == "" {
					t.Errorf("%s: %v", problem, f)
				}
				return f
			}
		}
		t.Errorf("%s: no finding for %s:\n%s", problem, key, r.out)
		return nil
	}
	if m := check("missing-bag", gone, "error", 1); m != nil && (m["bag"] != "bag_000003" || m["atoms"] != 1.0) {
		t.Errorf("missing-bag: %v", m)
	}
	if m := check("size-mismatch", grown, "error", 1); m != nil && (m["expected"] != 1000.0 || m["found"] != 1004.0) {
		t.Errorf("size-mismatch: %v", m)
	}
	if m := check("checksum-mismatch", resummed, "error", 1); m != nil && m["expected"] != strings.Repeat("0", 64) {
		t.Errorf("checksum-mismatch: %v", m)
	}
	if m := check("class-mismatch", reclassed, "error", 1); m != nil && (m["expected"] != "STANDARD" || m["found"] != "DEEP_ARCHIVE") {
		t.Errorf("class-mismatch: %v", m)
	}
	check("missing-manifest", manifest.Key(noManifest), "error", 2) // bag 3's and bag 7's
	check("missing-system-file", "2027-backup/system/inventory.json", "error", 1)
	check("misnamed", "2026-backup/other_bag_000001.tar.zst", "error", 1)
	check("retired-bag-gone", retiredGone, "warning", 1)
	// Orphans: bag 9 and its manifest (retired 10 days ago: waiting out
	// the minimum storage period, not a problem), bag 8's manifest, the
	// stray bag.
	if m := check("orphan", retired, "waiting", 4); m != nil && (m["reason"] != "retired" || m["age_days"] != 10.0 || m["early_deletion_fee_usd"] == nil || m["deletable_from"] == nil) {
		t.Errorf("orphan: %v", m)
	}
	check("orphan", "2026-backup/src_bag_000042.tar.zst", "cost", 4)
	if m := check("open-upload", "2026-backup/src_bag_000043.tar.zst", "cost", 1); m != nil && (m["upload_id"] != "u1" || m["bytes"] != float64(32<<20)) {
		t.Errorf("open-upload: %v", m)
	}
	s := r.summary()
	if s["clean"] != false || s["findings"] != 12.0 || s["orphans_waiting"] != 2.0 || s["uploads"] != 1.0 || s["orphans"] != 4.0 || s["bags"] != 7.0 || s["bags_retired"] != 2.0 {
		t.Errorf("summary: %v", s)
	}
	if !strings.Contains(r.errOut, "gb-audit: missing-bag: bag_000003 is not in the store; 1 atom refers to it and is not backed up\n") {
		t.Errorf("stderr:\n%s", r.errOut)
	}
	if msg := r.err.Error(); !strings.HasPrefix(msg, "12 problems (1 checksum-mismatch, 1 class-mismatch, 1 misnamed, 1 missing-bag, 2 missing-manifest, 1 missing-system-file, 1 size-mismatch, 1 retired-bag-gone, 1 open-upload, 2 orphan) between ") {
		t.Errorf("error = %q", msg)
	}
	if pe.HintText() == "" {
		t.Errorf("no hint")
	}
}

// A file copied into the store by hand has no recorded checksum.
func TestChecksumUnknown(t *testing.T) {
	f := newFixture(t)
	f.backedUp()
	k := bagKey(1)
	os.Remove(filepath.Join(f.dir, ".gb", "meta", filepath.FromSlash(k)+".json"))
	r := f.run(nil, t0)
	if fs := r.findings(); len(fs["checksum-unknown"]) != 1 || fs["checksum-unknown"][0]["key"] != k {
		t.Errorf("findings:\n%s", r.out)
	}
	// Without its sidecar the file also reads as STANDARD.
	if fs := r.findings(); len(fs["class-mismatch"]) != 1 {
		t.Errorf("findings:\n%s", r.out)
	}
}

// headStore lists without checksums, as S3's ListObjectsV2 does; audit
// asks HEAD for them.
type headStore struct {
	*store.Local
	heads atomic.Int64
}

func (h *headStore) List(ctx context.Context, prefix string, fn func(store.ObjectInfo) error) error {
	return h.Local.List(ctx, prefix, func(o store.ObjectInfo) error {
		o.SHA256, o.Metadata = "", nil
		return fn(o)
	})
}

func (h *headStore) Head(ctx context.Context, key string) (store.ObjectInfo, error) {
	h.heads.Add(1)
	return h.Local.Head(ctx, key)
}

func TestChecksumsByHead(t *testing.T) {
	f := newFixture(t)
	f.backedUp()
	hs := &headStore{Local: f.st}
	r := f.run(hs, t0)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.out)
	}
	if hs.heads.Load() != 2 {
		t.Errorf("%d HEAD requests, want 2 (one per bag)", hs.heads.Load())
	}
}

type uploadStore struct {
	*store.Local
	ups []store.Upload
}

func (u *uploadStore) ListUploads(_ context.Context, prefix string, fn func(store.Upload) error) error {
	for _, up := range u.ups {
		if err := fn(up); err != nil {
			return err
		}
	}
	return nil
}

func (u *uploadStore) AbortUpload(context.Context, string, string) error { return nil }
