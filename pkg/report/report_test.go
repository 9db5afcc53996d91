package report

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/store"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// now is 12 hours after the third run of testdata/three-runs.
var now = time.Date(2027, 1, 15, 14, 0, 0, 0, time.UTC)

// seedPrices is glacier.cfg's [pricing] from the seed tool.
var seedPrices = cost.Prices{MinRetentionDays: 180, GBMonth: 0.00099, Put1k: 0.05, EgressGB: 0.09,
	ThawStandardGB: 0.02, ThawBulkGB: 0.0025, ReqStandard1k: 0.10, ReqBulk1k: 0.025}

func settings(t *testing.T, dir string) *config.Settings {
	st := &config.Settings{StateDir: t.TempDir(), InventoryFile: filepath.Join(dir, "inventory.json"), InventoryBakDir: filepath.Join(dir, "invbak"),
		TargetBagGB: 40, MinRetentionDays: 180, PriceGBMonth: 0.00099, PricePut1k: 0.05, PriceEgressGB: 0.09,
		PriceThawStandardGB: 0.02, PriceThawBulkGB: 0.0025, PriceReqStandard1k: 0.10, PriceReqBulk1k: 0.025}
	if err := st.Finish(); err != nil {
		t.Fatal(err)
	}
	return st
}

// Each case in testdata/NAME/ holds inventory.json (may be absent) and
// invbak/ (daily copies, may be absent); the NDJSON output must equal
// report.golden and the text report.txt. go test -update rewrites them.
func TestReportGolden(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*")
	if len(dirs) == 0 {
		t.Fatal("no golden cases")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			for _, tc := range []struct{ format, golden string }{{FormatNDJSON, "report.golden"}, {FormatText, "report.txt"}} {
				var out, errOut bytes.Buffer
				if err := Run(context.Background(), nil, &out, &errOut, Options{Settings: settings(t, dir), Now: now, Format: tc.format}); err != nil {
					t.Fatalf("%s: %v\n%s", tc.format, err, errOut.String())
				}
				golden := filepath.Join(dir, tc.golden)
				if *update {
					os.WriteFile(golden, out.Bytes(), 0o644)
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(out.Bytes(), want) {
					t.Errorf("%s output differs from %s (go test -update after a deliberate change):\n%s", tc.format, golden, out.String())
				}
			}
		})
	}
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func build(t *testing.T, history bool) *Report {
	t.Helper()
	inv, err := inventory.Load("testdata/three-runs/inventory.json")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHistory()
	if history {
		if errs := h.LoadDir("testdata/three-runs/invbak"); len(errs) > 0 {
			t.Fatal(errs)
		}
	}
	h.Add(inv)
	return Build(inv, h, seedPrices, now, BuildOptions{ChurnRuns: 5})
}

