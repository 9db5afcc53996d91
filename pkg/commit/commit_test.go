package commit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/records"
)

// commitStream runs gb-commit over records on baseInventory and returns
// its output, stderr, error and the inventory it left.
func commitStream(t *testing.T, dryRun bool, lines ...string) (string, string, error, *inventory.Inventory) {
	t.Helper()
	return commitWith(t, Options{DryRun: dryRun}, lines...)
}

// commitWith is commitStream with more options.
func commitWith(t *testing.T, opts Options, lines ...string) (string, string, error, *inventory.Inventory) {
	t.Helper()
	dir := t.TempDir()
	st := &config.Settings{InventoryFile: filepath.Join(dir, "inventory.json"), InventoryBakDir: dir}
	if err := baseInventory().Save(st.InventoryFile); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	opts.Settings, opts.Now = st, today
	err := Run(context.Background(), strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, &errOut, opts)
	file := st.InventoryFile
	if opts.DryRun {
		file = filepath.Join(dir, "inventory_dryrun.json")
	}
	inv, lerr := inventory.Load(file)
	if lerr != nil {
		t.Fatal(lerr)
	}
	return out.String(), errOut.String(), err, inv
}

const (
	recSource  = `{"kind":"source","source":"/s","mode":"MUTABLE","encrypt":false,"excludes":[]}`
	recCustom  = `{"kind":"custom","z":1,  "a":[2]}`
	recKeep    = `{"kind":"keep","atom":"/s/b","source":"/s","hash":"old","bags":["bag_000002"]}`
	recBag3    = `{"kind":"bag","id":"bag_000003","key":"2027-backup/s_bag_000003.tar","source":"/s","mode":"MUTABLE","label":"s","compress":"none","encrypt":false,"excludes":[],"files":3,"bytes":30,"atoms":[{"atom":"/s/a","path":"/s/a","type":"dir","hash":"new-a","files":1,"bytes":10},{"atom":"/s/c","path":"/s/c","type":"dir","hash":"new-c","files":2,"bytes":20}]}`
	recBag4    = `{"kind":"bag","id":"bag_000004","key":"2027-backup/s_bag_000004.tar","source":"/s","mode":"MUTABLE","label":"s","compress":"none","encrypt":false,"excludes":[],"files":1,"bytes":5,"atoms":[{"atom":"/s/d","path":"/s/d","type":"dir","hash":"new-d","files":1,"bytes":5}]}`
	recPlan    = `{"kind":"plan","atoms_new":2,"atoms_changed":1,"next_bag":5}`
	recPacked3 = `{"kind":"packed","bag":"bag_000003","incomplete_atoms":["/s/c"]}`
	recUp3     = `{"kind":"uploaded","bag":"bag_000003","key":"2027-backup/s_bag_000003.tar","bytes":64,"sha256":"abc","storage_class":"DEEP_ARCHIVE","manifest_key":"m3","uploaded_at":"2027-01-15T03:00:00Z"}`
	recFailed4 = `{"kind":"failed","bag":"bag_000004","error":"refused"}`
	// gb-put's summary: all stored, or a bag not (then gb-put failed and
	// said why).
	recPutOK     = `{"kind":"put","status":"ok","bags":1,"bytes":64,"sent_bytes":64,"adopted":0,"failed":0}`
	recPutFailed = `{"kind":"put","status":"failed","error":"1 bags were not uploaded (bag_000004: refused)","bags":1,"bytes":64,"sent_bytes":64,"adopted":0,"failed":1}`
)

// summaryOf decodes the last line of out, gb-commit's summary.
func summaryOf(t *testing.T, out string) records.Committed {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var sum records.Committed
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Kind != records.KindCommitted {
		t.Fatalf("output does not end with the summary (%v):\n%s", err, out)
	}
	return sum
}

