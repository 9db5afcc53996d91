package records

import "time"

// The records of the backup pipeline: gb-scan | gb-plan | gb-pack | gb-put
// | gb-commit. Producers write these types and consumers decode into them,
// so a renamed field breaks the build, not a run. docs/records.md
// describes every field; a test keeps the two in step.

// Outcome ends every stage's summary record: how the stage ended, and on
// failure the one cause, so that the next stage and glacier.sh take it
// from the stream instead of from stderr text.
type Outcome struct {
	Status   string `json:"status"`             // "ok" | "warnings" | "failed"
	Error    string `json:"error,omitempty"`    // the one-line cause, when failed
	Hint     string `json:"hint,omitempty"`     // what to do, when there is something
	Upstream string `json:"upstream,omitempty"` // the upstream stage that failed or whose summary never came, when that is why this one failed
}

// Outcome statuses.
const (
	StatusOK       = "ok"
	StatusWarnings = "warnings"
	StatusFailed   = "failed"
)

// Source describes one list.txt line (gb-scan).
type Source struct {
	Kind     string   `json:"kind"`
	Source   string   `json:"source"`
	Mode     string   `json:"mode"`
	Encrypt  bool     `json:"encrypt"`
	Keys     string   `json:"keys,omitempty"`
	ListFile string   `json:"list"`
	Line     int      `json:"line"`
	Excludes []string `json:"excludes"`
	Exclude  string   `json:"exclude_file,omitempty"`
	// EncryptFile is encrypt.txt when it exists (gb-commit copies it to
	// system/).
	EncryptFile string `json:"encrypt_file,omitempty"`
	// Error says why a remote source could not be read this run (host
	// unreachable, authentication refused, path missing). No atom record
	// follows it, and gb-plan keeps the source's atoms as they were.
	Error string `json:"error,omitempty"`
}

// Part is where one bag's share of a split atom starts.
type Part struct {
	From    string `json:"from"`
	FromB64 string `json:"from_b64,omitempty"`
	Files   int64  `json:"files"`
	Bytes   int64  `json:"bytes"`
}

// Atom describes one atom (gb-scan).
type Atom struct {
	Kind     string `json:"kind"`
	Source   string `json:"source"`
	Key      string `json:"atom"`
	KeyB64   string `json:"atom_b64,omitempty"`
	Path     string `json:"path"`
	PathB64  string `json:"path_b64,omitempty"`
	Type     string `json:"type"`
	Mode     string `json:"mode"`
	Encrypt  bool   `json:"encrypt"`
	Keys     string `json:"keys,omitempty"`
	Files    int64  `json:"files"`
	Dirs     int64  `json:"dirs"`
	Bytes    int64  `json:"bytes"`
	Hash     string `json:"hash"`
	Warnings int64  `json:"warnings,omitempty"`
	Parts    []Part `json:"parts,omitempty"`
}

// ScanSummary closes a complete scan; gb-plan refuses a stream without
// it, so a scan cut short can never look like deleted atoms.
type ScanSummary struct {
	Kind string `json:"kind"`
	Outcome
	List        string `json:"list"`
	Sources     int    `json:"sources"`
	Atoms       int    `json:"atoms"`
	Files       int64  `json:"files"`
	Bytes       int64  `json:"bytes"`
	Warnings    int64  `json:"warnings"`
	Unavailable int    `json:"unavailable,omitempty"` // remote sources that could not be read
	TargetBytes int64  `json:"target_bytes"`
	Complete    bool   `json:"complete"`
}

// BagAtom is an atom, or one part of a split atom, inside a bag.
type BagAtom struct {
	Atom    string `json:"atom"`
	AtomB64 string `json:"atom_b64,omitempty"`
	Path    string `json:"path"`
	PathB64 string `json:"path_b64,omitempty"`
	Type    string `json:"type"`
	Hash    string `json:"hash"`
	Files   int64  `json:"files"`
	Bytes   int64  `json:"bytes"`
	// Split atoms: this bag holds part Part of Parts, the entries from
	// From (inclusive) to To (exclusive; "" for the last part) in
	// canonical walk order.
	Part    int    `json:"part,omitempty"`
	Parts   int    `json:"parts,omitempty"`
	From    string `json:"from,omitempty"`
	FromB64 string `json:"from_b64,omitempty"`
	To      string `json:"to,omitempty"`
	ToB64   string `json:"to_b64,omitempty"`
}

