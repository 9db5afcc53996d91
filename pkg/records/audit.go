package records

import "time"

// Record kinds written by gb-audit.
const (
	KindFinding = "finding"
	KindAudit   = "audit"
)

// Finding is one disagreement between the inventory and the store.
type Finding struct {
	Kind     string `json:"kind"`
	Problem  string `json:"problem"`
	Severity string `json:"severity"`
	Key      string `json:"key"`
	Bag      string `json:"bag,omitempty"`
	Atoms    int    `json:"atoms,omitempty"`
	Expected any    `json:"expected,omitempty"`
	Found    any    `json:"found,omitempty"`
	// Orphans and uploads, as gb-prune's orphan record.
	Object        string    `json:"object,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	UploadID      string    `json:"upload_id,omitempty"`
	Bytes         int64     `json:"bytes,omitempty"`
	StorageClass  string    `json:"storage_class,omitempty"`
	UploadedAt    time.Time `json:"uploaded_at,omitzero"`
	AgeDays       *float64  `json:"age_days,omitempty"`
	Fee           *float64  `json:"early_deletion_fee_usd,omitempty"`
	DeletableFrom time.Time `json:"deletable_from,omitzero"`
	Detail        string    `json:"detail"`
}

// Audit is the "audit" record (gb-audit's summary), written last.
type Audit struct {
	Kind string `json:"kind"`
	Outcome
	Store       string         `json:"store"`
	Inventory   string         `json:"inventory"`
	At          time.Time      `json:"at"`
	Bags        int            `json:"bags"`
	BagsRetired int            `json:"bags_retired"`
	BagsChecked int            `json:"bags_checked"`
	Objects     int            `json:"objects"`
	SystemYear  int            `json:"system_year,omitempty"`
	Orphans     int            `json:"orphans"`
	Waiting     int            `json:"orphans_waiting"` // retired bags and their manifests inside the minimum storage period; not problems
	OrphanBytes int64          `json:"orphan_bytes"`
	Uploads     int            `json:"uploads"`
	Findings    int            `json:"findings"`
	Problems    map[string]int `json:"problems"`
	Clean       bool           `json:"clean"`
}

func init() {
	Register(KindFinding, Finding{})
	Register(KindAudit, Audit{})
}
