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

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/prune"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
)

// Record kinds written by gb-report.
const (
	KindSource  = "report_source"
	KindBag     = "report_bag"
	KindRestore = "report_restore"
	KindRun     = "report_run"
	KindChurn   = "report_churn"
	KindReport  = "report"
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
	// SVG, when set, is a file the chart is written to (FILE.partial,
	// then renamed).
	SVG string
	// ChurnRuns: the recent runs churn looks at (0: DefaultChurnRuns).
	ChurnRuns int
	// NoHistory: do not read the daily inventory copies; churn then sees
	// only the last time each atom was packed.
	NoHistory bool
}

// SourceRecord is the "report_source" record.
type SourceRecord struct {
	Kind           string    `json:"kind"`
	Source         string    `json:"source"`
	SourceB64      string    `json:"source_b64,omitempty"`
	Mode           string    `json:"mode"`
	Encrypt        bool      `json:"encrypt"`
	FirstSeen      time.Time `json:"first_seen,omitzero"`
	LastSeen       time.Time `json:"last_seen,omitzero"`
	Atoms          int       `json:"atoms"`
	AtomsEncrypted int       `json:"atoms_encrypted"`
	AtomsGone      int       `json:"atoms_gone"`
	Files          int64     `json:"files"`
	Bytes          int64     `json:"bytes"`
	Bags           int       `json:"bags"`
	BagBytes       int64     `json:"bag_bytes"`
	BagsRetired    int       `json:"bags_retired"`
	RetiredBytes   int64     `json:"retired_bytes"`
	BagsEncrypted  int       `json:"bags_encrypted"`
	Monthly        float64   `json:"monthly_usd"`

	monthly float64
}

// BagRecord is the "report_bag" record.
type BagRecord struct {
	Kind         string    `json:"kind"`
	Bag          string    `json:"bag"`
	Key          string    `json:"key"`
	Source       string    `json:"source"`
	SourceB64    string    `json:"source_b64,omitempty"`
	State        string    `json:"state"`
	Atoms        int       `json:"atoms"`
	AtomsInUse   int       `json:"atoms_in_use"`
	Files        int64     `json:"files"`
	Bytes        int64     `json:"bytes"`
	Compress     string    `json:"compress,omitempty"`
	Encrypt      bool      `json:"encrypt"`
	StorageClass string    `json:"storage_class"`
	UploadedAt   time.Time `json:"uploaded_at"`
	AgeDays      float64   `json:"age_days"`
	RetiredAt    time.Time `json:"retired_at,omitzero"`
	FreeFrom     time.Time `json:"free_from,omitzero"`
	Fee          float64   `json:"early_deletion_fee_usd"`
	Monthly      float64   `json:"monthly_usd"`
	RestoreBulk  float64   `json:"restore_bulk_usd"`
	RestoreStd   float64   `json:"restore_standard_usd"`
	InStore      *bool     `json:"in_store,omitempty"`

	fee, monthly, bulk, std float64
}

// RestoreRecord is the "report_restore" record: one scope at one tier.
type RestoreRecord struct {
	Kind          string  `json:"kind"`
	Scope         string  `json:"scope"`
	Bag           string  `json:"bag,omitempty"`
	Source        string  `json:"source,omitempty"`
	SourceB64     string  `json:"source_b64,omitempty"`
	Tier          string  `json:"tier"`
	Bags          int     `json:"bags"`
	Bytes         int64   `json:"bytes"`
	BagsEncrypted int     `json:"bags_encrypted"`
	Thaw          float64 `json:"thaw_usd"`
	Requests      float64 `json:"requests_usd"`
	Egress        float64 `json:"egress_usd"`
	Total         float64 `json:"total_usd"`
	Hours         float64 `json:"hours"`

	total float64
}

// RunRecord is the "report_run" record: one entry of the inventory's runs.
type RunRecord struct {
	Kind           string    `json:"kind"`
	Run            int       `json:"run"`
	At             time.Time `json:"at"`
	DryRun         bool      `json:"dry_run,omitempty"`
	BagsAdded      int       `json:"bags_added"`
	BytesAdded     int64     `json:"bytes_added"`
	AtomsPacked    int       `json:"atoms_packed"`
	AtomsKept      int       `json:"atoms_kept"`
	AtomsForgotten int       `json:"atoms_forgotten"`
	AtomsPending   int       `json:"atoms_pending"`
	AtomsNew       int       `json:"atoms_new"`
	AtomsRepacked  int       `json:"atoms_repacked"`
	AtomsChanged   int       `json:"atoms_changed"`
	RepackedBytes  int64     `json:"repacked_bytes"`
	AtomsUntracked int       `json:"atoms_untracked,omitempty"`
	StoredBags     int       `json:"stored_bags"`
	StoredBytes    int64     `json:"stored_bytes"`
	Estimated      bool      `json:"stored_estimated,omitempty"`
	Monthly        float64   `json:"monthly_usd"`

	monthly float64
}

