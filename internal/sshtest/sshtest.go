// Package sshtest runs a real OpenSSH server (Debian's openssh-server) on
// 127.0.0.1 for tests of remote sources: its own host key, a client key
// in authorized_keys, and an ssh_config whose host aliases reach it the
// way a user's ~/.ssh/config would.
package sshtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is one sshd.
type Server struct {
	Dir    string // keys, sshd_config, ssh_config, logs
	Port   int
	User   string
	Config string // ssh_config for clients: ssh -F Config HOST
	cmd    *exec.Cmd
	exited chan error // the server's exit, once
}

// Aliases that Config defines:
//   - Host: the server, with the right key and host key;
//   - BadKey: the server, with a key it does not accept;
//   - Dead: a port on 127.0.0.1 where nothing listens.
const (
	Host   = "gbhost"
	BadKey = "gbbadkey"
	Dead   = "gbdead"
)

// Sshd is the server binary; Debian puts it in /usr/sbin.
func Sshd() (string, error) {
	if p, err := exec.LookPath("sshd"); err == nil {
		return p, nil
	}
	p := "/usr/sbin/sshd"
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("sshd not found (Debian: apt-get install openssh-server)")
	}
	return p, nil
}

// Start starts sshd with its files in dir (made if missing).
func Start(dir string) (*Server, error) {
	sshd, err := Sshd()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, User: u.Username}
	for _, k := range []string{"host", "client", "other"} {
		f := filepath.Join(dir, k+"_key")
		if _, err := os.Stat(f); err == nil {
			continue
		}
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gb-test-"+k, "-f", f).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ssh-keygen: %v: %s", err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(dir, "client_key.pub"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		return nil, err
	}
	hostPub, err := os.ReadFile(filepath.Join(dir, "host_key.pub"))
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		// sshd run as root insists on its privilege separation directory.
		os.MkdirAll("/run/sshd", 0o755)
	}
	var lastErr error
	for try := 0; try < 5; try++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.Port = port
		if err := s.writeConfigs(hostPub); err != nil {
			return nil, err
		}
		if lastErr = s.start(sshd); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

func (s *Server) writeConfigs(hostPub []byte) error {
	d := s.Dir
	sshdConfig := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s/host_key
AuthorizedKeysFile %s/authorized_keys
PidFile %s/sshd.pid
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
Subsystem sftp internal-sftp
LogLevel VERBOSE
`, s.Port, d, d, d)
	if err := os.WriteFile(filepath.Join(d, "sshd_config"), []byte(sshdConfig), 0o600); err != nil {
		return err
	}
	fields := strings.Fields(string(hostPub))
	kh := fmt.Sprintf("[127.0.0.1]:%d %s %s\n", s.Port, fields[0], fields[1])
	if err := os.WriteFile(filepath.Join(d, "known_hosts"), []byte(kh), 0o600); err != nil {
		return err
	}
	dead, err := freePort()
	if err != nil {
		return err
	}
	common := fmt.Sprintf(`  HostName 127.0.0.1
  User %s
  UserKnownHostsFile %s/known_hosts
  StrictHostKeyChecking yes
  IdentitiesOnly yes
  IdentityAgent none
  ConnectTimeout 5
`, s.User, d)
	cfg := fmt.Sprintf("Host %s\n  Port %d\n  IdentityFile %s/client_key\n%s\nHost %s\n  Port %d\n  IdentityFile %s/other_key\n%s\nHost %s\n  Port %d\n  IdentityFile %s/client_key\n%s",
		Host, s.Port, d, common, BadKey, s.Port, d, common, Dead, dead, d, common)
	s.Config = filepath.Join(d, "ssh_config")
	return os.WriteFile(s.Config, []byte(cfg), 0o600)
}

func (s *Server) start(sshd string) error {
	// -D: stay in the foreground, a child of the test, so it is stopped
	// with it (Pdeathsig) and never outlives a killed test run.
	cmd := exec.Command(sshd, "-D", "-f", filepath.Join(s.Dir, "sshd_config"), "-E", filepath.Join(s.Dir, "sshd.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start sshd: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(s.Dir, "sshd.log"))
			return fmt.Errorf("sshd exited: %v: %s%s", err, stderr.String(), log)
		default:
		}
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Port), time.Second); err == nil {
			c.Close()
			s.cmd, s.exited = cmd, exited
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-exited
	return fmt.Errorf("sshd did not listen on 127.0.0.1:%d within 10 s", s.Port)
}

// Stop kills the server and waits for it to exit; the port is then
// closed and the host unreachable.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
