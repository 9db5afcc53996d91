package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/exitcode"
)

// GB_CPUPROFILE=FILE leaves a CPU profile of the command in FILE.
func TestCPUProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.prof")
	t.Setenv("GB_CPUPROFILE", prof)
	t.Setenv("GB_STATE_DIR", dir)
	var c demo
	var out, errOut bytes.Buffer
	code := cli.Run("gb-demo", "A demo.", nil, &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
		}
		return nil
	}, cli.Env{Stdout: &out, Stderr: &errOut})
	if code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	fi, err := os.Stat(prof)
	if err != nil || fi.Size() == 0 {
		t.Fatalf("no profile written: %v", err)
	}
}
