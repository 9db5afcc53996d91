// Package restore is gb-restore: getting files back out of Deep Archive
// in four steps that each keep their progress in a small state file
// (restore.json), so each can be run again, by hand or from cron, until a
// restore that takes two days is done:
//
//   - Plan: which bags hold what is wanted (from gb-find's match records,
//     or by atom, source or bag through the inventory), how many bytes,
//     and what a restore costs and takes per tier. Spends nothing.
//   - Request: asks the store for a restored copy of every planned bag
//     that has none. Spends money, so it needs a yes.
//   - Status: per bag, frozen, thawing, ready (until when) or restored.
//   - Fetch: downloads ready bags resumably, checks each one's SHA-256,
//     decrypts, decompresses and extracts the wanted entries safely into
//     a target directory, and checks every restored file against the
//     manifest.
//
// Besides gb's usual exit codes, status and fetch return ErrNotReady
// (exit 5) while bags are still thawing, and ErrFrozen (exit 6) when some
// bag has no restore in progress; a step that finds another gb-restore at
// work returns ErrBusy (exit 5). docs/restore.md lists them.
package restore

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/exitcode"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/store"
	"golang.org/x/term"
)

// ErrNotReady: some bags are still thawing, nothing is wrong; run the
// same command again later (exit 5).
var ErrNotReady = exitcode.Error{Code: exitcode.NotReady, Msg: "some bags are still thawing"}

// ErrFrozen: some bags have no restore in progress (never requested, or
// the restored copy expired); run gb-restore request (exit 6).
var ErrFrozen = exitcode.Error{Code: exitcode.Frozen, Msg: "some bags are frozen with no restore in progress"}

// DefaultDays is how long a restored copy is kept unless --days says.
const DefaultDays = 7

// Options configure every step; each uses what it needs.
type Options struct {
	Settings  *config.Settings
	Store     store.Store // request, status, fetch
	Now       time.Time
	StateFile string // default: STATE/restore.json

	// Plan: what to restore. With none of these, match records are read
	// from stdin.
	Atoms, Sources, Bags []string
	Days                 int  // plan: days the restored copy is kept (default 7); request: overrides the plan's
	StdinTerminal        bool // plan refuses to wait for records typed at a terminal

	// Request.
	Tier        string // store.TierBulk (default) or store.TierStandard
	Yes         bool
	Interactive bool // stdin and stderr are a terminal: ask instead of refusing

	// Fetch.
	Target    string
	Identity  string // age identity or passphrase file for encrypted bags
	Overwrite bool
	KeepBags  bool // keep downloaded bags in TARGET/.gb-restore after extracting them
}

func (o *Options) stateFile() string {
	if o.StateFile != "" {
		return o.StateFile
	}
	return DefaultStateFile(o.Settings)
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// bagFileName is the downloaded bag's name in TARGET/.gb-restore.
func bagFileName(b *Bag) string {
	ext := layout.BagExtOf(b.Key)
	if ext == "" {
		ext = layout.TarExt
	}
	return b.Bag + ext
}

// workDir holds downloads in progress and fetched manifests.
func workDir(target string) string { return filepath.Join(target, ".gb-restore") }

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
