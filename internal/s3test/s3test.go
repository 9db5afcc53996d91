// Package s3test runs versitygw, a real S3 server, on 127.0.0.1 for tests.
// The test command installs it (scripts/test.sh: go install
// github.com/versity/versitygw/cmd/versitygw@v1.8.0); in CI a missing
// server fails the test, elsewhere it skips.
package s3test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Access and Secret are the root credentials the server is started with.
const (
	Access = "gbtestaccess"
	Secret = "gbtestsecret0123456789"
)

var (
	once     sync.Once
	endpoint string
	startErr error
	server   *exec.Cmd
	dataDir  string
)

// Stop ends the server and removes its data; call it from TestMain after
// m.Run. (The server also dies with the test process: Pdeathsig.)
func Stop() {
	if server != nil && server.Process != nil {
		server.Process.Kill()
	}
	if dataDir != "" {
		os.RemoveAll(dataDir)
	}
}

// Binary finds versitygw: GB_VERSITYGW, $PATH, then $GOBIN / $GOPATH/bin.
func Binary() (string, error) {
	if p := os.Getenv("GB_VERSITYGW"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		dirs = append(dirs, filepath.Join(string(trim(out)), "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not found (scripts/test.sh installs it: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
}

func trim(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Endpoint starts the shared server once per test process and returns its
// URL. The server's data lives in a temporary directory removed at exit
// of the process (the OS cleans /tmp otherwise).
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(func() { endpoint, startErr = start() })
	if startErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("S3 test server: %v", startErr)
		}
		t.Skipf("S3 test server: %v", startErr)
	}
	return endpoint
}

func start() (string, error) {
	bin, err := Binary()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "gb-versitygw-")
	if err != nil {
		return "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	dataDir = dir
	cmd := exec.Command(bin, "--access", Access, "--secret", Secret, "--port", addr, "posix", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	server = cmd
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if os.Getenv("GB_TEST_VERBOSE") == "" {
		cmd.Stdout, cmd.Stderr = nil, nil
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	go cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return "http://" + addr, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	return "", fmt.Errorf("versitygw did not listen on %s within 30s", addr)
}
