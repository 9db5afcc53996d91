package records

import "time"

// Record kinds written by gb-report.
const (
	KindReportSource  = "report_source"
	KindReportBag     = "report_bag"
	KindReportRestore = "report_restore"
	KindReportRun     = "report_run"
	KindReportChurn   = "report_churn"
	KindReport        = "report"
)

// ReportSource is the "report_source" record.
type ReportSource struct {
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
}

// ReportBag is the "report_bag" record.
type ReportBag struct {
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
}

// ReportRestore is the "report_restore" record: one scope at one tier.
type ReportRestore struct {
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
}

// ReportRun is the "report_run" record: one entry of the inventory's runs.
type ReportRun struct {
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
}

// ReportChurn is the "report_churn" record: an atom packed again because
// it changed in one of the recent runs.
type ReportChurn struct {
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
}

// ReportStore is the "store" object of the summary (with --store).
type ReportStore struct {
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
}

// Report is the "report" record (gb-report's summary), written last.
type Report struct {
	Kind string `json:"kind"`
	Outcome
	At              time.Time    `json:"at"`
	Inventory       string       `json:"inventory"`
	Sources         int          `json:"sources"`
	Atoms           int          `json:"atoms"`
	AtomsEncrypted  int          `json:"atoms_encrypted"`
	AtomsGone       int          `json:"atoms_gone"`
	Files           int64        `json:"files"`
	Bytes           int64        `json:"bytes"`
	Bags            int          `json:"bags"`
	BagsInUse       int          `json:"bags_in_use"`
	BagsRetired     int          `json:"bags_retired"`
	BagsEncrypted   int          `json:"bags_encrypted"`
	BagBytes        int64        `json:"bag_bytes"`
	InUseBytes      int64        `json:"in_use_bytes"`
	RetiredBytes    int64        `json:"retired_bytes"`
	Monthly         float64      `json:"monthly_usd"`
	MonthlyRetired  float64      `json:"monthly_retired_usd"`
	Yearly          float64      `json:"yearly_usd"`
	RetiredFreeNow  int          `json:"retired_free_now"`
	RetiredYoung    int          `json:"retired_young"`
	NextFreeFrom    time.Time    `json:"next_free_from,omitzero"`
	Fees            float64      `json:"early_deletion_fees_usd"`
	RestoreBulk     float64      `json:"restore_bulk_usd"`
	RestoreStandard float64      `json:"restore_standard_usd"`
	Runs            int          `json:"runs"`
	FirstRun        time.Time    `json:"first_run,omitzero"`
	LastRun         time.Time    `json:"last_run,omitzero"`
	UploadedBytes   int64        `json:"uploaded_bytes"`
	HistoryFiles    int          `json:"history_files"`
	ChurnRuns       int          `json:"churn_runs"`
	ChurnAtoms      int          `json:"churn_atoms"`
	ChurnCandidates int          `json:"churn_candidates"`
	Store           *ReportStore `json:"store,omitempty"`
	SVG             string       `json:"svg,omitempty"`
}

func init() {
	Register(KindReportSource, ReportSource{})
	Register(KindReportBag, ReportBag{})
	Register(KindReportRestore, ReportRestore{})
	Register(KindReportRun, ReportRun{})
	Register(KindReportChurn, ReportChurn{})
	Register(KindReport, Report{})
}
