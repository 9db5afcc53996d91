package e2e

import (
	"testing"
	"time"

	"github.com/gbarchive/gb/internal/s3test"
	"github.com/gbarchive/gb/pkg/clock"
	"github.com/rogpeppe/go-internal/testscript"
)

// coldDelay is how long a restore takes behind the Cold proxy, every tier
// (restore.txtar sets the local store's delays to match).
const coldDelay = time.Hour

// scriptTB lets s3test's helpers, written for a testing.TB, live as long
// as one script: cleanups run when the script ends, failures fail it.
type scriptTB struct {
	testing.TB
	env *testscript.Env
}

func (s scriptTB) Helper()                        {}
func (s scriptTB) Cleanup(f func())               { s.env.Defer(f) }
func (s scriptTB) Fatal(args ...any)              { s.env.T().Fatal(args...) }
func (s scriptTB) Fatalf(format string, a ...any) { s.env.T().Fatal(append([]any{format}, a...)...) }
func (s scriptTB) Skipf(format string, args ...any) {
	s.env.T().Skip(append([]any{format}, args...)...)
}

// setupCold gives each s3-mode script its own Cold proxy (Deep Archive in
// front of versitygw, with a clock only `advance` moves) at
// $COLD_ENDPOINT. Scripts that restore point GB_S3_ENDPOINT at it.
func setupCold(t *testing.T, env *testscript.Env) {
	c := s3test.NewCold(scriptTB{TB: t, env: env}, coldDelay)
	env.Setenv("COLD_ENDPOINT", c.URL)
	env.Values["cold"] = c
}

// advance DURATION: time passes. GB_NOW moves (the gb clock, which is
// also the local store's), and in s3 mode so does the Cold proxy's clock.
func cmdAdvance(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: advance DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	now, err := clock.Parse(ts.Getenv("GB_NOW"))
	ts.Check(err)
	ts.Setenv("GB_NOW", now.Add(d).Format(time.RFC3339))
	if c, ok := ts.Value("cold").(*s3test.Cold); ok {
		c.Advance(d)
	}
}
