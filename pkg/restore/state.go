package restore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gbarchive/gb/pkg/exitcode"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/records"
	"golang.org/x/sys/unix"
)

// StateVersion is the restore.json format this gb writes.
const StateVersion = 1

// State is restore.json: what was planned and how far each bag got. Every
// step reads it, does what is left, and writes it back, so each step can
// be run again (by hand or by cron) until the restore is done. Fields are
// only ever added, never renamed (docs/records.md, "restore.json").
type State struct {
	Version   int       `json:"version"`
	PlannedAt time.Time `json:"planned_at"`
	Inventory string    `json:"inventory"`
	Dest      string    `json:"dest,omitempty"`
	Days      int       `json:"days"`
	Bags      []*Bag    `json:"bags"`
}

// Bag is one planned bag: what to take from it, and its progress.
type Bag struct {
	Bag         string `json:"bag"`
	Key         string `json:"key"`
	Bytes       int64  `json:"bytes"`
	SHA256      string `json:"sha256"`
	Compress    string `json:"compress"`
	Encrypted   bool   `json:"encrypted,omitempty"`
	ManifestKey string `json:"manifest_key,omitempty"`
	// What to extract: the whole bag (All), the entries of some atoms
	// (their manifest "atom" field), and some paths (a directory with
	// everything under it).
	All   bool   `json:"all,omitempty"`
	Atoms []Path `json:"atoms,omitempty"`
	Paths []Path `json:"paths,omitempty"`

	// gb-restore request.
	RequestedAt time.Time `json:"requested_at,omitzero"`
	Tier        string    `json:"tier,omitempty"`
	Days        int       `json:"days,omitempty"`

	// gb-restore fetch: set once every entry was processed.
	RestoredAt time.Time `json:"restored_at,omitzero"`
	Target     string    `json:"target,omitempty"`
	Files      int64     `json:"files,omitempty"`
	OK         int64     `json:"ok,omitempty"`
	Mismatch   int64     `json:"mismatch,omitempty"`
	Skipped    int64     `json:"skipped,omitempty"`
}

// Path is an exact file name in JSON: Path, with PathB64 holding the bytes
// when they are not UTF-8 (as in records). Dir marks a directory: it
// selects everything under it too.
type Path struct {
	Path    string `json:"path"`
	PathB64 string `json:"path_b64,omitempty"`
	Dir     bool   `json:"dir,omitempty"`
}

func newPath(p string, dir bool) Path {
	d, b := records.EncodePath(p)
	return Path{Path: d, PathB64: b, Dir: dir}
}

// Exact is the name's bytes.
func (p Path) Exact() string {
	s, err := records.DecodePath(p.Path, p.PathB64)
	if err != nil {
		return p.Path
	}
	return s
}

// Done reports whether fetch finished the bag (into target, when given).
func (b *Bag) Done(target string) bool {
	return !b.RestoredAt.IsZero() && (target == "" || b.Target == target)
}

// DefaultStateFile is restore.json in the state directory.
func DefaultStateFile(st *config.Settings) string {
	return filepath.Join(st.StateDir, "restore.json")
}

// LoadState reads the state file.
func LoadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &config.Error{File: path, Msg: "no restore planned here", Hint: "plan one first: gb-find … | gb-restore plan, or gb-restore plan --source DIR (--restore-file names another file)"}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	s := new(State)
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("%s: damaged (%v)", path, err)
	}
	if s.Version > StateVersion {
		return nil, fmt.Errorf("%s: format version %d is newer than this gb-restore understands (%d)", path, s.Version, StateVersion)
	}
	for i, bg := range s.Bags {
		if bg == nil || bg.Bag == "" || bg.Key == "" {
			return nil, fmt.Errorf("%s: bag %d has no id or key", path, i+1)
		}
	}
	return s, nil
}

// Save writes the state atomically: NAME.partial, fsync, rename, fsync of
// the directory. A crash leaves the old file or the new one.
func (s *State) Save(path string) error {
	sort.Slice(s.Bags, func(i, j int) bool { return s.Bags[i].Bag < s.Bags[j].Bag })
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := inventory.WriteFileAtomic(path, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ErrBusy: another gb-restore holds the state file's lock. Nothing is
// wrong, the restore is not finished: exit 5, as for ErrNotReady, from
// which errors.Is tells it apart.
var ErrBusy error = busyError{}

type busyError struct{}

func (busyError) Error() string { return "another gb-restore is working on this restore" }
func (busyError) ExitCode() int { return exitcode.NotReady }

// lockState takes PATH.lock, failing at once when another process holds
// it: a cron job that finds the previous one still downloading leaves it
// alone.
func lockState(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	lp := path + ".lock"
	f, err := os.OpenFile(lp, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is locked: %w", lp, ErrBusy)
		}
		return nil, fmt.Errorf("lock %s: %w", lp, err)
	}
	return func() { f.Close() }, nil
}
