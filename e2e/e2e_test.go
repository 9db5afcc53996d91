// Package e2e runs gb's commands as a user does, chained in pipes, and
// checks the results with stock tools (GNU tar, zstd, jq).
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/gbarchive/gb/internal/testtree"
	"github.com/rogpeppe/go-internal/testscript"

	// The commands run as binaries built in TestMain; importing what they
	// are made of lets go test's cache notice when that changes.
	_ "github.com/gbarchive/gb/pkg/cli"
	_ "github.com/gbarchive/gb/pkg/commit"
	_ "github.com/gbarchive/gb/pkg/pack"
	_ "github.com/gbarchive/gb/pkg/plan"
	_ "github.com/gbarchive/gb/pkg/put"
	_ "github.com/gbarchive/gb/pkg/scan"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gb-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/...")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gb commands:", err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755)
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireTools fails (in CI) or skips (elsewhere) when a stock tool the
// tests compare against is missing.
func requireTools(t *testing.T, tools ...string) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI: %v (scripts/test.sh installs it)", tool, err)
			}
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

func TestScripts(t *testing.T) {
	requireTools(t, "tar", "zstd", "jq", "flock", "bash")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("GB_BIN", binDir)
			env.Setenv("GLACIER", filepath.Join(root, "scripts", "glacier.sh"))
			env.Setenv("HOME", env.WorkDir+"/home")
			env.Setenv("GB_NOW", "2026-01-15T02:00:00Z")
			// Let an unprivileged user (see warnings.txtar) reach the
			// work directory and the binaries.
			os.Chmod(env.WorkDir, 0o755)
			os.Chmod(filepath.Dir(env.WorkDir), 0o755)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mktree":  cmdMktree,
			"cmptree": cmdCmptree,
			"touchat": cmdTouchAt,
		},
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") != "",
	})
}

// mktree DIR [BIGBYTES]: the standard awkward fixture.
func cmdMktree(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: mktree DIR [BIGBYTES]")
	}
	big := int64(3 << 20)
	if len(args) > 1 {
		n, err := strconv.ParseInt(args[1], 10, 64)
		ts.Check(err)
		big = n
	}
	ts.Check(testtree.Make(ts.MkAbs(args[0]), big))
}

// cmptree ORIG RESTORED: trees equal in content, modes, mtimes, links.
func cmdCmptree(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: cmptree ORIG RESTORED")
	}
	diffs, err := testtree.Compare(ts.MkAbs(args[0]), ts.MkAbs(args[1]), false)
	ts.Check(err)
	if neg {
		if len(diffs) == 0 {
			ts.Fatalf("trees are equal")
		}
		return
	}
	if len(diffs) > 0 {
		ts.Fatalf("trees differ:\n%s", strings.Join(diffs, "\n"))
	}
}

// touchat TIME FILE...: set mtimes (RFC 3339).
func cmdTouchAt(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: touchat TIME FILE...")
	}
	out, err := exec.Command("touch", append([]string{"-h", "-d", args[0]}, mkAbs(ts, args[1:])...)...).CombinedOutput()
	if err != nil {
		ts.Fatalf("touch: %v %s", err, out)
	}
}

func mkAbs(ts *testscript.TestScript, ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = ts.MkAbs(p)
	}
	return out
}
