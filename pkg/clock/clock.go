// Package clock is gb's one source of "now". Every stage asks it, so tests
// (and rehearsals of next year's run) can set GB_NOW instead of waiting.
package clock

import (
	"fmt"
	"os"
	"time"
)

// Env is the variable that fixes the clock: RFC 3339 ("2027-01-15T02:00:00Z")
// or a date ("2027-01-15", midnight UTC).
const Env = "GB_NOW"

// Now returns GB_NOW when set, else the wall clock, in UTC.
func Now() (time.Time, error) {
	v := os.Getenv(Env)
	if v == "" {
		return time.Now().UTC(), nil
	}
	return Parse(v)
}

// Parse reads a GB_NOW value.
func Parse(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s=%q is not a time (use RFC 3339, e.g. 2027-01-15T02:00:00Z, or 2027-01-15)", Env, v)
}
