package records

import "time"

// Record kinds written by gb-prune.
const (
	KindOrphan  = "orphan"
	KindDeleted = "deleted"
	KindPrune   = "prune"
)

// Orphan is the "orphan" record: one object (or incomplete upload)
// the inventory does not need.
type Orphan struct {
	Kind         string    `json:"kind"`
	Object       string    `json:"object"`
	Key          string    `json:"key"`
	Bag          string    `json:"bag,omitempty"`
	BagKey       string    `json:"bag_key,omitempty"`
	UploadID     string    `json:"upload_id,omitempty"`
	Reason       string    `json:"reason"`
	Bytes        int64     `json:"bytes"`
	StorageClass string    `json:"storage_class"`
	UploadedAt   time.Time `json:"uploaded_at"`
	AgeDays      float64   `json:"age_days"`
	Fee          float64   `json:"early_deletion_fee_usd"`
	// DeletableFrom is when --delete (without --allow-early) deletes it:
	// the end of its minimum storage duration, or for an upload when it
	// becomes older than abort_uploads_after. Left out when that is now.
	DeletableFrom time.Time `json:"deletable_from,omitzero"`
	Kept          string    `json:"kept,omitempty"`
}

// Deleted is the "deleted" record: an object deleted, an upload
// aborted, or a retired bag already gone dropped from the inventory.
type Deleted struct {
	Kind             string    `json:"kind"`
	Object           string    `json:"object"`
	Key              string    `json:"key"`
	Bag              string    `json:"bag,omitempty"`
	UploadID         string    `json:"upload_id,omitempty"`
	Reason           string    `json:"reason"`
	Bytes            int64     `json:"bytes"`
	StorageClass     string    `json:"storage_class,omitempty"`
	UploadedAt       time.Time `json:"uploaded_at,omitzero"`
	AgeDays          float64   `json:"age_days"`
	Fee              float64   `json:"early_deletion_fee_usd"`
	InventoryDropped bool      `json:"inventory_dropped,omitempty"`
	AlreadyGone      bool      `json:"already_gone,omitempty"`
	LocalManifest    string    `json:"local_manifest,omitempty"`
}

// Prune is the "prune" record (gb-prune's summary), written last.
type Prune struct {
	Kind string `json:"kind"`
	Outcome
	Store            string    `json:"store"`
	Inventory        string    `json:"inventory"`
	At               time.Time `json:"at"`
	DryRun           bool      `json:"dry_run"`
	OrphanBags       int       `json:"orphan_bags"`
	OrphanManifests  int       `json:"orphan_manifests"`
	OrphanBytes      int64     `json:"orphan_bytes"`
	DeletedBags      int       `json:"deleted_bags"`
	DeletedManifests int       `json:"deleted_manifests"`
	DeletedBytes     int64     `json:"deleted_bytes"`
	Fees             float64   `json:"early_deletion_fees_usd"`
	KeptYoung        int       `json:"kept_young"`
	KeptYoungBytes   int64     `json:"kept_young_bytes"`
	FeesIfDeletedNow float64   `json:"kept_young_fees_usd"`
	NextDeletable    time.Time `json:"next_deletable_from,omitzero"`
	LastDeletable    time.Time `json:"last_deletable_from,omitzero"`
	Uploads          int       `json:"uploads"`
	UploadsAborted   int       `json:"uploads_aborted"`
	InventoryDropped []string  `json:"inventory_dropped,omitempty"`
	SystemFiles      []string  `json:"system_files,omitempty"`
	Failed           int       `json:"failed,omitempty"`
}

func init() {
	Register(KindOrphan, Orphan{})
	Register(KindDeleted, Deleted{})
	Register(KindPrune, Prune{})
}
