package records

import "time"

// gb-restore's record kinds, one per step (docs/records.md, "Restore
// records"). Their values (states, actions, statuses, reasons) are
// declared with the steps, in pkg/restore.
const (
	KindRestorePlan    = "restore_plan"
	KindRestoreRequest = "restore_request"
	KindRestoreStatus  = "restore_status"
	KindRestoreFile    = "restore_file"
	KindRestoreBag     = "restore_bag"
)

// RestorePlan is the restore_plan record: what a planned restore holds and
// costs.
type RestorePlan struct {
	Kind          string           `json:"kind"`
	State         string           `json:"state"`
	From          string           `json:"from"`
	Bags          int              `json:"bags"`
	Bytes         int64            `json:"bytes"`
	BagsEncrypted int              `json:"bags_encrypted"`
	Paths         int              `json:"paths"`
	Atoms         int              `json:"atoms"`
	Days          int              `json:"days"`
	Costs         []RestoreCost    `json:"costs"`
	BagList       []RestorePlanBag `json:"bag_list"`
}

// RestoreCost is what restoring some bags costs and takes at one tier
// (restore_plan's costs). Amounts are rounded to 4 decimals.
type RestoreCost struct {
	Tier        string  `json:"tier"`
	Bags        int     `json:"bags"`
	Bytes       int64   `json:"bytes"`
	ThawUSD     float64 `json:"thaw_usd"`
	RequestsUSD float64 `json:"requests_usd"`
	EgressUSD   float64 `json:"egress_usd"`
	StorageUSD  float64 `json:"storage_usd"`
	TotalUSD    float64 `json:"total_usd"`
	Hours       float64 `json:"hours"`
	Days        int     `json:"days"`
}

// RestorePlanBag is one bag of a restore_plan record.
type RestorePlanBag struct {
	Bag       string `json:"bag"`
	Key       string `json:"key"`
	Bytes     int64  `json:"bytes"`
	Encrypted bool   `json:"encrypted,omitempty"`
	All       bool   `json:"all,omitempty"`
	Atoms     int    `json:"atoms,omitempty"`
	Paths     int    `json:"paths,omitempty"`
}

// RestoreRequest is the restore_request record: what request did for one
// bag.
type RestoreRequest struct {
	Kind   string `json:"kind"`
	Bag    string `json:"bag"`
	Key    string `json:"key"`
	Action string `json:"action"`
	Tier   string `json:"tier,omitempty"`
	Days   int    `json:"days,omitempty"`
	Bytes  int64  `json:"bytes"`
	Error  string `json:"error,omitempty"`
}

// RestoreStatus is the restore_status record: where one bag stands.
type RestoreStatus struct {
	Kind         string    `json:"kind"`
	Bag          string    `json:"bag"`
	Key          string    `json:"key"`
	State        string    `json:"state"`
	Bytes        int64     `json:"bytes"`
	StorageClass string    `json:"storage_class,omitempty"`
	Tier         string    `json:"tier,omitempty"`
	RequestedAt  time.Time `json:"requested_at,omitzero"`
	ReadyAt      time.Time `json:"ready_at,omitzero"`
	ReadyBy      time.Time `json:"ready_by,omitzero"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	RestoredAt   time.Time `json:"restored_at,omitzero"`
	Target       string    `json:"target,omitempty"`
}

// RestoreFile is the restore_file record: one bag entry fetch looked at.
type RestoreFile struct {
	Kind      string `json:"kind"`
	Bag       string `json:"bag"`
	Path      string `json:"path"`
	PathB64   string `json:"path_b64,omitempty"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	Existing  bool   `json:"existing,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Error     string `json:"error,omitempty"`
	Size      int64  `json:"size,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
	GotSHA256 string `json:"got_sha256,omitempty"`
	Warning   string `json:"warning,omitempty"`
}

// RestoreBag is the restore_bag record: what fetch did with one bag.
type RestoreBag struct {
	Kind       string    `json:"kind"`
	Bag        string    `json:"bag"`
	Key        string    `json:"key"`
	State      string    `json:"state"`
	Target     string    `json:"target,omitempty"`
	Bytes      int64     `json:"bytes"`
	Downloaded int64     `json:"downloaded"`
	ResumedAt  int64     `json:"resumed_at,omitempty"`
	Files      int64     `json:"files"`
	OK         int64     `json:"ok"`
	Mismatch   int64     `json:"mismatch"`
	Skipped    int64     `json:"skipped"`
	ReadyAt    time.Time `json:"ready_at,omitzero"`
	Error      string    `json:"error,omitempty"`
}

func init() {
	Register(KindRestorePlan, RestorePlan{})
	Register(KindRestoreRequest, RestoreRequest{})
	Register(KindRestoreStatus, RestoreStatus{})
	Register(KindRestoreFile, RestoreFile{})
	Register(KindRestoreBag, RestoreBag{})
}
