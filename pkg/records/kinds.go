package records

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
)

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
	KindPack      = "pack"
	KindUploaded  = "uploaded"
	KindFailed    = "failed"
	KindPut       = "put"
	KindCommitted = "committed"
)

// kinds maps every record kind gb writes to its Go type. Each file of this
// package registers its area's kinds from init (pipeline.go, find.go,
// restore.go, ...), so that adding an area touches no shared list.
var kinds = map[string]reflect.Type{}

// Register declares the Go type of a record kind; v is a value of the
// type (a struct with a "kind" field). Registering a kind twice is a
// programming error.
func Register(kind string, v any) {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("records.Register(%q): %T is not a struct", kind, v))
	}
	if old, ok := kinds[kind]; ok {
		panic(fmt.Sprintf("records.Register(%q): already registered as %v", kind, old))
	}
	kinds[kind] = t
}

// TypeOf returns the Go type of a registered kind.
func TypeOf(kind string) (reflect.Type, bool) {
	t, ok := kinds[kind]
	return t, ok
}

// Kinds returns every registered kind, sorted.
func Kinds() []string {
	ks := make([]string, 0, len(kinds))
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

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