// Bag is a new bag to pack and upload (gb-plan).
type Bag struct {
	Kind     string    `json:"kind"`
	ID       string    `json:"id"`
	Key      string    `json:"key"`
	Source   string    `json:"source"`
	Mode     string    `json:"mode"`
	Label    string    `json:"label"`
	Compress string    `json:"compress"`
	Encrypt  bool      `json:"encrypt"`
	Keys     string    `json:"keys,omitempty"` // the keys' ID when encrypted
	Excludes []string  `json:"excludes"`
	Files    int64     `json:"files"`
	Bytes    int64     `json:"bytes"`
	Atoms    []BagAtom `json:"atoms"`
}

// Keep is an unchanged atom (gb-plan).
type Keep struct {
	Kind    string   `json:"kind"`
	Atom    string   `json:"atom"`
	AtomB64 string   `json:"atom_b64,omitempty"`
	Source  string   `json:"source"`
	Hash    string   `json:"hash"`
	Bags    []string `json:"bags"`
}

// Gone is an atom missing from disk that the inventory keeps, with its
// bags, until keep_deleted_days after it was last seen (gb-plan).
type Gone struct {
	Kind        string    `json:"kind"`
	Atom        string    `json:"atom"`
	AtomB64     string    `json:"atom_b64,omitempty"`
	Source      string    `json:"source"`
	Bags        []string  `json:"bags"`
	LastSeen    time.Time `json:"last_seen"`
	GoneSince   time.Time `json:"gone_since"` // the first run that missed it (this one, the first time)
	ForgetAfter time.Time `json:"forget_after"`
}

// Forget is an atom the inventory drops (gb-plan).
type Forget struct {
	Kind    string   `json:"kind"`
	Atom    string   `json:"atom"`
	AtomB64 string   `json:"atom_b64,omitempty"`
	Source  string   `json:"source"`
	Bags    []string `json:"bags"`
	Reason  string   `json:"reason"`
}

// Retire is a bag that a plan leaves no longer fully referenced (gb-plan).
type Retire struct {
	Kind       string    `json:"kind"`
	Bag        string    `json:"bag"`
	Key        string    `json:"key"`
	Reason     string    `json:"reason"` // unreferenced | partly-superseded
	AtomsLeft  int       `json:"atoms_left"`
	Bytes      int64     `json:"bytes"`
	UploadedAt time.Time `json:"uploaded_at"`
	AgeDays    float64   `json:"age_days"`
	// What deleting it now would cost; prune waits until it is free.
	EarlyDeletionFee float64 `json:"early_deletion_fee_usd"`
}

// PlanSummary is the plan's last record (gb-plan).
type PlanSummary struct {
	Kind string `json:"kind"`
	Outcome
	At               time.Time `json:"at"`
	Year             int       `json:"year"`
	TargetBytes      int64     `json:"target_bytes"`
	AtomsNew         int       `json:"atoms_new"`
	AtomsChanged     int       `json:"atoms_changed"`
	AtomsKept        int       `json:"atoms_kept"`
	AtomsForgotten   int       `json:"atoms_forgotten"`
	Bags             int       `json:"bags"`
	Files            int64     `json:"files"`
	Bytes            int64     `json:"bytes"`
	PutRequests      int       `json:"put_requests"`
	UploadCost       float64   `json:"upload_cost_usd"`
	MonthlyAdded     float64   `json:"monthly_storage_added_usd"`
	MonthlyTotal     float64   `json:"monthly_storage_total_usd"`
	BagsRetired      int       `json:"bags_retired"`
	RetiredBytes     int64     `json:"retired_bytes"`
	EarlyDeletionFee float64   `json:"early_deletion_fees_if_deleted_now_usd"`
	AtomsRepacked    int       `json:"atoms_repacked"` // unchanged atoms an operation packs again
	AtomsGone        int       `json:"atoms_gone"`     // gone from disk, kept for keep_deleted_days
	KeepDeletedDays  float64   `json:"keep_deleted_days"`
	Operations       []string  `json:"operations,omitempty"`
	OperationBytes   int64     `json:"operation_bytes"`    // bytes packed again because of the operations
	OperationFees    float64   `json:"operation_fees_usd"` // remaining minimum storage of young bags the operations leave unreferenced
	OperationYoung   []string  `json:"operation_young_bags,omitempty"`
	// Bags this plan leaves unreferenced while younger than
	// min_retention_days (their remaining days are early_deletion_fees…),
	// and when the last of them may be deleted free.
	YoungRetired  []string  `json:"young_retired_bags,omitempty"`
	YoungFreeFrom time.Time `json:"young_retired_free_from,omitzero"`
	FirstBag      string    `json:"first_bag,omitempty"`
	NextBag       int       `json:"next_bag"`
	NothingToDo   bool      `json:"nothing_to_do"`
}