func TestRunCommitsWhatWasUploaded(t *testing.T) {
	staged := filepath.Join(t.TempDir(), "bag_000004.tar")
	os.WriteFile(staged, []byte("x"), 0o644)
	packed4 := `{"kind":"packed","bag":"bag_000004","file":"` + staged + `"}`
	out, stderr, err, inv := commitStream(t, false, recSource, recCustom, recKeep, recBag3, recBag4, recPlan, recPacked3, recUp3, packed4, recFailed4, recPutFailed)
	// gb-put said why it failed: gb-commit fails too, and says nothing.
	if err == nil || err.Error() != "gb-put failed" || !records.Quiet(err) {
		t.Errorf("error %v, want gb-put's failure, quiet", err)
	}
	if stderr != "" {
		t.Errorf("stderr %q, want nothing (gb-put said it)", stderr)
	}
	if _, err := os.Stat(staged); !os.IsNotExist(err) {
		t.Errorf("the failed bag's staged copy is still there (%v)", err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || lines[0] != recCustom || lines[1] != recPlan || lines[2] != recPutFailed {
		t.Fatalf("output:\n%s\nwant the unknown record and the summaries before byte for byte, then the summary", out)
	}
	sum := summaryOf(t, out)
	if sum.BagsCommitted != 1 || sum.BytesCommitted != 64 || sum.AtomsPacked != 2 || sum.AtomsKept != 1 || sum.AtomsPending != 1 ||
		!slices.Equal(sum.BagsFailed, []string{"bag_000004"}) || !slices.Equal(sum.BagsRetired, []string{"bag_000001"}) || sum.NextBag != 5 {
		t.Errorf("summary %+v", sum)
	}
	if want := (records.Outcome{Status: records.StatusFailed, Error: "gb-put failed", Upstream: "gb-put"}); sum.Outcome != want {
		t.Errorf("outcome %+v, want %+v", sum.Outcome, want)
	}
	if a := inv.Atoms["/s/a"]; a == nil || !slices.Equal(a.Bags, []string{"bag_000003"}) || a.LastMetadataHash != "new-a" || a.Incomplete {
		t.Errorf("/s/a: %+v", a)
	}
	if c := inv.Atoms["/s/c"]; c == nil || !c.Incomplete || c.Files != 2 {
		t.Errorf("/s/c: %+v; want it incomplete", c)
	}
	if inv.Atoms["/s/d"] != nil {
		t.Error("/s/d was committed though its bag failed")
	}
	if b := inv.Atoms["/s/b"]; !b.LastSeen.Equal(today) {
		t.Errorf("/s/b not kept: %+v", b)
	}
	bg := inv.Bags["bag_000003"]
	if bg == nil || bg.SHA256 != "abc" || bg.ManifestKey != "m3" || bg.StorageClass != "DEEP_ARCHIVE" || bg.UploadedAt.Hour() != 3 || bg.Files != 3 {
		t.Errorf("bag_000003: %+v", bg)
	}
	if !inv.Bags["bag_000001"].RetiredAt.Equal(today) || len(inv.Runs) != 1 || inv.NextBag != 5 {
		t.Errorf("retired_at %v, runs %v, next_bag %d", inv.Bags["bag_000001"].RetiredAt, inv.Runs, inv.NextBag)
	}
}

func TestRunDryRunCommitsThePlan(t *testing.T) {
	out, stderr, err, inv := commitStream(t, true, recSource, recKeep, recBag3, recBag4, recPlan)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, recPlan+"\n"+`{"kind":"committed","status":"ok",`) || !strings.HasSuffix(out, `"next_bag":5}`+"\n") {
		t.Errorf("output %s, want the plan's summary passed on, then the summary with status ok", out)
	}
	if inv.NextBag != 5 || inv.Atoms["/s/d"] == nil || inv.Atoms["/s/a"].LastMetadataHash != "new-a" || inv.Bags["bag_000004"].StorageClass != "DEEP_ARCHIVE" {
		t.Errorf("dry-run inventory: next %d, atoms %v", inv.NextBag, inv.Atoms)
	}
	if len(inv.Runs) != 1 || !inv.Runs[0].DryRun {
		t.Errorf("runs %+v, want one dry run", inv.Runs)
	}
	if !strings.Contains(stderr, "dry run: ") {
		t.Errorf("stderr: %s", stderr)
	}
}

func TestRunWithoutPlanForgetsNothing(t *testing.T) {
	forget := `{"kind":"forget","atom":"/s/a","source":"/s","bags":["bag_000001"],"reason":"gone"}`
	_, _, err, inv := commitStream(t, false, recSource, forget, recBag3, recUp3, recPutOK)
	if err == nil || err.Error() != "input ended before the plan summary: committed 1 uploaded bags, applied no forgets, inventory saved; run again" {
		t.Errorf("error %v", err)
	}
	if inv.Bags["bag_000003"] == nil || inv.Atoms["/s/a"] == nil || inv.Atoms["/s/a"].Bags[0] != "bag_000003" {
		t.Errorf("the uploaded bag was not committed: %+v", inv.Atoms["/s/a"])
	}
}

func TestRunRefusesBadStreams(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		err   string
		next  int // next_bag after: 3 unless a bag was committed before the error
	}{
		{name: "a bag twice", lines: []string{recBag3, recBag3}, err: "bag bag_000003 appears twice"},
		{name: "a bag the inventory has", lines: []string{strings.Replace(recBag3, "bag_000003", "bag_000001", 1)}, err: "bag bag_000001 is already in the inventory"},
		{name: "an upload of no planned bag", lines: []string{recUp3}, err: "uploaded record for bag bag_000003, which no bag record introduced"},
		{name: "an upload twice", lines: []string{recBag3, recUp3, recUp3}, err: "bag bag_000003 was reported uploaded twice", next: 4},
		{name: "an upload under another key", lines: []string{recBag3, strings.Replace(recUp3, `s_bag_000003.tar"`, `other"`, 1)}, err: "uploaded as 2027-backup/other"},
		{name: "a bad upload time", lines: []string{recBag3, strings.Replace(recUp3, "2027-01-15T03:00:00Z", "yesterday", 1)}, err: `stdin:2: uploaded record: field "uploaded_at"`},
		{name: "an upload without time", lines: []string{recBag3, strings.Replace(recUp3, `,"uploaded_at":"2027-01-15T03:00:00Z"`, "", 1)}, err: "bag bag_000003: no uploaded_at"},
		{name: "a field of the wrong type", lines: []string{recSource, strings.Replace(recPlan, `"atoms_new":2`, `"atoms_new":"2"`, 1)}, err: `stdin:2: plan record: field "atoms_new": got string`},
		{name: "an atom without hash", lines: []string{strings.Replace(recBag4, `"hash":"new-d",`, "", 1)}, err: "atom /s/d has no hash"},
		{name: "a bad bag id", lines: []string{strings.Replace(recBag4, `"id":"bag_000004"`, `"id":"bag4"`, 1)}, err: "bag4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err, inv := commitStream(t, false, tt.lines...)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if sum := summaryOf(t, out); sum.Status != records.StatusFailed || sum.Error != err.Error() {
				t.Errorf("summary's outcome %+v, want failed with the error", sum.Outcome)
			}
			if tt.next == 0 {
				tt.next = 3
			}
			// Each bag is saved as its upload is confirmed; nothing else is.
			if len(inv.Runs) != 0 || inv.NextBag != tt.next {
				t.Errorf("a refused stream changed the inventory: runs %v, next_bag %d, want %d", inv.Runs, inv.NextBag, tt.next)
			}
		})
	}
}

