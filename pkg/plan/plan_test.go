package plan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/plan"
	"github.com/gbarchive/gb/pkg/records"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Each case in testdata/NAME/ holds scan.ndjson, inventory.json (may be
// absent) and options.json (may be absent: settings and operations, or
// the error the plan must stop with); the plan and its stderr must equal
// plan.golden and stderr.golden. go test -update rewrites the golden
// files after a deliberate change.
func TestPlanGolden(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*")
	if len(dirs) == 0 {
		t.Fatal("no golden cases")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(dir, "scan.ndjson"))
			if err != nil {
				t.Fatal(err)
			}
			var o struct {
				KeepDeletedDays   float64  `json:"keep_deleted_days"`
				ResetSources      []string `json:"reset_sources"`
				ResetBags         []string `json:"reset_bags"`
				Repack            bool     `json:"repack"`
				RepackUnderfilled float64  `json:"repack_underfilled"`
				AllowEarly        bool     `json:"allow_early"`
				Error             string   `json:"error"`
			}
			if b, err := os.ReadFile(filepath.Join(dir, "options.json")); err == nil {
				if err := json.Unmarshal(b, &o); err != nil {
					t.Fatal(err)
				}
			}
			st := &config.Settings{StateDir: t.TempDir(), InventoryFile: filepath.Join(dir, "inventory.json"), TargetBagGB: 0.001, Compress: "zstd",
				MinRetentionDays: 180, PriceGBMonth: 0.00099, PricePut1k: 0.05, KeepDeletedDays: o.KeepDeletedDays}
			if err := st.Finish(); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			now := time.Date(2027, 1, 15, 2, 0, 0, 0, time.UTC)
			err = plan.Run(context.Background(), bytes.NewReader(in), &out, &errOut, plan.Options{Settings: st, Now: now,
				ResetSources: o.ResetSources, ResetBags: o.ResetBags, Repack: o.Repack, RepackUnderfilled: o.RepackUnderfilled, AllowEarly: o.AllowEarly})
			if o.Error != "" {
				if err == nil || !strings.Contains(err.Error(), o.Error) || !config.IsConfigError(err) {
					t.Fatalf("error %v, want a config error with %q", err, o.Error)
				}
				// A refused plan writes its failed summary, and only it.
				if !bytes.HasPrefix(out.Bytes(), []byte(`{"kind":"plan","status":"failed"`)) || bytes.Count(out.Bytes(), []byte("\n")) != 1 {
					t.Fatalf("a refused plan wrote more than its failed summary:\n%s", out.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("plan: %v\n%s", err, errOut.String())
			}
			golden2 := filepath.Join(dir, "stderr.golden")
			if *update {
				os.WriteFile(golden2, errOut.Bytes(), 0o644)
			}
			if want, err := os.ReadFile(golden2); err != nil || !bytes.Equal(errOut.Bytes(), want) {
				t.Errorf("stderr differs from %s (%v):\n%s", golden2, err, errOut.String())
			}
			golden := filepath.Join(dir, "plan.golden")
			if *update {
				os.WriteFile(golden, out.Bytes(), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("plan differs from %s (go test -update after a deliberate change):\n%s", golden, out.String())
			}
		})
	}
}

// Scan streams gb-plan refuses, with the line and the reason.
func TestPlanRefusesBadScans(t *testing.T) {
	const (
		src  = `{"kind":"source","source":"/s","mode":"MUTABLE","encrypt":false,"excludes":[]}`
		atom = `{"kind":"atom","source":"/s","atom":"/s/a","path":"/s/a","type":"dir","mode":"MUTABLE","files":1,"bytes":5,"hash":"h"}`
		done = `{"kind":"scan","status":"ok","complete":true}`
	)
	tests := []struct {
		name     string
		lines    []string
		err      string
		upstream string // the summary's upstream field: why, when gb-scan is
		quiet    bool   // gb-scan said why already
	}{
		{name: "no scan summary", lines: []string{src, atom}, err: "input ended without gb-scan's summary (gb-scan failed or was killed); nothing was planned", upstream: "gb-scan"},
		{name: "a failed scan", lines: []string{src, `{"kind":"scan","status":"failed","error":"no such file","complete":false}`}, err: "gb-scan failed", upstream: "gb-scan", quiet: true},
		{name: "an incomplete scan", lines: []string{src, `{"kind":"scan","complete":false}`}, err: "stdin:2: the scan summary says the scan did not complete"},
		{name: "an atom twice", lines: []string{src, atom, atom, done}, err: "stdin:3: atom /s/a already appeared on line 2"},
		{name: "an atom of no source", lines: []string{atom, done}, err: "stdin:1: atom /s/a names source /s, which no source record introduced"},
		{name: "an atom without hash", lines: []string{src, strings.Replace(atom, `,"hash":"h"`, "", 1), done}, err: "stdin:2: atom record needs atom, path, source and hash"},
		{name: "an unknown atom type", lines: []string{src, strings.Replace(atom, `"dir"`, `"blob"`, 1), done}, err: `stdin:2: atom /s/a has unknown type "blob"`},
		{name: "encryption without keys", lines: []string{src, strings.Replace(atom, `"hash":"h"`, `"hash":"h","encrypt":true`, 1), done}, err: "asks for encryption but names no keys"},
		{name: "a bad _b64 sibling", lines: []string{src, strings.Replace(atom, `"path":`, `"atom_b64":"!!","path":`, 1), done}, err: "stdin:2: atom:"},
		{name: "a field of the wrong type", lines: []string{src, strings.Replace(atom, `"bytes":5`, `"bytes":"5"`, 1), done}, err: `stdin:2: atom record: field "bytes": got string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &config.Settings{StateDir: t.TempDir(), TargetBagGB: 0.001, Compress: "zstd", MinRetentionDays: 180}
			if err := st.Finish(); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			err := plan.Run(context.Background(), strings.NewReader(strings.Join(tt.lines, "\n")+"\n"), &out, &errOut, plan.Options{Settings: st, Now: time.Now()})
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if records.Quiet(err) != tt.quiet {
				t.Errorf("records.Quiet(%v) = %v, want %v", err, !tt.quiet, tt.quiet)
			}
			// A refused plan writes its failed summary, and only it.
			var sum records.PlanSummary
			if bytes.Count(out.Bytes(), []byte("\n")) != 1 || json.Unmarshal(out.Bytes(), &sum) != nil || sum.Kind != records.KindPlan {
				t.Fatalf("a refused plan wrote more or other than its summary:\n%s", out.String())
			}
			if sum.Status != records.StatusFailed || sum.Error != err.Error() || sum.Upstream != tt.upstream || sum.Outcome != records.OutcomeOf(err) {
				t.Errorf("summary's outcome %+v, want failed with the error, upstream %q", sum.Outcome, tt.upstream)
			}
		})
	}
}