// ChurnRecord is the "report_churn" record: an atom packed again because
// it changed in one of the recent runs.
type ChurnRecord struct {
	Kind         string    `json:"kind"`
	Atom         string    `json:"atom"`
	AtomB64      string    `json:"atom_b64,omitempty"`
	Source       string    `json:"source"`
	SourceB64    string    `json:"source_b64,omitempty"`
	Type         string    `json:"type"`
	Files        int64     `json:"files"`
	Bytes        int64     `json:"bytes"`
	FirstSeen    time.Time `json:"first_seen"`
	PackedAt     time.Time `json:"packed_at"`
	Runs         int       `json:"runs"`
	Changes      int       `json:"changes"`
	ChangedBytes int64     `json:"changed_bytes"`
	Candidate    bool      `json:"candidate"`

	key string
}

// StoreSummary is the "store" object of the summary (with --store).
type StoreSummary struct {
	URL             string  `json:"url"`
	Objects         int     `json:"objects"`
	Bytes           int64   `json:"bytes"`
	ColdObjects     int     `json:"cold_objects"`
	ColdBytes       int64   `json:"cold_bytes"`
	StandardObjects int     `json:"standard_objects"`
	StandardBytes   int64   `json:"standard_bytes"`
	Monthly         float64 `json:"monthly_usd"`
	BagsMissing     int     `json:"bags_missing"`
	BagsUnknown     int     `json:"bags_not_in_inventory"`

	monthly float64
}

// Summary is the "report" record, written last.
type Summary struct {
	Kind            string        `json:"kind"`
	At              time.Time     `json:"at"`
	Inventory       string        `json:"inventory"`
	Sources         int           `json:"sources"`
	Atoms           int           `json:"atoms"`
	AtomsEncrypted  int           `json:"atoms_encrypted"`
	AtomsGone       int           `json:"atoms_gone"`
	Files           int64         `json:"files"`
	Bytes           int64         `json:"bytes"`
	Bags            int           `json:"bags"`
	BagsInUse       int           `json:"bags_in_use"`
	BagsRetired     int           `json:"bags_retired"`
	BagsEncrypted   int           `json:"bags_encrypted"`
	BagBytes        int64         `json:"bag_bytes"`
	InUseBytes      int64         `json:"in_use_bytes"`
	RetiredBytes    int64         `json:"retired_bytes"`
	Monthly         float64       `json:"monthly_usd"`
	MonthlyRetired  float64       `json:"monthly_retired_usd"`
	Yearly          float64       `json:"yearly_usd"`
	RetiredFreeNow  int           `json:"retired_free_now"`
	RetiredYoung    int           `json:"retired_young"`
	NextFreeFrom    time.Time     `json:"next_free_from,omitzero"`
	Fees            float64       `json:"early_deletion_fees_usd"`
	RestoreBulk     float64       `json:"restore_bulk_usd"`
	RestoreStandard float64       `json:"restore_standard_usd"`
	Runs            int           `json:"runs"`
	FirstRun        time.Time     `json:"first_run,omitzero"`
	LastRun         time.Time     `json:"last_run,omitzero"`
	UploadedBytes   int64         `json:"uploaded_bytes"`
	HistoryFiles    int           `json:"history_files"`
	ChurnRuns       int           `json:"churn_runs"`
	ChurnAtoms      int           `json:"churn_atoms"`
	ChurnCandidates int           `json:"churn_candidates"`
	Store           *StoreSummary `json:"store,omitempty"`
	SVG             string        `json:"svg,omitempty"`

	monthly, monthlyRetired, fees float64
	bulk, std                     float64
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
		if objs, err = prune.ListObjects(ctx, opts.Store); err != nil {
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
		w.Write(s)
	}
	for _, b := range r.Bags {
		w.Write(b)
	}
	for _, x := range r.Restores {
		w.Write(x)
	}
	for _, x := range r.Runs {
		w.Write(x)
	}
	for _, x := range r.Churn {
		w.Write(x)
	}
	w.Write(r.Summary)
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
	tmp := p + ".partial"
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
