package cli_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/exitcode"
	"github.com/gbarchive/gb/pkg/records"
)

// Every error becomes its code, and is said once, in one place.
func TestReport(t *testing.T) {
	notReady := exitcode.Error{Code: exitcode.NotReady, Msg: "some bags are still thawing"}
	for _, tc := range []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"done", nil, exitcode.OK, ""},
		{"failure", errors.New("disk full"), exitcode.Failure, "gb-x: error: disk full\n"},
		{"config error with hint", &config.Error{File: "glacier.cfg", Line: 3, Msg: "unknown key", Hint: "see docs/configuration.md"}, exitcode.Usage,
			"gb-x: error: glacier.cfg:3: unknown key\ngb-x: hint: see docs/configuration.md\n"},
		{"wrapped config error", fmt.Errorf("list: %w", &config.Error{Msg: "bad line"}), exitcode.Usage, "gb-x: error: list: bad line\n"},
		{"warnings", fmt.Errorf("2 entries skipped: %w", records.ErrWarnings), exitcode.Warnings, "gb-x: warning: 2 entries skipped: finished with warnings\n"},
		{"coder decides", exitcode.Error{Code: exitcode.Usage, Msg: "request not confirmed"}, exitcode.Usage, "gb-x: error: request not confirmed\n"},
		{"coder warnings", exitcode.Error{Code: exitcode.Warnings, Msg: "3 findings"}, exitcode.Warnings, "gb-x: warning: 3 findings\n"},
		// An outcome the summary line already told is not said again...
		{"bare outcome", notReady, exitcode.NotReady, ""},
		{"no match", exitcode.Error{Code: exitcode.NoMatch, Msg: "no matches"}, exitcode.NoMatch, ""},
		// ...but one with more to say is, without "error".
		{"outcome with context", fmt.Errorf("x.lock is locked: %w", notReady), exitcode.NotReady, "gb-x: x.lock is locked: some bags are still thawing\n"},
		{"coder beats config", fmt.Errorf("%w: %w", &config.Error{Msg: "m"}, exitcode.Error{Code: exitcode.Frozen, Msg: "frozen"}), exitcode.Frozen, "gb-x: m: frozen\n"},
	} {
		var w bytes.Buffer
		if code := cli.Report(&w, "gb-x", tc.err); code != tc.code || w.String() != tc.stderr {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", tc.name, code, w.String(), tc.code, tc.stderr)
		}
		if code := cli.Code(tc.err); code != tc.code {
			t.Errorf("%s: Code %d, want %d", tc.name, code, tc.code)
		}
	}
}