// The numbers of testdata/three-runs, worked out by hand:
//
//	run 1, 2026-01-15: bag_000001 (/data/photos, 40 GB) and bag_000002
//	  (/data/docs, encrypted, 10 GB: letters and the loose files)
//	run 2, 2026-07-20: letters changed: bag_000003 (6 GB)
//	run 3, 2027-01-15: letters and the loose files changed: bag_000004
//	  (6.5 GB); bag_000002 and bag_000003 retire
//	now: 2027-01-15 14:00, 12 hours after run 3
func TestArithmetic(t *testing.T) {
	r := build(t, true)
	s := r.Summary
	const gbm, ovh = 0.00099, 40960.0
	check := func(what string, got, want float64) {
		t.Helper()
		if !near(got, want) {
			t.Errorf("%s = %.12g, want %.12g", what, got, want)
		}
	}

	// The bill: every bag the inventory lists, retired ones too, with
	// 40 KB each.
	check("monthly", s.monthly, (40e9+10e9+6e9+6.5e9+4*ovh)/1e9*gbm)
	check("monthly retired", s.monthlyRetired, (10e9+6e9+2*ovh)/1e9*gbm)
	check("monthly rounded", s.Monthly, 0.0619)
	check("yearly rounded", s.Yearly, math.Round(12*(62.5e9+4*ovh)/1e9*gbm*1e4)/1e4)
	if s.Bags != 4 || s.BagsInUse != 2 || s.BagsRetired != 2 || s.BagBytes != 62.5e9 || s.InUseBytes != 46.5e9 || s.RetiredBytes != 16e9 {
		t.Errorf("bag counts %+v", s)
	}
	if s.Atoms != 3 || s.AtomsEncrypted != 2 || s.BagsEncrypted != 3 || s.Files != 1212 || s.Bytes != 47.5e9 || s.Sources != 2 {
		t.Errorf("atom counts %+v", s)
	}

	// Free-to-delete dates: uploaded_at + 180 days. bag_000002 (run 1)
	// is free; bag_000003 (run 2, 179.5 days old) is not, until
	// 2027-01-16 02:00; its fee is the half day left.
	bags := map[string]BagRecord{}
	for _, b := range r.Bags {
		bags[b.Bag] = b
	}
	wantFree := map[string]string{"bag_000001": "2026-07-14T02:00:00Z", "bag_000002": "2026-07-14T02:00:00Z",
		"bag_000003": "2027-01-16T02:00:00Z", "bag_000004": "2027-07-14T02:00:00Z"}
	for id, w := range wantFree {
		if got := bags[id].FreeFrom.Format(time.RFC3339); got != w {
			t.Errorf("%s free from %s, want %s", id, got, w)
		}
	}
	check("bag_000002 fee", bags["bag_000002"].fee, 0)
	check("bag_000003 fee", bags["bag_000003"].fee, 0.5/30*(6e9+ovh)/1e9*gbm)
	check("bag_000004 fee", bags["bag_000004"].fee, 179.5/30*(6.5e9+ovh)/1e9*gbm)
	check("bag_000001 monthly", bags["bag_000001"].monthly, (40e9+ovh)/1e9*gbm)
	if bags["bag_000003"].State != StateRetired || bags["bag_000004"].State != StateInUse || bags["bag_000002"].AtomsInUse != 0 || bags["bag_000004"].AtomsInUse != 2 {
		t.Errorf("bag states: %+v", bags)
	}
	if s.RetiredFreeNow != 1 || s.RetiredYoung != 1 || !s.NextFreeFrom.Equal(time.Date(2027, 1, 16, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("retired: free now %d, young %d, next %v", s.RetiredFreeNow, s.RetiredYoung, s.NextFreeFrom)
	}
	check("fees", s.fees, 0.5/30*(6e9+ovh)/1e9*gbm)

	// Restores: thaw per GB + requests per 1,000 + egress per GB, bags in
	// use only.
	type key struct{ scope, name, tier string }
	rs := map[key]RestoreRecord{}
	for _, x := range r.Restores {
		rs[key{x.Scope, x.Bag + x.Source, x.Tier}] = x
	}
	restores := []struct {
		k                        key
		bags                     int
		bytes                    int64
		thaw, req, egress, hours float64
		encrypted                int
	}{
		{key{ScopeBag, "bag_000001", "Bulk"}, 1, 40e9, 40 * 0.0025, 1.0 / 1000 * 0.025, 40 * 0.09, 48, 0},
		{key{ScopeBag, "bag_000001", "Standard"}, 1, 40e9, 40 * 0.02, 1.0 / 1000 * 0.10, 40 * 0.09, 12, 0},
		{key{ScopeSource, "/data/docs", "Bulk"}, 1, 6.5e9, 6.5 * 0.0025, 1.0 / 1000 * 0.025, 6.5 * 0.09, 48, 1},
		{key{ScopeSource, "/data/docs", "Standard"}, 1, 6.5e9, 6.5 * 0.02, 1.0 / 1000 * 0.10, 6.5 * 0.09, 12, 1},
		{key{ScopeSource, "/data/photos", "Bulk"}, 1, 40e9, 40 * 0.0025, 1.0 / 1000 * 0.025, 40 * 0.09, 48, 0},
		{key{ScopeAll, "", "Bulk"}, 2, 46.5e9, 46.5 * 0.0025, 2.0 / 1000 * 0.025, 46.5 * 0.09, 48, 1},
		{key{ScopeAll, "", "Standard"}, 2, 46.5e9, 46.5 * 0.02, 2.0 / 1000 * 0.10, 46.5 * 0.09, 12, 1},
	}
	for _, w := range restores {
		x, ok := rs[w.k]
		if !ok {
			t.Errorf("no restore record %v", w.k)
			continue
		}
		if x.Bags != w.bags || x.Bytes != w.bytes || x.Hours != w.hours || x.BagsEncrypted != w.encrypted {
			t.Errorf("%v: %d bags %d bytes %g h %d encrypted", w.k, x.Bags, x.Bytes, x.Hours, x.BagsEncrypted)
		}
		check(w.k.scope+" "+w.k.name+" "+w.k.tier+" total", x.total, w.thaw+w.req+w.egress)
		if x.Thaw != cost.Round(w.thaw) || x.Requests != cost.Round(w.req) || x.Egress != cost.Round(w.egress) {
			t.Errorf("%v: thaw %g req %g egress %g", w.k, x.Thaw, x.Requests, x.Egress)
		}
	}
	if len(r.Restores) != 2*(1+2+1) {
		t.Errorf("%d restore records, want 8", len(r.Restores))
	}
	check("summary restore bulk", s.bulk, 46.5*0.0025+0.00005+46.5*0.09) // $4.30130
	check("summary restore standard", s.std, 46.5*0.02+0.0002+46.5*0.09) // $5.11520
	if s.RestoreBulk != 4.3013 || s.RestoreStandard != 5.1152 {
		t.Errorf("rounded restores %v %v", s.RestoreBulk, s.RestoreStandard)
	}

	// Runs: what each packed, and what the inventory held after it.
	wantRuns := []struct {
		new, again int
		againBytes int64
		bags       int
		stored     int64
		estimated  bool
	}{
		{3, 0, 0, 2, 50e9, false},
		{0, 1, 4.9e9, 3, 56e9, false},
		{0, 2, 6.5e9, 4, 62.5e9, false},
	}
	if len(r.Runs) != 3 {
		t.Fatalf("%d runs", len(r.Runs))
	}
	for i, w := range wantRuns {
		x := r.Runs[i]
		if x.AtomsNew != w.new || x.AtomsRepacked != w.again || x.AtomsChanged != w.again || x.RepackedBytes != w.againBytes || x.StoredBags != w.bags || x.StoredBytes != w.stored ||
			x.Estimated != w.estimated || x.AtomsUntracked != 0 {
			t.Errorf("run %d: %+v", i+1, x)
		}
		check("run monthly", x.monthly, (float64(w.stored)+float64(w.bags)*ovh)/1e9*gbm)
	}
	if s.Runs != 3 || s.UploadedBytes != 62.5e9 || s.HistoryFiles != 2 {
		t.Errorf("runs %d uploaded %d history %d", s.Runs, s.UploadedBytes, s.HistoryFiles)
	}

	// Churn: letters was packed again in both runs after its first; the
	// loose files in one of two.
	if len(r.Churn) != 2 {
		t.Fatalf("churn: %+v", r.Churn)
	}
	if c := r.Churn[0]; c.Atom != "/data/docs/letters" || c.Runs != 2 || c.Changes != 2 || c.ChangedBytes != 9.9e9 || !c.Candidate {
		t.Errorf("churn[0] = %+v", c)
	}
	if c := r.Churn[1]; c.Atom != "/data/docs/" || c.Runs != 2 || c.Changes != 1 || c.ChangedBytes != 1.5e9 || c.Candidate {
		t.Errorf("churn[1] = %+v", c)
	}
	if s.ChurnAtoms != 2 || s.ChurnCandidates != 1 {
		t.Errorf("churn summary %d %d", s.ChurnAtoms, s.ChurnCandidates)
	}
}

// Without the daily copies only the last pack of each atom is known: run
// 1's state is estimated and its re-packed atoms untracked.
func TestWithoutHistory(t *testing.T) {
	r := build(t, false)
	if x := r.Runs[0]; x.AtomsNew != 1 || x.AtomsUntracked != 2 || !x.Estimated || x.StoredBytes != 50e9 || x.StoredBags != 2 {
		t.Errorf("run 1: %+v", x)
	}
	if x := r.Runs[1]; x.AtomsRepacked != 0 || x.AtomsUntracked != 1 || !x.Estimated || x.StoredBytes != 56e9 {
		t.Errorf("run 2: %+v", x)
	}
	if x := r.Runs[2]; x.AtomsRepacked != 2 || x.Estimated || x.StoredBytes != 62.5e9 {
		t.Errorf("run 3: %+v", x)
	}
	if r.Summary.ChurnCandidates != 0 || len(r.Churn) != 2 || r.Churn[0].Changes != 1 {
		t.Errorf("churn without history: %+v", r.Churn)
	}
	if !strings.Contains(Text(r), "No daily inventory copies were read") {
		t.Error("text does not say the history is missing")
	}
}

func TestChurnWindow(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	inv := inventory.New()
	h := NewHistory()
	// Ten runs; atom a changes in every run, b in runs 2-9 but not 10, c
	// only in the first three, d in every other run. e is packed again in
	// every run without a change (as --repack does): not churn.
	packed := map[string][]int{"/s/a": {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, "/s/b": {1, 2, 3, 4, 5, 6, 7, 8, 9}, "/s/c": {1, 2, 3}, "/s/d": {1, 3, 5, 7, 9},
		"/s/e": {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}
	for i := 1; i <= 10; i++ {
		inv.Runs = append(inv.Runs, inventory.Run{At: day(i), AtomsPacked: 5})
	}
	hash := func(k string, i int) string {
		if k == "/s/e" {
			return "sha256:e"
		}
		return fmt.Sprintf("sha256:%s-%d", k, i)
	}
	for k, runs := range packed {
		for _, i := range runs {
			snap := inventory.New()
			snap.Atoms[k] = &inventory.Atom{Source: "/s", Bytes: 100, FirstSeen: day(1), LastSeen: day(i), PackedAt: day(i), LastMetadataHash: hash(k, i)}
			h.Add(snap)
		}
		last := runs[len(runs)-1]
		inv.Atoms[k] = &inventory.Atom{Source: "/s", Bytes: 100, FirstSeen: day(1), LastSeen: day(10), PackedAt: day(last), LastMetadataHash: hash(k, last)}
	}
	h.Add(inv)
	r := Build(inv, h, seedPrices, day(11), BuildOptions{ChurnRuns: 5})
	got := map[string]ChurnRecord{}
	for _, c := range r.Churn {
		got[c.Atom] = c
	}
	// Window: runs 6-10. a: 5/5; b: 4/5 (one miss is "nearly every");
	// c: nothing recent; d: 2/5.
	if c := got["/s/a"]; c.Runs != 5 || c.Changes != 5 || c.ChangedBytes != 500 || !c.Candidate {
		t.Errorf("a: %+v", c)
	}
	if c := got["/s/b"]; c.Runs != 5 || c.Changes != 4 || !c.Candidate {
		t.Errorf("b: %+v", c)
	}
	if _, ok := got["/s/c"]; ok {
		t.Errorf("c listed: %+v", got["/s/c"])
	}
	if c := got["/s/d"]; c.Changes != 2 || c.Candidate {
		t.Errorf("d: %+v", c)
	}
	if _, ok := got["/s/e"]; ok {
		t.Errorf("e (packed again unchanged) listed: %+v", got["/s/e"])
	}
	if r.Summary.ChurnRuns != 5 || r.Summary.ChurnCandidates != 2 {
		t.Errorf("summary: %d runs, %d candidates", r.Summary.ChurnRuns, r.Summary.ChurnCandidates)
	}
	// Run 10 packed a and e again; only a changed.
	if x := r.Runs[9]; x.AtomsRepacked != 2 || x.AtomsChanged != 1 || x.AtomsUntracked != 3 {
		t.Errorf("run 10: %+v", x)
	}
	// A window of 2 runs: b missed the last, 1 of 2 is not "nearly".
	for _, c := range Build(inv, h, seedPrices, day(11), BuildOptions{ChurnRuns: 2}).Churn {
		if want := c.Atom == "/s/a"; c.Candidate != want {
			t.Errorf("window 2: %s candidate %v", c.Atom, c.Candidate)
		}
	}
}

// With a store listing, the report counts what is really there.
func TestStoreListing(t *testing.T) {
	inv, err := inventory.Load("testdata/three-runs/inventory.json")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHistory()
	h.Add(inv)
	objs := []store.ObjectInfo{
		{Key: inv.Bags["bag_000001"].Key, Size: 40e9, StorageClass: store.DeepArchive},
		{Key: inv.Bags["bag_000004"].Key, Size: 6.5e9, StorageClass: store.DeepArchive},
		{Key: inv.Bags["bag_000003"].Key, Size: 6e9, StorageClass: store.DeepArchive},
		{Key: "2026-backup/left_bag_000009.tar.zst", Size: 1e9, StorageClass: store.DeepArchive},
		{Key: "2026-backup/manifests/data-photos_bag_000001.manifest.ndjson", Size: 1e6, StorageClass: store.Standard},
		{Key: "2027-backup/system/inventory.json", Size: 1e4, StorageClass: store.Standard},
	}
	r := Build(inv, h, seedPrices, now, BuildOptions{ListStore: true, Objects: objs})
	ss := r.Summary.Store
	if ss == nil || ss.Objects != 6 || ss.ColdObjects != 4 || ss.ColdBytes != 53.5e9 || ss.StandardObjects != 2 || ss.StandardBytes != 1.01e6 ||
		ss.BagsMissing != 1 || ss.BagsUnknown != 1 {
		t.Fatalf("store summary %+v", ss)
	}
	if !near(r.Summary.storeMonthly, (53.5e9+4*40960)/1e9*0.00099) {
		t.Errorf("store monthly %g", r.Summary.storeMonthly)
	}
	for _, b := range r.Bags {
		if want := b.Bag != "bag_000002"; b.InStore == nil || *b.InStore != want {
			t.Errorf("%s in store: %v", b.Bag, b.InStore)
		}
	}
}

// wellFormed parses an SVG as XML.
func wellFormed(t *testing.T, what string, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v\n%s", what, err, b)
		}
	}
}

// Charts are valid XML whatever they show: no runs, cents shown as
// "<$0.01", paths with markup characters.
func TestSVGEscapes(t *testing.T) {
	empty := Build(inventory.New(), NewHistory(), seedPrices, now, BuildOptions{})
	empty.Summary.Inventory = "/a&b/<inventory>.json"
	svg := SVG(empty)
	wellFormed(t, "empty chart", svg)
	if !bytes.Contains(svg, []byte("no runs yet")) || !bytes.Contains(svg, []byte("/a&amp;b/&lt;inventory&gt;.json")) {
		t.Errorf("empty chart:\n%s", svg)
	}
	inv := inventory.New()
	inv.Runs = []inventory.Run{{At: now.Add(-time.Hour), BagsAdded: 1, BytesAdded: 10}}
	inv.Bags["bag_000001"] = &inventory.Bag{Key: "2027-backup/x_bag_000001.tar", Bytes: 10, StorageClass: store.DeepArchive, UploadedAt: now.Add(-time.Hour)}
	h := NewHistory()
	h.Add(inv)
	svg = SVG(Build(inv, h, seedPrices, now, BuildOptions{}))
	wellFormed(t, "tiny chart", svg)
	if !bytes.Contains(svg, []byte("&lt;$0.01 a month")) {
		t.Errorf("tiny chart:\n%s", svg)
	}
}

// --svg writes FILE.partial and renames it; the chart is the report's.
func TestSVGFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "chart.svg")
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), nil, &out, &errOut, Options{Settings: settings(t, "testdata/three-runs"), Now: now, SVG: p}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p + ".partial"); err == nil {
		t.Error("chart.svg.partial left behind")
	}
	wellFormed(t, p, got)
	if !bytes.HasPrefix(got, []byte("<svg ")) || !bytes.HasSuffix(got, []byte("</svg>\n")) || bytes.Count(got, []byte("<title>run ")) != 6 {
		t.Errorf("chart:\n%s", got)
	}
	golden := "testdata/three-runs/chart.svg"
	// The inventory path in the chart's subtitle is relative here.
	if *update {
		os.WriteFile(golden, got, 0o644)
	}
	if want, err := os.ReadFile(golden); err != nil || !bytes.Equal(got, want) {
		t.Errorf("chart differs from %s (go test -update after a deliberate change): %v", golden, err)
	}
	if !strings.Contains(out.String(), `"svg":"`+p+`"`) {
		t.Errorf("summary does not name the chart: %s", out.String())
	}
	if !strings.Contains(errOut.String(), "gb-report: 2 sources, 3 atoms, 4 bags (2 retired), 62.5 GB stored, $0.06/month; restoring everything: Bulk $4.30 (~48 h), Standard $5.12 (~12 h); 1 atom changed in nearly every run") {
		t.Errorf("stderr: %s", errOut.String())
	}
	// An unwritable chart is an error, and no report is written.
	out.Reset()
	if err := Run(context.Background(), nil, &out, &errOut, Options{Settings: settings(t, "testdata/three-runs"), Now: now, SVG: filepath.Join(dir, "no", "chart.svg")}); err == nil || out.Len() != 0 {
		t.Errorf("unwritable chart: err %v, output %q", err, out.String())
	}
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	st := settings(t, dir)
	os.WriteFile(st.InventoryFile, []byte("{\"version\":1,\"bogus\":1}\n"), 0o600)
	var out, errOut bytes.Buffer
	err := Run(context.Background(), nil, &out, &errOut, Options{Settings: st, Now: now})
	if err == nil || !strings.Contains(err.Error(), "inventory.json:1: not a valid inventory") {
		t.Errorf("damaged inventory: %v", err)
	}
	if err := Run(context.Background(), nil, &out, &errOut, Options{Settings: st, Now: now, Format: "html"}); !config.IsConfigError(err) {
		t.Errorf("bad format: %v", err)
	}
	// A damaged daily copy is skipped with a warning.
	os.WriteFile(st.InventoryFile, []byte("{\"version\":1}\n"), 0o600)
	os.MkdirAll(st.InventoryBakDir, 0o700)
	os.WriteFile(filepath.Join(st.InventoryBakDir, "inventory-2026-01-01.json"), []byte("{"), 0o600)
	errOut.Reset()
	if err := Run(context.Background(), nil, &out, &errOut, Options{Settings: st, Now: now}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "gb-report: warning: ") || !strings.Contains(errOut.String(), "inventory-2026-01-01.json") {
		t.Errorf("stderr: %s", errOut.String())
	}
}
