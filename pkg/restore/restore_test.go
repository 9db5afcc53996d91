package restore_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/bag"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/exitcode"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/restore"
	"github.com/gbarchive/gb/pkg/store"
)

var t0 = time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC)

// Costs against a hand calculation: two bags of 80 GB together, kept 7
// days, at the default prices.
func TestCost(t *testing.T) {
	p := cost.Prices{EgressGB: 0.09, ThawStandardGB: 0.02, ThawBulkGB: 0.0025, ReqStandard1k: 0.10, ReqBulk1k: 0.025, StandardGBMonth: 0.023}
	// Bulk: thaw 80 × 0.0025 = 0.2; requests 2 / 1000 × 0.025 = 0.00005;
	// download 80 × 0.09 = 7.2; copy 80 × 0.023 × 7 / 30 = 0.429333…;
	// total 7.829383…
	// Standard: thaw 80 × 0.02 = 1.6; requests 2 / 1000 × 0.10 = 0.0002;
	// download 7.2; copy 0.429333…; total 9.229533…
	cases := []struct {
		tier                                     string
		thaw, req, egress, storage, total, hours float64
	}{
		{store.TierBulk, 0.2, 0.0001, 7.2, 0.4293, 7.8294, 48},
		{store.TierStandard, 1.6, 0.0002, 7.2, 0.4293, 9.2295, 12},
	}
	for _, c := range cases {
		got := restore.Cost(p, c.tier, 80e9, 2, 7)
		want := records.RestoreCost{Tier: c.tier, Bags: 2, Bytes: 80e9, ThawUSD: c.thaw, RequestsUSD: c.req, EgressUSD: c.egress,
			StorageUSD: c.storage, TotalUSD: c.total, Hours: c.hours, Days: 7}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("%s:\n got %s\nwant %s", c.tier, gb, wb)
		}
	}
	if d := restore.Cost(p, store.TierBulk, 80e9, 2, 7).Describe(); d != "$7.83 (thaw $0.20, requests <$0.01, download $7.20, 7 days of restored copy $0.43)" {
		t.Errorf("Describe: %s", d)
	}
	if math.Abs(p.RestoredCopy(30e9, 30)-0.69) > 1e-9 {
		t.Errorf("a month of 30 GB restored: %v", p.RestoredCopy(30e9, 30))
	}
}

