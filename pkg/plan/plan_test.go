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
