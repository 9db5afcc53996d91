package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"syscall"
)

// Outcome, its statuses and the summary types are declared with the
// other pipeline records in pipeline.go.

// SetOutcome lets Finish fill the Outcome of any summary that embeds it.
func (o *Outcome) SetOutcome(x Outcome) { *o = x }

// OutcomeOf is the outcome of a stage whose Run returns err.
func OutcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return Outcome{Status: StatusOK}
	case errors.Is(err, ErrWarnings):
		return Outcome{Status: StatusWarnings}
	}
	o := Outcome{Status: StatusFailed, Error: err.Error()}
	var h interface{ HintText() string }
	if errors.As(err, &h) {
		o.Hint = h.HintText()
	}
	var ue *UpstreamError
	if errors.As(err, &ue) {
		o.Upstream = ue.Stage
	}
	return o
}

// Finish ends a stage's output with its summary sum when the stage
// returns before it wrote it (written false, err not nil): sum's Outcome
// is set from err and sum goes to out, so that what follows learns why.
// Nothing is written when out's reader went away. It returns err.
func Finish(out io.Writer, err error, written bool, sum interface{ SetOutcome(Outcome) }) error {
	if written || err == nil || errors.Is(err, syscall.EPIPE) {
		return err
	}
	sum.SetOutcome(OutcomeOf(err))
	_ = NewWriter(out).Write(sum) // the error said on stderr is the one that counts
	return err
}

// Upstream follows the summary record of the stage before this one in
// the pipe: whether it came, and what it said.
type Upstream struct {
	Stage string // the stage that writes it: "gb-plan"
	Kind  string // its kind: "plan"
	seen  bool
	out   Outcome
}

// NewUpstream follows the summary of kind written by stage.
func NewUpstream(stage, kind string) *Upstream { return &Upstream{Stage: stage, Kind: kind} }

// Note looks at a record read from the pipe.
func (u *Upstream) Note(l Line) {
	if l.Kind != u.Kind {
		return
	}
	u.seen = true
	var s struct{ Outcome }
	if json.Unmarshal(l.Raw, &s) == nil {
		u.out = s.Outcome
	}
}

// Failed reports whether the summary came and said the stage failed.
func (u *Upstream) Failed() bool { return u.seen && u.out.Status == StatusFailed }

// Err is nil when the upstream summary came and did not say failed.
// Otherwise it is why this stage fails: quietly when the upstream stage
// failed (it said why), in one line naming it when its summary never came
// (then nothing says why it stopped); notDone says what this stage did
// not do because of it ("nothing was packed").
func (u *Upstream) Err(notDone string) error {
	switch {
	case !u.seen:
		return &UpstreamError{Stage: u.Stage, Missing: true, NotDone: notDone}
	case u.out.Status == StatusFailed:
		root := u.out.Upstream
		if root == "" {
			root = u.Stage
		}
		return &UpstreamError{Stage: root}
	}
	return nil
}

// After is for a stage that failed before it read its input, for a cause
// an upstream stage meets too (gb-plan and gb-commit both read the
// inventory): it reads the rest of in, and when the upstream summary says
// failed, that is the cause, said already, and err is not said again.
func (u *Upstream) After(in io.Reader, err error) error {
	r := NewReader(in, "stdin")
	for {
		l, e := r.Next()
		if e != nil {
			break
		}
		u.Note(l)
	}
	if u.Failed() {
		return u.Err("")
	}
	return err
}

// UpstreamError is a stage failing because a stage before it failed.
type UpstreamError struct {
	Stage   string // the stage that failed first, or whose summary never came
	Missing bool   // its summary never came
	NotDone string
}

func (e *UpstreamError) Error() string {
	if !e.Missing {
		return e.Stage + " failed"
	}
	msg := fmt.Sprintf("input ended without %s's summary (%s failed or was killed)", e.Stage, e.Stage)
	if e.NotDone != "" {
		msg += "; " + e.NotDone
	}
	return msg
}

// Quiet reports whether err must not be printed, because it was said
// already: an upstream stage failed and said why, or the reader of this
// stage's output went away (it, or the stage after it, says why).
func Quiet(err error) bool {
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return !ue.Missing
	}
	return errors.Is(err, syscall.EPIPE)
}
