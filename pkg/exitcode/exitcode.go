// Package exitcode is the one table of exit codes every gb command and
// scripts/glacier.sh use. Library code returns errors; an error that
// carries its own code (Coder) is mapped here, in one place, by the
// command's main (pkg/cli).
package exitcode

import "errors"

// The table. README.md ("Exit codes") lists the same rows.
const (
	OK       = 0 // done (nothing to do included)
	Failure  = 1 // failed: the error line says why; nothing half-done is committed
	Usage    = 2 // usage or configuration error (bad flag, glacier.cfg, list.txt, key file)
	Warnings = 3 // done, but something was skipped or needs a look (warning or finding records)
	// NoChange is returned only when asked (--detailed-exitcode): the run
	// found nothing changed and had nothing to delete.
	NoChange = 4
	NotReady = 5 // gb-restore status: some bags are still thawing
	Frozen   = 6 // gb-restore status: some bags are frozen (not requested yet)
	NoMatch  = 7 // gb-find: searched everything, matched nothing
)

// Coder is an error that decides its command's exit code.
type Coder interface {
	error
	ExitCode() int
}

// Error is an outcome with a code: errors.Is matches by code, so
// `errors.Is(err, exitcode.Error{Code: exitcode.NoMatch})` works whatever
// the message.
type Error struct {
	Code int
	Msg  string
}

func (e Error) Error() string { return e.Msg }

// ExitCode implements Coder.
func (e Error) ExitCode() int { return e.Code }

// Is matches another Error with the same code.
func (e Error) Is(target error) bool {
	t, ok := target.(Error)
	return ok && t.Code == e.Code
}

// Of returns the code an error maps to when it carries one, and ok false
// when it does not (the caller then decides between Failure and Usage).
func Of(err error) (code int, ok bool) {
	if err == nil {
		return OK, true
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ExitCode(), true
	}
	return 0, false
}
