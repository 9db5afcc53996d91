package restore

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/exitcode"
	"github.com/gbarchive/gb/pkg/records"
)

// What a fetch's bag states and entry counts come to: the exit code
// (exitcode.Of; 1 for a plain error) and the end of the summary line.
func TestFetched(t *testing.T) {
	for _, c := range []struct {
		name  string
		n     map[string]int
		total extractStats
		code  int
		tail  string
	}{
		{"all restored", map[string]int{StateRestored: 1, "already-restored": 1}, extractStats{files: 3, ok: 3}, exitcode.OK, "; done"},
		{"one failed", map[string]int{StateRestored: 1, StateFailed: 1, StateThawing: 1}, extractStats{}, exitcode.Failure, "; 1 failed, 0 missing from the store"},
		{"one missing", map[string]int{StateMissing: 1, StateFrozen: 1}, extractStats{}, exitcode.Failure, "; 0 failed, 1 missing from the store"},
		{"frozen before thawing", map[string]int{StateFrozen: 1, StateThawing: 2}, extractStats{}, exitcode.Frozen, "(exit 6)"},
		{"thawing", map[string]int{StateRestored: 1, StateThawing: 2}, extractStats{}, exitcode.NotReady, "(exit 5)"},
		{"mismatches", map[string]int{StateRestored: 1}, extractStats{files: 3, ok: 1, mismatch: 1, skipped: 1}, exitcode.Warnings, "1 skipped)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var errOut bytes.Buffer
			var fail error
			if c.n[StateFailed] > 0 {
				fail = errors.New("bag bag_000002: download stopped")
			}
			err := fetched(&errOut, c.n, c.total, 3, "/target", fail)
			code, ok := exitcode.Of(err)
			switch {
			case !ok && errors.Is(err, records.ErrWarnings):
				code = exitcode.Warnings // until records.ErrWarnings carries its code
			case !ok:
				code = exitcode.Failure
			}
			if code != c.code {
				t.Errorf("err = %v: exit %d, want %d", err, code, c.code)
			}
			if line := strings.TrimSpace(errOut.String()); !strings.HasSuffix(line, c.tail) || strings.Count(line, "\n") > 0 {
				t.Errorf("summary %q, want one line ending %q", line, c.tail)
			}
		})
	}
}