// Packed reports a staged bag (gb-pack).
type Packed struct {
	Kind         string `json:"kind"`
	Bag          string `json:"bag"`
	Key          string `json:"key"`
	File         string `json:"file"`
	Bytes        int64  `json:"bytes"`
	SHA256       string `json:"sha256"`
	Compress     string `json:"compress"`
	Files        int64  `json:"files"`
	ContentBytes int64  `json:"content_bytes"`
	Manifest     string `json:"manifest"`
	ManifestKey  string `json:"manifest_key"`
	// ManifestUpload is the file gb-put stores at ManifestKey when it is
	// not Manifest itself: the manifest encrypted like its bag.
	ManifestUpload  string    `json:"manifest_upload,omitempty"`
	Encrypt         bool      `json:"encrypt,omitempty"`
	Keys            string    `json:"keys,omitempty"`
	Warnings        int       `json:"warnings,omitempty"`
	IncompleteAtoms []string  `json:"incomplete_atoms,omitempty"`
	PackedAt        time.Time `json:"packed_at"`
}

// PackSummary is gb-pack's last record.
type PackSummary struct {
	Kind string `json:"kind"`
	Outcome
	Bags         int   `json:"bags"`          // bags staged (packed now, or left by an interrupted run for the same plan)
	Bytes        int64 `json:"bytes"`         // their staged (compressed) bytes
	ContentBytes int64 `json:"content_bytes"` // regular-file bytes read
	Warnings     int   `json:"warnings"`      // entries skipped or changed while packed, and bags left out
}

// Uploaded reports a bag that is safely stored (gb-put).
type Uploaded struct {
	Kind         string    `json:"kind"`
	Bag          string    `json:"bag"`
	Key          string    `json:"key"`
	Bytes        int64     `json:"bytes"`
	SHA256       string    `json:"sha256"`
	StorageClass string    `json:"storage_class"`
	UploadedAt   time.Time `json:"uploaded_at"`
	ETag         string    `json:"etag,omitempty"`
	ManifestKey  string    `json:"manifest_key"`
	// Adopted: the object was already stored, byte for byte, by an
	// earlier run that died before committing it.
	Adopted bool `json:"adopted,omitempty"`
	// SentBytes is what this run sent: less than bytes when an interrupted
	// upload resumed, 0 when adopted.
	SentBytes int64 `json:"sent_bytes"`
}

// Failed reports a bag that was not stored; its atoms are retried next
// run (gb-put).
type Failed struct {
	Kind  string `json:"kind"`
	Bag   string `json:"bag"`
	Key   string `json:"key"`
	Error string `json:"error"`
}

// PutSummary is gb-put's last record.
type PutSummary struct {
	Kind string `json:"kind"`
	Outcome
	Bags      int    `json:"bags"`       // bags stored (uploaded or adopted)
	Bytes     int64  `json:"bytes"`      // their stored bytes
	SentBytes int64  `json:"sent_bytes"` // bytes this run sent
	Adopted   int    `json:"adopted"`    // bags an interrupted run had stored already
	Failed    int    `json:"failed"`     // bags not stored (failed records)
	Store     string `json:"store,omitempty"`
}

// Committed is gb-commit's summary record.
type Committed struct {
	Kind string `json:"kind"`
	Outcome
	Inventory      string   `json:"inventory"`
	DryRun         bool     `json:"dry_run"`
	BagsCommitted  int      `json:"bags_committed"`
	BytesCommitted int64    `json:"bytes_committed"`
	AtomsPacked    int      `json:"atoms_packed"`
	AtomsKept      int      `json:"atoms_kept"`
	AtomsForgotten int      `json:"atoms_forgotten"`
	AtomsPending   int      `json:"atoms_pending"`
	BagsFailed     []string `json:"bags_failed,omitempty"`
	BagsRetired    []string `json:"bags_retired,omitempty"`
	SystemFiles    []string `json:"system_files,omitempty"`
	NextBag        int      `json:"next_bag"`
}

func init() {
	Register(KindSource, Source{})
	Register(KindAtom, Atom{})
	Register(KindWarning, Warning{})
	Register(KindScan, ScanSummary{})
	Register(KindKeep, Keep{})
	Register(KindBag, Bag{})
	Register(KindGone, Gone{})
	Register(KindForget, Forget{})
	Register(KindRetire, Retire{})
	Register(KindPlan, PlanSummary{})
	Register(KindPacked, Packed{})
	Register(KindPack, PackSummary{})
	Register(KindUploaded, Uploaded{})
	Register(KindFailed, Failed{})
	Register(KindPut, PutSummary{})
	Register(KindCommitted, Committed{})
}