// How a run ends, in the summary record, the error and the one stderr
// line: what was saved is said, and nothing that was not.
func TestRunEnds(t *testing.T) {
	planFailed := `{"kind":"plan","status":"failed","error":"glacier.cfg: bad key"}`
	packFailed := `{"kind":"pack","status":"failed","error":"gb-plan failed","upstream":"gb-plan"}`
	putFailed := `{"kind":"put","status":"failed","error":"gb-plan failed","upstream":"gb-plan"}`
	tests := []struct {
		name     string
		opts     Options
		lines    []string
		err      string // "" for none
		upstream string
		quiet    bool
		stderr   string // the summary line's end; "" for no line
		runs     int    // runs in the inventory after
	}{
		{name: "all stored", lines: []string{recSource, recKeep, recBag3, recPlan, recUp3, recPutOK},
			stderr: "gb-commit: 1 bags committed (64 B), 2 atoms packed, 1 kept, 0 forgotten, 1 pending; inventory saved\n", runs: 1},
		{name: "the plan failed", lines: []string{recSource, planFailed, packFailed, putFailed},
			err: "gb-plan failed", upstream: "gb-plan", quiet: true},
		{name: "gb-put's summary never came, nothing stored", lines: []string{recSource, recKeep, recBag3, recPlan},
			err: "input ended without gb-put's summary (gb-put failed or was killed); 0 uploaded bags committed, inventory saved", upstream: "gb-put", runs: 1},
		{name: "nothing came", lines: []string{recSource},
			err: "input ended without gb-put's summary (gb-put failed or was killed); 0 uploaded bags committed, inventory unchanged", upstream: "gb-put"},
		{name: "a dry run follows the plan", opts: Options{DryRun: true}, lines: []string{recSource, recBag3},
			err: "input ended without gb-plan's summary (gb-plan failed or was killed); 1 uploaded bags committed, dry run: ", upstream: "gb-plan", runs: 1},
		{name: "the store could not be opened", opts: Options{StoreErr: errors.New("no such bucket")}, lines: []string{recSource, recBag3, recPlan, recUp3, recPutOK},
			err: "no such bucket", runs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, err, inv := commitWith(t, tt.opts, tt.lines...)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if records.Quiet(err) != tt.quiet {
				t.Errorf("records.Quiet = %v, want %v", !tt.quiet, tt.quiet)
			}
			if sum := summaryOf(t, out); sum.Outcome != records.OutcomeOf(err) || sum.Upstream != tt.upstream {
				t.Errorf("summary's outcome %+v, want that of %v, upstream %q", sum.Outcome, err, tt.upstream)
			}
			if tt.stderr == "" && stderr != "" || !strings.HasSuffix(stderr, tt.stderr) {
				t.Errorf("stderr %q, want a line ending %q", stderr, tt.stderr)
			}
			if len(inv.Runs) != tt.runs {
				t.Errorf("%d runs in the inventory, want %d", len(inv.Runs), tt.runs)
			}
		})
	}
}
