// Package report is gb-report: what the archive holds and what it costs,
// from inventory.json (and, with a store, from the store's listing).
//
// It writes, as NDJSON records or as a table for people:
//   - per source and in total: atoms, files, content bytes, bags, stored
//     bytes, encrypted or not;
//   - the monthly storage bill of every bag the inventory lists, retired
//     ones included (they are billed until gb-prune deletes them), with
//     the 40 KB each object is billed on top of its bytes;
//   - per bag, when it becomes free to delete (uploaded_at +
//     min_retention_days) and what deleting it now would cost;
//   - what restoring one bag, one source or everything costs per tier,
//     and how long the thaw takes;
//   - per run, what it uploaded and what the archive then held, and which
//     atoms are packed again in (nearly) every run (churn), from the
//     inventory's runs and its daily copies in inventory_bak_dir;
//   - with an SVG file, a chart of stored bytes and monthly cost per run.
//
// It changes nothing and takes no lock.
package report

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gbarchive/gb/pkg/analysis"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
)

// Record kinds written by gb-report.
const (
	KindSource  = records.KindReportSource
	KindBag     = records.KindReportBag
	KindRestore = records.KindReportRestore
	KindRun     = records.KindReportRun
	KindChurn   = records.KindReportChurn
	KindReport  = records.KindReport
)

// Output formats.
const (
	FormatNDJSON = "ndjson"
	FormatText   = "text"
)

// Bag states.
const (
	StateInUse   = "in-use"
	StateRetired = "retired"
)

// Restore scopes.
const (
	ScopeBag    = "bag"
	ScopeSource = "source"
	ScopeAll    = "all"
)

// DefaultChurnRuns is how many recent runs churn looks at.
const DefaultChurnRuns = 5

// Options configure a report.
type Options struct {
	Settings *config.Settings
	// Store, when set, is listed for what is really stored (and billed).
	Store store.Store
	Now   time.Time
	// Format is FormatNDJSON (default) or FormatText.
	Format string
	// SVG, when set, is a file the chart is written to (as a partial
	// file, then renamed).
	SVG string
	// ChurnRuns: the recent runs churn looks at (0: DefaultChurnRuns).
	ChurnRuns int
	// NoHistory: do not read the daily inventory copies; churn then sees
	// only the last time each atom was packed.
	NoHistory bool
}

// The report's rows: each record type of pkg/records with the unrounded
// figures that totals, the text and the chart are computed from (only the
// record is written).

// SourceRecord is a report_source record.
type SourceRecord struct {
	records.ReportSource
	monthly float64
}

// BagRecord is a report_bag record.
type BagRecord struct {
	records.ReportBag
	fee, monthly, bulk, std float64
}

// RestoreRecord is a report_restore record: one scope at one tier.
type RestoreRecord struct {
	records.ReportRestore
	total float64
}

// RunRecord is a report_run record: one entry of the inventory's runs.
type RunRecord struct {
	records.ReportRun
	monthly float64
}

// ChurnRecord is a report_churn record: an atom packed again because it
// changed in one of the recent runs.
type ChurnRecord struct {
	records.ReportChurn
	key string
}

// Summary is the report record, written last.
type Summary struct {
	records.Report
	monthly, monthlyRetired, fees float64
	bulk, std                     float64
	storeMonthly                  float64
}

// Report is everything gb-report writes.
type Report struct {
	Sources  []SourceRecord
	Bags     []BagRecord
	Restores []RestoreRecord
	Runs     []RunRecord
	Churn    []ChurnRecord
	Summary  Summary
	// MinRetentionDays, for the text.
	MinRetentionDays float64
}

// Run writes the report of opts.Settings.InventoryFile. It reads no input
// (in may be nil).
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) error {
	st := opts.Settings
	if opts.Format == "" {
		opts.Format = FormatNDJSON
	}
	if opts.Format != FormatNDJSON && opts.Format != FormatText {
		return &config.Error{Msg: fmt.Sprintf("--format %q: use ndjson or text", opts.Format)}
	}
	if opts.ChurnRuns <= 0 {
		opts.ChurnRuns = DefaultChurnRuns
	}
	if _, err := os.Stat(st.InventoryFile); err != nil {
		fmt.Fprintf(errOut, "gb-report: no inventory at %s: nothing is backed up yet\n", st.InventoryFile)
	}
	inv, err := inventory.Load(st.InventoryFile)
	if err != nil {
		return err
	}
	hist := NewHistory()
	if !opts.NoHistory {
		for _, w := range hist.LoadDir(st.InventoryBakDir) {
			fmt.Fprintf(errOut, "gb-report: warning: %v (its runs' churn is left out)\n", w)
		}
	}
	hist.Add(inv)
	var objs []store.ObjectInfo
	if opts.Store != nil {
		if objs, err = analysis.ListObjects(ctx, opts.Store); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := Build(inv, hist, st.Prices(), opts.Now, BuildOptions{ChurnRuns: opts.ChurnRuns, Objects: objs, ListStore: opts.Store != nil})
	r.Summary.Inventory = st.InventoryFile
	if opts.Store != nil {
		r.Summary.Store.URL = opts.Store.String()
	}
	if opts.SVG != "" {
		p, err := filepath.Abs(opts.SVG)
		if err != nil {
			return err
		}
		if err := writeFileRenamed(p, SVG(r)); err != nil {
			return fmt.Errorf("write chart: %w", err)
		}
		r.Summary.SVG = p
	}
	if opts.Format == FormatText {
		if _, err := io.WriteString(out, Text(r)); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	}
	if err := WriteRecords(out, r); err != nil {
		return err
	}
	fmt.Fprintf(errOut, "gb-report: %s\n", r.Summary.Line())
	return nil
}

// WriteRecords writes r as NDJSON: sources, bags, restores, runs, churn,
// then the summary.
func WriteRecords(out io.Writer, r *Report) error {
	w := records.NewWriter(out)
	for _, s := range r.Sources {
		w.Write(s.ReportSource)
	}
	for _, b := range r.Bags {
		w.Write(b.ReportBag)
	}
	for _, x := range r.Restores {
		w.Write(x.ReportRestore)
	}
	for _, x := range r.Runs {
		w.Write(x.ReportRun)
	}
	for _, x := range r.Churn {
		w.Write(x.ReportChurn)
	}
	w.Write(r.Summary.Report)
	return w.Err()
}

// Line is the one-line summary for stderr.
func (s Summary) Line() string {
	line := fmt.Sprintf("%s, %s, %s (%d retired), %s stored, %s/month", plural(s.Sources, "source"), plural(s.Atoms, "atom"),
		plural(s.Bags, "bag"), s.BagsRetired, cost.Bytes(s.BagBytes), cost.USD(s.monthly))
	line += fmt.Sprintf("; restoring everything: Bulk %s (~%g h), Standard %s (~%g h)", cost.USD(s.bulk), cost.RestoreHours(cost.TierBulk),
		cost.USD(s.std), cost.RestoreHours(cost.TierStandard))
	if s.ChurnCandidates > 0 {
		line += fmt.Sprintf("; %s changed in nearly every run", plural(s.ChurnCandidates, "atom"))
	}
	return line
}

// writeFileRenamed writes p.partial and renames it to p, so p is never
// half written.
func writeFileRenamed(p string, data []byte) error {
	tmp := layout.Partial(p)
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, p)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
