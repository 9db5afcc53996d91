package plan_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Each case in testdata/NAME/ holds scan.ndjson and inventory.json (may
// be absent); the plan must equal plan.golden. go test -update rewrites
// the golden files after a deliberate change.
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
			st := &config.Settings{StateDir: t.TempDir(), InventoryFile: filepath.Join(dir, "inventory.json"), TargetBagGB: 0.001, Compress: "zstd",
				MinRetentionDays: 180, PriceGBMonth: 0.00099, PricePut1k: 0.05}
			if err := st.Finish(); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			now := time.Date(2027, 1, 15, 2, 0, 0, 0, time.UTC)
			if err := plan.Run(context.Background(), bytes.NewReader(in), &out, &errOut, plan.Options{Settings: st, Now: now}); err != nil {
				t.Fatalf("plan: %v\n%s", err, errOut.String())
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
