package cli

import (
	"io"
	"testing"
)

// The cron log keeps each command's figures: its last line that is not a
// hint or a warning.
func TestLastLine(t *testing.T) {
	for _, tc := range []struct {
		name, cmd, out, want string
	}{
		{"figures", "gb-scan", "gb-scan: 1 sources, 2 atoms\n", "1 sources, 2 atoms"},
		{"warnings after the figures", "gb-scan", "gb-scan: warning: /a: permission denied\ngb-scan: 1 sources, 2 atoms\ngb-scan: warning: 1 entries could not be read: finished with warnings\n", "1 sources, 2 atoms"},
		{"error and hint", "gb-put", "gb-put: error: bucket b: access denied\ngb-put: hint: check the credentials\n", "error: bucket b: access denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &lastLine{w: io.Discard}
			l.Write([]byte(tc.out))
			if got := l.summary(tc.cmd); got != tc.want {
				t.Fatalf("summary = %q, want %q", got, tc.want)
			}
		})
	}
}
