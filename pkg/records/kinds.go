package records

import "errors"

// Record kinds. docs/records.md describes each field.
const (
	KindSource    = "source"
	KindAtom      = "atom"
	KindWarning   = "warning"
	KindScan      = "scan"
	KindKeep      = "keep"
	KindBag       = "bag"
	KindForget    = "forget"
	KindGone      = "gone"
	KindRetire    = "retire"
	KindPlan      = "plan"
	KindPacked    = "packed"
	KindUploaded  = "uploaded"
	KindFailed    = "failed"
	KindCommitted = "committed"
)

// Warning is a problem that did not stop the stage: a file that could not
// be read, a file that changed while it was packed.
type Warning struct {
	Kind    string `json:"kind"`
	Stage   string `json:"stage"`
	Path    string `json:"path,omitempty"`
	PathB64 string `json:"path_b64,omitempty"`
	Error   string `json:"error"`
}

// NewWarning builds a warning record for a path.
func NewWarning(stage, path string, err error) Warning {
	d, b := EncodePath(path)
	return Warning{Kind: KindWarning, Stage: stage, Path: d, PathB64: b, Error: err.Error()}
}

// ErrWarnings is returned by a stage that finished but skipped something;
// commands exit 3 for it.
var ErrWarnings = errors.New("finished with warnings")
