package report

import (
	"path/filepath"
	"sort"
	"time"

	"github.com/gbarchive/gb/pkg/inventory"
)

// History is what gb-report learns from the inventory and its daily
// copies (inventory_bak_dir/inventory-YYYY-MM-DD.json): an atom keeps only
// the time it was last packed (packed_at), but each copy holds the
// packed_at of its day, so together they give the runs each atom was
// packed in. Each copy also says what the inventory held after the run
// it ends with (its last runs entry).
//
// Copies are taken before the first change of each day (gb-commit,
// gb-prune --delete), so the state after a run is kept unless another run
// changed the inventory the same day. A copy deleted by hand takes its
// runs' history with it.
type History struct {
	// Files read, in order.
	Files []string
	// packs: atom key -> packed_at (Unix ns) -> what was packed then.
	packs map[string]map[int64]packInfo
	// states: last run's time (Unix ns) -> bags held after it (the
	// latest copy that ends with that run wins).
	states map[int64]state
}

type packInfo struct {
	files, bytes int64
	firstSeen    int64
	hash         string // metadata hash packed
}

type state struct {
	bags  int
	bytes int64
}

// NewHistory returns an empty history.
func NewHistory() *History {
	return &History{packs: map[string]map[int64]packInfo{}, states: map[int64]state{}}
}

// LoadDir adds every inventory-*.json in dir, oldest first. A copy that
// cannot be read is left out and returned as an error; a missing dir is
// no history.
func (h *History) LoadDir(dir string) []error {
	if dir == "" {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "inventory-*.json"))
	sort.Strings(files)
	var errs []error
	for _, f := range files {
		inv, err := inventory.Load(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		h.Files = append(h.Files, f)
		h.Add(inv)
	}
	return errs
}

// Add takes one inventory (a copy, or the current one last).
func (h *History) Add(inv *inventory.Inventory) {
	for k, a := range inv.Atoms {
		if a.PackedAt.IsZero() {
			continue
		}
		m := h.packs[k]
		if m == nil {
			m = map[int64]packInfo{}
			h.packs[k] = m
		}
		m[a.PackedAt.UnixNano()] = packInfo{files: a.Files, bytes: a.Bytes, firstSeen: a.FirstSeen.UnixNano(), hash: a.LastMetadataHash}
	}
	if n := len(inv.Runs); n > 0 {
		var s state
		for _, b := range inv.Bags {
			s.bags++
			s.bytes += b.Bytes
		}
		h.states[inv.Runs[n-1].At.UnixNano()] = s
	}
}

// packedIn reports whether atom key was packed at t, and what.
func (h *History) packedIn(key string, t time.Time) (packInfo, bool) {
	p, ok := h.packs[key][t.UnixNano()]
	return p, ok
}

// changed reports whether the pack of atom key at t (Unix ns) holds
// another metadata hash than the pack before it: it was packed again
// because it changed, not because an operation (--repack, --reset-bag),
// new keys or an incomplete pack asked for it. With no earlier pack known
// (a gap in the copies) it counts as changed.
func (h *History) changed(key string, t int64) bool {
	m := h.packs[key]
	prev, found := int64(0), false
	for pt := range m {
		if pt < t && (!found || pt > prev) {
			prev, found = pt, true
		}
	}
	return !found || m[prev].hash != m[t].hash
}

// stateAfter is what the inventory held after the run at t, when a copy
// (or the inventory itself) shows it.
func (h *History) stateAfter(t time.Time) (state, bool) {
	s, ok := h.states[t.UnixNano()]
	return s, ok
}
