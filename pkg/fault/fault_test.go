package fault

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// The child process: reaches point "t.point" three times, saying so
// after each, so the parent sees where it died.
func TestMain(m *testing.M) {
	if os.Getenv("FAULT_TEST_CHILD") == "1" {
		for i := 1; i <= 3; i++ {
			Point("t.point")
			os.Stdout.WriteString("passed\n")
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// run starts this test binary as the child with GB_FAULT=spec and returns
// how many times it passed the point and whether SIGKILL ended it.
func run(t *testing.T, spec string) (passed int, killed bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "FAULT_TEST_CHILD=1", Env+"="+spec)
	out, err := cmd.Output()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws, ok := ee.Sys().(syscall.WaitStatus)
		if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("child: %v", err)
		}
		killed = true
	default:
		t.Fatalf("child: %v", err)
	}
	return strings.Count(string(out), "passed\n"), killed
}

func TestPoint(t *testing.T) {
	for _, tc := range []struct {
		spec        string
		passed      int
		killed      bool
		onlyWithTag bool
	}{
		{spec: "", passed: 3},
		{spec: "other.point", passed: 3},
		{spec: "t.point", passed: 0, killed: true, onlyWithTag: true},
		{spec: "t.point:2", passed: 1, killed: true, onlyWithTag: true},
		{spec: "other:1,t.point:3", passed: 2, killed: true, onlyWithTag: true},
		{spec: "t.point:4", passed: 3},
	} {
		want, wantKilled := tc.passed, tc.killed
		if tc.onlyWithTag && !Enabled {
			// A build without -tags gbfault must ignore GB_FAULT.
			want, wantKilled = 3, false
		}
		passed, killed := run(t, tc.spec)
		if passed != want || killed != wantKilled {
			t.Errorf("Enabled=%v GB_FAULT=%q: passed %d times, killed %v; want %d, %v",
				Enabled, tc.spec, passed, killed, want, wantKilled)
		}
	}
}