// fixture: a local store whose clock the test moves, a state directory,
// an inventory, and the bags the test puts there.
type fixture struct {
	t      *testing.T
	dir    string
	now    time.Time
	st     *store.Local
	set    *config.Settings
	inv    *inventory.Inventory
	target string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, now: t0, inv: inventory.New(), target: filepath.Join(dir, "out")}
	os.MkdirAll(filepath.Join(dir, "store"), 0o755)
	st, err := store.NewLocal(filepath.Join(dir, "store"), store.LocalOptions{Now: func() time.Time { return f.now },
		RestoreDelay: map[string]time.Duration{store.TierBulk: time.Hour, store.TierStandard: 10 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	f.st = st
	f.set = &config.Settings{StateDir: filepath.Join(dir, "state"), TargetBagGB: 40, PriceEgressGB: 0.09, PriceThawBulkGB: 0.0025,
		PriceReqBulk1k: 0.025, PriceStandardGBMonth: 0.023, Dest: st.String()}
	if err := f.set.Finish(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) opts() restore.Options {
	return restore.Options{Settings: f.set, Store: f.st, Now: f.now, Target: f.target}
}

// addBag stores a bag (already compressed or not, as key says) with its
// manifest and lists it in the inventory.
func (f *fixture) addBag(id, key string, body []byte, entries []manifest.Entry) {
	f.t.Helper()
	sum := sha256.Sum256(body)
	sha := hex.EncodeToString(sum[:])
	if _, err := f.st.Put(context.Background(), key, bytes.NewReader(body), int64(len(body)), store.PutOptions{StorageClass: store.DeepArchive, SHA256: sha}); err != nil {
		f.t.Fatal(err)
	}
	var m bytes.Buffer
	enc := json.NewEncoder(&m)
	enc.Encode(manifest.Header{Kind: manifest.KindHeader, Bag: id, Key: key, Source: "/src"})
	for _, e := range entries {
		e.Kind = manifest.KindFile
		enc.Encode(e)
	}
	enc.Encode(manifest.End{Kind: manifest.KindEnd, Files: int64(len(entries)), BagSHA: sha, BagLen: int64(len(body))})
	os.MkdirAll(f.set.ManifestDir, 0o755)
	if err := os.WriteFile(filepath.Join(f.set.ManifestDir, manifest.FileName(key)), m.Bytes(), 0o644); err != nil {
		f.t.Fatal(err)
	}
	comp := "none"
	if strings.HasSuffix(key, ".zst") {
		comp = "zstd"
	}
	f.inv.Bags[id] = &inventory.Bag{Key: key, Source: "/src", Bytes: int64(len(body)), SHA256: sha, StorageClass: store.DeepArchive,
		UploadedAt: f.now, Compress: comp, Atoms: []string{"/src"}, ManifestKey: manifest.Key(key)}
	f.inv.Atoms["/src"] = &inventory.Atom{Source: "/src", Type: "dir", Bags: []string{id}}
	if err := f.inv.Save(f.set.InventoryFile); err != nil {
		f.t.Fatal(err)
	}
}

// thaw plans the given bags, requests them and lets the delay pass.
func (f *fixture) thaw(bags ...string) {
	f.t.Helper()
	o := f.opts()
	o.Bags = bags
	var out, errOut bytes.Buffer
	if err := restore.Plan(context.Background(), nil, &out, &errOut, o); err != nil {
		f.t.Fatalf("plan: %v\n%s", err, errOut.String())
	}
	o.Yes = true
	if err := restore.Request(context.Background(), nil, &out, &errOut, o); err != nil {
		f.t.Fatalf("request: %v\n%s", err, errOut.String())
	}
	f.now = f.now.Add(2 * time.Hour)
}

// fetch runs fetch and returns its records by kind.
func (f *fixture) fetch(mod func(*restore.Options)) (map[string][]map[string]any, string, error) {
	f.t.Helper()
	o := f.opts()
	if mod != nil {
		mod(&o)
	}
	var out, errOut bytes.Buffer
	err := restore.Fetch(context.Background(), &out, &errOut, o)
	recs := map[string][]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if jerr := json.Unmarshal([]byte(l), &m); jerr != nil {
			f.t.Fatalf("bad record %q", l)
		}
		recs[m["kind"].(string)] = append(recs[m["kind"].(string)], m)
	}
	return recs, errOut.String(), err
}

type tarEntry struct {
	hdr  tar.Header
	body string
}

func mkTar(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		h.Size = int64(len(e.body))
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.ModTime.IsZero() {
			h.ModTime = t0
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func byPath(recs []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range recs {
		out[r["path"].(string)] = r
	}
	return out
}

// A hostile bag: names with "..", absolute names, symlinks pointing out
// of the target followed by entries under them, a hard link out. Every one
// is refused, nothing is written outside the target, and the good entries
// still come back.
func TestExtractRefusesEscapes(t *testing.T) {
	f := newFixture(t)
	outside := filepath.Join(f.dir, "outside")
	os.MkdirAll(outside, 0o755)
	body := mkTar(t, []tarEntry{
		{hdr: tar.Header{Name: "a/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "a/ok.txt", Typeflag: tar.TypeReg}, body: "fine\n"},
		{hdr: tar.Header{Name: "../evil", Typeflag: tar.TypeReg}, body: "evil\n"},
		{hdr: tar.Header{Name: "a/../../evil2", Typeflag: tar.TypeReg}, body: "evil\n"},
		{hdr: tar.Header{Name: "/abs-evil", Typeflag: tar.TypeReg}, body: "evil\n"},
		{hdr: tar.Header{Name: "a/up", Typeflag: tar.TypeSymlink, Linkname: "../../outside"}},
		{hdr: tar.Header{Name: "a/up/evil.txt", Typeflag: tar.TypeReg}, body: "evil\n"},
		{hdr: tar.Header{Name: "a/abs", Typeflag: tar.TypeSymlink, Linkname: outside}},
		{hdr: tar.Header{Name: "a/abs/evil.txt", Typeflag: tar.TypeReg}, body: "evil\n"},
		{hdr: tar.Header{Name: "a/abs/sub/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "a/hl", Typeflag: tar.TypeLink, Linkname: "../outside/x"}},
		{hdr: tar.Header{Name: "a/z.txt", Typeflag: tar.TypeReg}, body: "last\n"},
	})
	f.addBag("bag_000001", "2026-backup/src_bag_000001.tar", body, []manifest.Entry{
		{Path: "/a", Type: "dir", Mode: "0755", Mtime: t0.Format(time.RFC3339Nano)},
		{Path: "/a/ok.txt", Type: "file", Size: 5, SHA256: sha("fine\n"), Mode: "0644", Mtime: t0.Format(time.RFC3339Nano)},
		{Path: "/a/up", Type: "symlink", Link: "../../outside"},
		{Path: "/a/up/evil.txt", Type: "file", Size: 5, SHA256: sha("evil\n")},
		{Path: "/a/abs", Type: "symlink", Link: outside},
		{Path: "/a/abs/evil.txt", Type: "file", Size: 5, SHA256: sha("evil\n")},
		{Path: "/a/abs/sub", Type: "dir"},
		{Path: "/a/hl", Type: "hardlink", Link: "/outside/x"},
		{Path: "/a/z.txt", Type: "file", Size: 5, SHA256: sha("last\n"), Mode: "0644", Mtime: t0.Format(time.RFC3339Nano)},
	})
	f.thaw("bag_000001")
	recs, stderr, err := f.fetch(nil)
	if !errors.Is(err, records.ErrWarnings) {
		t.Fatalf("fetch: %v, want warnings\n%s", err, stderr)
	}
	files := byPath(recs[records.KindRestoreFile])
	want := map[string]string{
		"a/../../evil2":   "skipped unsafe-name",
		"../evil":         "skipped unsafe-name",
		"/abs-evil":       "skipped unsafe-name",
		"/a/up/evil.txt":  "skipped escapes-target",
		"/a/abs/evil.txt": "skipped escapes-target",
		"/a/abs/sub":      "skipped escapes-target",
		"/a/hl":           "skipped unsafe-name",
		"/a/ok.txt":       "ok ",
		"/a/z.txt":        "ok ",
		"/a/up":           "ok ",
		"/a/abs":          "ok ",
		"/a":              "ok ",
	}
	for p, w := range want {
		r := files[p]
		if r == nil {
			t.Errorf("%s: no record", p)
			continue
		}
		reason, _ := r["reason"].(string)
		if got := r["status"].(string) + " " + reason; got != w {
			t.Errorf("%s: %s (%v), want %s", p, got, r["error"], w)
		}
	}
	if len(files) != len(want) {
		t.Errorf("%d records, want %d: %v", len(files), len(want), recs[records.KindRestoreFile])
	}
	ents, _ := os.ReadDir(outside)
	if len(ents) != 0 {
		t.Errorf("written outside the target: %v", ents)
	}
	for _, p := range []string{filepath.Join(f.dir, "evil"), filepath.Join(f.dir, "evil2"), "/abs-evil"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was written", p)
		}
	}
	if b, err := os.ReadFile(filepath.Join(f.target, "a", "z.txt")); err != nil || string(b) != "last\n" {
		t.Errorf("a/z.txt: %q %v", b, err)
	}
	if l, err := os.Readlink(filepath.Join(f.target, "a", "up")); err != nil || l != "../../outside" {
		t.Errorf("a/up: %q %v (symlinks themselves are restored as they were)", l, err)
	}
}

// A sparse file comes back with its holes, and the same content.
func TestExtractSparse(t *testing.T) {
	f := newFixture(t)
	src := filepath.Join(f.dir, "src")
	os.MkdirAll(src, 0o755)
	p := filepath.Join(src, "disk.img")
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	fh.Truncate(32 << 20)
	fh.WriteAt(data, 8<<20)
	fh.WriteAt(data[:5000], 20<<20)
	fh.Close()
	var st syscall.Stat_t
	syscall.Stat(p, &st)
	if st.Blocks*512 > 4<<20 {
		t.Skipf("this filesystem does not keep holes (%d bytes allocated)", st.Blocks*512)
	}
	var buf bytes.Buffer
	bw, err := bag.NewWriter(&buf, "zstd")
	if err != nil {
		t.Fatal(err)
	}
	var entries []manifest.Entry
	for _, q := range []string{src, p} {
		info, _ := os.Lstat(q)
		e, skipped, warn, err := bw.Add(q, info)
		if err != nil || skipped || warn != nil {
			t.Fatalf("add %s: %v %v %v", q, skipped, warn, err)
		}
		entries = append(entries, e)
	}
	if _, _, err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	if !entries[1].Sparse {
		t.Fatalf("not packed as sparse: %+v", entries[1])
	}
	f.addBag("bag_000001", "2026-backup/src_bag_000001.tar.zst", buf.Bytes(), entries)
	f.thaw("bag_000001")
	recs, stderr, err := f.fetch(nil)
	if err != nil {
		t.Fatalf("fetch: %v\n%s", err, stderr)
	}
	if r := byPath(recs[records.KindRestoreFile])[p]; r == nil || r["status"] != restore.FileOK {
		t.Fatalf("record: %v", r)
	}
	out := filepath.Join(f.target, p)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(p)
	if !bytes.Equal(got, want) {
		t.Fatal("content differs")
	}
	syscall.Stat(out, &st)
	if st.Size != 32<<20 || st.Blocks*512 > 3<<20 {
		t.Errorf("restored: %d bytes, %d allocated; want 32 MiB with about 1 MiB allocated", st.Size, st.Blocks*512)
	}
	fi, _ := os.Stat(out)
	if oi, _ := os.Stat(p); !fi.ModTime().Equal(oi.ModTime()) || fi.Mode() != oi.Mode() {
		t.Errorf("metadata: %v %v, want %v %v", fi.ModTime(), fi.Mode(), oi.ModTime(), oi.Mode())
	}
}

// smallBag is a bag of a few files and its manifest.
func smallBag(t *testing.T, f *fixture) []byte {
	big := strings.Repeat("resumable bytes ", 40000)
	body := mkTar(t, []tarEntry{
		{hdr: tar.Header{Name: "src/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "src/big.txt", Typeflag: tar.TypeReg}, body: big},
		{hdr: tar.Header{Name: "src/small.txt", Typeflag: tar.TypeReg, Mode: 0o600}, body: "small\n"},
	})
	f.addBag("bag_000001", "2026-backup/src_bag_000001.tar", body, []manifest.Entry{
		{Path: "/src", Type: "dir", Mode: "0755", Mtime: t0.Format(time.RFC3339Nano)},
		{Path: "/src/big.txt", Type: "file", Size: int64(len(big)), SHA256: sha(big), Mode: "0644", Mtime: t0.Format(time.RFC3339Nano)},
		{Path: "/src/small.txt", Type: "file", Size: 6, SHA256: sha("small\n"), Mode: "0600", Mtime: t0.Format(time.RFC3339Nano)},
	})
	return body
}

// A download cut short goes on from where it stopped; one whose bytes
// are damaged fails the bag's SHA-256, is deleted, and is fetched again.
func TestFetchResumes(t *testing.T) {
	f := newFixture(t)
	body := smallBag(t, f)
	f.thaw("bag_000001")
	work := filepath.Join(f.target, ".gb-restore")
	os.MkdirAll(work, 0o700)
	half := len(body) / 2
	partial := filepath.Join(work, "bag_000001.partial")

	// Damaged: a flipped byte in the part already there.
	bad := append([]byte(nil), body[:half]...)
	bad[100] ^= 1
	os.WriteFile(partial, bad, 0o600)
	recs, stderr, err := f.fetch(nil)
	if err == nil || !strings.Contains(stderr, "is damaged") {
		t.Fatalf("damaged partial: %v\n%s", err, stderr)
	}
	if r := recs[records.KindRestoreBag][0]; r["state"] != restore.StateFailed {
		t.Errorf("bag record: %v", r)
	}
	if _, err := os.Stat(partial); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("damaged partial kept: %v", err)
	}

	// Cut short: the first half is there.
	os.MkdirAll(work, 0o700)
	if err := os.WriteFile(partial, body[:half], 0o600); err != nil {
		t.Fatal(err)
	}
	recs, stderr, err = f.fetch(nil)
	if err != nil {
		t.Fatalf("fetch: %v\n%s", err, stderr)
	}
	r := recs[records.KindRestoreBag][0]
	if r["state"] != restore.StateRestored || int(r["resumed_at"].(float64)) != half || int(r["downloaded"].(float64)) != len(body)-half {
		t.Errorf("bag record: %v (want resumed at %d, %d downloaded)", r, half, len(body)-half)
	}
	if !strings.Contains(stderr, "resuming the download at") {
		t.Errorf("stderr: %s", stderr)
	}
	b, _ := os.ReadFile(filepath.Join(f.target, "src", "big.txt"))
	if string(b) != strings.Repeat("resumable bytes ", 40000) {
		t.Error("big.txt differs")
	}
	if _, err := os.Stat(work); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("work directory left: %v", err)
	}
	// Again: done, nothing downloaded.
	recs, _, err = f.fetch(nil)
	if err != nil || recs[records.KindRestoreBag][0]["state"] != "already-restored" || len(recs[records.KindRestoreFile]) != 0 {
		t.Errorf("second fetch: %v %v", err, recs)
	}
}

// The store's object is not the bag the inventory knows: refused before
// anything is extracted.
func TestFetchChecksBag(t *testing.T) {
	f := newFixture(t)
	smallBag(t, f)
	f.thaw("bag_000001")
	s, err := restore.LoadState(restore.DefaultStateFile(f.set))
	if err != nil {
		t.Fatal(err)
	}
	s.Bags[0].SHA256 = strings.Repeat("0", 64)
	s.Save(restore.DefaultStateFile(f.set))
	_, stderr, err := f.fetch(nil)
	if err == nil || !strings.Contains(stderr, "is damaged") {
		t.Fatalf("fetch: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(f.target, "src")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("extracted from a bag that failed its check: %v", err)
	}
}

// A file whose content is not what the manifest says is reported
// (mismatch, exit 3); a file already there is kept unless --overwrite.
func TestFetchMismatchAndExisting(t *testing.T) {
	f := newFixture(t)
	body := mkTar(t, []tarEntry{
		{hdr: tar.Header{Name: "src/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "src/a.txt", Typeflag: tar.TypeReg}, body: "what the bag holds\n"},
		{hdr: tar.Header{Name: "src/b.txt", Typeflag: tar.TypeReg}, body: "bee\n"},
	})
	f.addBag("bag_000001", "2026-backup/src_bag_000001.tar", body, []manifest.Entry{
		{Path: "/src", Type: "dir", Mode: "0755"},
		{Path: "/src/a.txt", Type: "file", Size: 19, SHA256: sha("what the manifest says\n"), Mode: "0644"},
		{Path: "/src/b.txt", Type: "file", Size: 4, SHA256: sha("bee\n"), Mode: "0644"},
	})
	f.thaw("bag_000001")
	os.MkdirAll(filepath.Join(f.target, "src"), 0o755)
	os.WriteFile(filepath.Join(f.target, "src", "b.txt"), []byte("mine\n"), 0o644)
	recs, stderr, err := f.fetch(func(o *restore.Options) { o.KeepBags = true })
	if !errors.Is(err, records.ErrWarnings) {
		t.Fatalf("fetch: %v\n%s", err, stderr)
	}
	files := byPath(recs[records.KindRestoreFile])
	if r := files["/src/a.txt"]; r["status"] != restore.FileMismatch || r["got_sha256"] != sha("what the bag holds\n") {
		t.Errorf("a.txt: %v", r)
	}
	if r := files["/src/b.txt"]; r["status"] != restore.FileSkipped || r["reason"] != restore.ReasonExists {
		t.Errorf("b.txt: %v", r)
	}
	if b, _ := os.ReadFile(filepath.Join(f.target, "src", "b.txt")); string(b) != "mine\n" {
		t.Errorf("b.txt replaced without --overwrite: %q", b)
	}
	// Plan again (fetch forgets), with --overwrite: b.txt is replaced.
	f.thaw("bag_000001")
	recs, _, _ = f.fetch(func(o *restore.Options) { o.Overwrite = true })
	if r := byPath(recs[records.KindRestoreFile])["/src/b.txt"]; r["status"] != restore.FileOK || r["existing"] == true {
		t.Errorf("b.txt with --overwrite: %v", r)
	}
	if b, _ := os.ReadFile(filepath.Join(f.target, "src", "b.txt")); string(b) != "bee\n" {
		t.Errorf("b.txt: %q", b)
	}
}

// request spends nothing without a yes, asks at a terminal, and is not
// repeated for bags already thawing; status tells frozen, thawing, ready.
func TestRequestAndStatus(t *testing.T) {
	f := newFixture(t)
	smallBag(t, f)
	ctx := context.Background()
	o := f.opts()
	o.Bags = []string{"bag_000001"}
	var out, errOut bytes.Buffer
	if err := restore.Plan(ctx, nil, &out, &errOut, o); err != nil {
		t.Fatal(err)
	}
	if err := restore.Status(ctx, &out, &errOut, o); !errors.Is(err, restore.ErrFrozen) {
		t.Fatalf("status before request: %v", err)
	}
	err := restore.Request(ctx, nil, &out, &errOut, o)
	if !config.IsConfigError(err) || !strings.Contains(err.Error(), "not confirmed") {
		t.Fatalf("request without yes: %v", err)
	}
	if info, _ := f.st.Head(ctx, "2026-backup/src_bag_000001.tar"); info.Restore.Requested {
		t.Fatal("requested without a yes")
	}
	o.Interactive = true
	if err := restore.Request(ctx, strings.NewReader("n\n"), &out, &errOut, o); !config.IsConfigError(err) {
		t.Fatalf("answered n: %v", err)
	}
	out.Reset()
	o.Tier = store.TierStandard
	if err := restore.Request(ctx, strings.NewReader("y\n"), &out, &errOut, o); err != nil {
		t.Fatalf("answered y: %v", err)
	}
	if !strings.Contains(out.String(), `"action":"requested","tier":"Standard","days":7`) {
		t.Errorf("records: %s", out.String())
	}
	out.Reset()
	if err := restore.Request(ctx, nil, &out, &errOut, f.opts()); err != nil || !strings.Contains(out.String(), `"action":"in-progress"`) {
		t.Fatalf("request again: %v %s", err, out.String())
	}
	out.Reset()
	if err := restore.Status(ctx, &out, &errOut, f.opts()); !errors.Is(err, restore.ErrNotReady) || !strings.Contains(out.String(), `"state":"thawing"`) {
		t.Fatalf("status while thawing: %v %s", err, out.String())
	}
	f.now = f.now.Add(11 * time.Minute)
	out.Reset()
	if err := restore.Status(ctx, &out, &errOut, f.opts()); err != nil || !strings.Contains(out.String(), `"state":"ready"`) ||
		!strings.Contains(out.String(), `"expires_at":"2026-01-22T02:10:00Z"`) {
		t.Fatalf("status when ready: %v %s", err, out.String())
	}
	// A week later the copy is gone: frozen again.
	f.now = f.now.Add(8 * 24 * time.Hour)
	if err := restore.Status(ctx, &out, &errOut, f.opts()); !errors.Is(err, restore.ErrFrozen) {
		t.Fatalf("status after expiry: %v", err)
	}
}

// Match records select paths: a directory brings what is under it, and a
// hard link whose first name is not selected gets the content.
func TestPlanFromMatches(t *testing.T) {
	f := newFixture(t)
	body := mkTar(t, []tarEntry{
		{hdr: tar.Header{Name: "src/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "src/d/", Typeflag: tar.TypeDir, Mode: 0o750}},
		{hdr: tar.Header{Name: "src/d/in.txt", Typeflag: tar.TypeReg}, body: "in\n"},
		{hdr: tar.Header{Name: "src/first", Typeflag: tar.TypeReg}, body: "linked\n"},
		{hdr: tar.Header{Name: "src/other.txt", Typeflag: tar.TypeReg}, body: "other\n"},
		{hdr: tar.Header{Name: "src/second", Typeflag: tar.TypeLink, Linkname: "src/first"}},
		{hdr: tar.Header{Name: "src/third", Typeflag: tar.TypeLink, Linkname: "src/first"}},
	})
	f.addBag("bag_000001", "2026-backup/src_bag_000001.tar", body, []manifest.Entry{
		{Path: "/src", Type: "dir", Mode: "0755"},
		{Path: "/src/d", Type: "dir", Mode: "0750"},
		{Path: "/src/d/in.txt", Type: "file", Size: 3, SHA256: sha("in\n")},
		{Path: "/src/first", Type: "file", Size: 7, SHA256: sha("linked\n")},
		{Path: "/src/other.txt", Type: "file", Size: 6, SHA256: sha("other\n")},
		{Path: "/src/second", Type: "hardlink", Link: "/src/first"},
		{Path: "/src/third", Type: "hardlink", Link: "/src/first"},
	})
	in := strings.Join([]string{
		`{"kind":"match","path":"/src/d","type":"dir","bag":"bag_000001","key":"2026-backup/src_bag_000001.tar"}`,
		`{"kind":"match","path":"/src/second","bag":"bag_000001","key":"2026-backup/src_bag_000001.tar"}`,
		`{"kind":"match","path":"/src/third","bag":"bag_000001","key":"2026-backup/src_bag_000001.tar"}`,
		`{"kind":"match","path":"/src/third","bag":"bag_000001","key":"2026-backup/src_bag_000001.tar"}`,
	}, "\n")
	var out, errOut bytes.Buffer
	ctx := context.Background()
	if err := restore.Plan(ctx, strings.NewReader(in), &out, &errOut, f.opts()); err != nil {
		t.Fatalf("plan: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), `"paths":3,`) {
		t.Errorf("plan: %s", out.String())
	}
	o := f.opts()
	o.Yes = true
	if err := restore.Request(ctx, nil, &out, &errOut, o); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(2 * time.Hour)
	recs, stderr, err := f.fetch(nil)
	if err != nil {
		t.Fatalf("fetch: %v\n%s", err, stderr)
	}
	var got []string
	filepath.WalkDir(f.target, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(f.target, p)
		got = append(got, rel)
		return nil
	})
	if w := ". src src/d src/d/in.txt src/second src/third"; strings.Join(got, " ") != w {
		t.Errorf("restored %v, want %s", got, w)
	}
	a, _ := os.Stat(filepath.Join(f.target, "src/second"))
	b, _ := os.Stat(filepath.Join(f.target, "src/third"))
	if !os.SameFile(a, b) {
		t.Error("second and third are not one file")
	}
	if fi, _ := os.Stat(filepath.Join(f.target, "src/d")); fi.Mode().Perm() != 0o750 {
		t.Errorf("src/d mode %v", fi.Mode())
	}
	for _, r := range recs[records.KindRestoreFile] {
		if r["status"] != restore.FileOK {
			t.Errorf("record %v", r)
		}
	}
	if len(recs[records.KindRestoreFile]) != 4 {
		t.Errorf("%d records: %v", len(recs[records.KindRestoreFile]), recs[records.KindRestoreFile])
	}
}

// Plans name what is wrong with their input.
func TestPlanErrors(t *testing.T) {
	f := newFixture(t)
	smallBag(t, f)
	ctx := context.Background()
	cases := []struct {
		in   string
		mod  func(*restore.Options)
		want string
	}{
		{"", nil, "stdin held no match records"},
		{"", func(o *restore.Options) { o.StdinTerminal = true }, "stdin is a terminal"},
		{`{"kind":"match","path":"/src/x","bag":"bag_000001","key":"other"}`, nil, `the inventory says`},
		{`{"kind":"match","path":"/src/x"}`, nil, "without bag and key"},
		{"", func(o *restore.Options) { o.Atoms = []string{"/nope"} }, "no such atom"},
		{"", func(o *restore.Options) { o.Sources = []string{"/nope"} }, "no atom of that source"},
		{"", func(o *restore.Options) { o.Bags = []string{"bag_000009"} }, "has no bag bag_000009"},
	}
	for _, c := range cases {
		o := f.opts()
		if c.mod != nil {
			c.mod(&o)
		}
		var out, errOut bytes.Buffer
		err := restore.Plan(ctx, strings.NewReader(c.in), &out, &errOut, o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}

// --atom takes the entries the manifest lists for that atom, not the
// bag's other atoms.
func TestPlanByAtom(t *testing.T) {
	f := newFixture(t)
	body := mkTar(t, []tarEntry{
		{hdr: tar.Header{Name: "src/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "src/a/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "src/a/x", Typeflag: tar.TypeReg}, body: "x\n"},
		{hdr: tar.Header{Name: "src/b/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "src/b/y", Typeflag: tar.TypeReg}, body: "y\n"},
	})
	f.addBag("bag_000001", "2026-backup/src_bag_000001.tar", body, []manifest.Entry{
		{Path: "/src", Type: "dir", Atom: "/src/a"},
		{Path: "/src/a", Type: "dir", Atom: "/src/a"},
		{Path: "/src/a/x", Type: "file", Size: 2, SHA256: sha("x\n"), Atom: "/src/a"},
		{Path: "/src/b", Type: "dir", Atom: "/src/b"},
		{Path: "/src/b/y", Type: "file", Size: 2, SHA256: sha("y\n"), Atom: "/src/b"},
	})
	f.inv.Atoms["/src/a"] = &inventory.Atom{Source: "/src", Type: "dir", Bags: []string{"bag_000001"}}
	f.inv.Save(f.set.InventoryFile)
	o := f.opts()
	o.Atoms = []string{"/src/a/"} // a trailing slash is forgiven
	var out, errOut bytes.Buffer
	ctx := context.Background()
	if err := restore.Plan(ctx, nil, &out, &errOut, o); err != nil {
		t.Fatalf("plan: %v", err)
	}
	o.Yes = true
	if err := restore.Request(ctx, nil, &out, &errOut, o); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(2 * time.Hour)
	recs, stderr, err := f.fetch(nil)
	if err != nil {
		t.Fatalf("fetch: %v\n%s", err, stderr)
	}
	if n := len(recs[records.KindRestoreFile]); n != 3 {
		t.Errorf("%d entries restored, want 3: %v", n, recs[records.KindRestoreFile])
	}
	if _, err := os.Stat(filepath.Join(f.target, "src/a/x")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(f.target, "src/b")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("another atom restored: %v", err)
	}
}

// Extended attributes (user.*) come back where the filesystem keeps
// them, and fifos are made.
func TestExtractXattrsAndFifo(t *testing.T) {
	f := newFixture(t)
	probe := filepath.Join(f.dir, "probe")
	os.WriteFile(probe, nil, 0o644)
	xattrs := syscall.Setxattr(probe, "user.probe", []byte("1"), 0) == nil
	body := mkTar(t, []tarEntry{
		{hdr: tar.Header{Name: "src/", Typeflag: tar.TypeDir, Mode: 0o755, PAXRecords: map[string]string{"SCHILY.xattr.user.dir": "d"}}},
		{hdr: tar.Header{Name: "src/a", Typeflag: tar.TypeReg, PAXRecords: map[string]string{"SCHILY.xattr.user.tag": "blue", "SCHILY.xattr.security.selinux": "x"}}, body: "a\n"},
		{hdr: tar.Header{Name: "src/pipe", Typeflag: tar.TypeFifo, Mode: 0o640}},
	})
	f.addBag("bag_000001", "2026-backup/src_bag_000001.tar", body, []manifest.Entry{
		{Path: "/src", Type: "dir"},
		{Path: "/src/a", Type: "file", Size: 2, SHA256: sha("a\n")},
		{Path: "/src/pipe", Type: "fifo"},
	})
	f.thaw("bag_000001")
	recs, stderr, err := f.fetch(nil)
	if err != nil {
		t.Fatalf("fetch: %v\n%s", err, stderr)
	}
	if n := len(recs[records.KindRestoreFile]); n != 3 {
		t.Fatalf("%d records", n)
	}
	fi, err := os.Lstat(filepath.Join(f.target, "src/pipe"))
	if err != nil || fi.Mode().Type() != fs.ModeNamedPipe || fi.Mode().Perm() != 0o640 {
		t.Errorf("pipe: %v %v", fi, err)
	}
	if !xattrs {
		t.Skip("no user extended attributes on this filesystem")
	}
	buf := make([]byte, 64)
	if n, err := syscall.Getxattr(filepath.Join(f.target, "src/a"), "user.tag", buf); err != nil || string(buf[:n]) != "blue" {
		t.Errorf("user.tag: %q %v", buf[:max(n, 0)], err)
	}
	if n, err := syscall.Getxattr(filepath.Join(f.target, "src"), "user.dir", buf); err != nil || string(buf[:n]) != "d" {
		t.Errorf("user.dir: %q %v", buf[:max(n, 0)], err)
	}
}

// The steps' outcomes carry their exit codes (pkg/exitcode): 5 while
// thawing or busy, 6 while frozen; busy is told apart from thawing.
func TestExitCodes(t *testing.T) {
	f := newFixture(t)
	smallBag(t, f)
	ctx := context.Background()
	o := f.opts()
	o.Bags = []string{"bag_000001"}
	var out, errOut bytes.Buffer
	if err := restore.Plan(ctx, nil, &out, &errOut, o); err != nil {
		t.Fatal(err)
	}
	code := func(err error) int {
		c, ok := exitcode.Of(err)
		if !ok {
			t.Fatalf("%v carries no exit code", err)
		}
		return c
	}
	if c := code(restore.Status(ctx, &out, &errOut, o)); c != exitcode.Frozen {
		t.Errorf("status while frozen: exit %d", c)
	}
	if c := code(restore.Fetch(ctx, &out, &errOut, o)); c != exitcode.Frozen {
		t.Errorf("fetch while frozen: exit %d", c)
	}
	o.Yes = true
	if err := restore.Request(ctx, nil, &out, &errOut, o); err != nil {
		t.Fatal(err)
	}
	if c := code(restore.Status(ctx, &out, &errOut, o)); c != exitcode.NotReady {
		t.Errorf("status while thawing: exit %d", c)
	}

	// Another gb-restore holds the state file.
	lf, err := os.OpenFile(restore.DefaultStateFile(f.set)+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	err = restore.Fetch(ctx, &out, &errOut, o)
	if !errors.Is(err, restore.ErrBusy) || errors.Is(err, restore.ErrNotReady) || code(err) != exitcode.NotReady {
		t.Errorf("fetch while busy: %v", err)
	}
	if errors.Is(restore.ErrNotReady, restore.ErrBusy) || errors.Is(restore.ErrFrozen, restore.ErrNotReady) {
		t.Error("outcomes are not told apart")
	}
}
