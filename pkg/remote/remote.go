// Package remote reads sources on other machines: a list.txt line
// `user@host:/path` is mounted read-only with sshfs under mnt_base while a
// command needs it, and unmounted when the command ends.
//
// Why sshfs and not a native SFTP client: every part of gb that reads
// sources (the parallel scan, pack's sparse-file, xattr and hard-link
// handling, exclude matching) works on a file system, and the seed tool
// users come from mounts with sshfs too. ssh itself does the connecting, so
// ~/.ssh/config, known_hosts, ProxyJump and the agent work as they do for
// `ssh user@host`.
//
// What stays stable is the location as written in list.txt: records, the
// inventory and manifests name remote files `user@host:/path/…`, never the
// mount point, so a run with another mnt_base, another mount or another
// process sees the same atoms. Only scan and pack, which read the files,
// translate between the two (Mount.Local, Mount.Remote).
package remote

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Location is a remote source as list.txt writes it: [user@]host:/path.
type Location struct {
	User, Host string
	Path       string // absolute and clean
}

// Parse reads a remote location. ok is false when s is not one (a local
// path, or a word without ":/"). err is set when it is one but malformed.
func Parse(s string) (loc Location, ok bool, err error) {
	if strings.HasPrefix(s, "/") {
		return loc, false, nil
	}
	i := strings.Index(s, ":")
	if i <= 0 || strings.Contains(s[:i], "/") {
		return loc, false, nil
	}
	host, p := s[:i], s[i+1:]
	if u, h, found := strings.Cut(host, "@"); found {
		loc.User, host = u, h
		if u == "" {
			return loc, true, fmt.Errorf("%s: empty user name before @", s)
		}
	}
	if host == "" || strings.ContainsAny(host, " \t@") {
		return loc, true, fmt.Errorf("%s: bad host name %q", s, host)
	}
	loc.Host = host
	if !strings.HasPrefix(p, "/") {
		return loc, true, fmt.Errorf("%s: the remote path must be absolute (host:/path)", s)
	}
	loc.Path = path.Clean(p)
	if loc.Path == "/" {
		// Its members would be named "host://…"; a whole remote system
		// is better listed by its top directories anyway.
		return loc, true, fmt.Errorf("%s: a remote source cannot be the host's root", s)
	}
	return loc, true, nil
}

// IsRemote reports whether a record path (a source, atom or file path as
// records and manifests carry it) names a remote file. Local paths are
// absolute and start with "/"; remote ones start with [user@]host:.
func IsRemote(p string) bool {
	return p != "" && !strings.HasPrefix(p, "/")
}

// String is the location as records name it: [user@]host:/path.
func (l Location) String() string {
	if l.User != "" {
		return l.User + "@" + l.Host + ":" + l.Path
	}
	return l.Host + ":" + l.Path
}

// Target is what ssh and sshfs are given: [user@]host.
func (l Location) Target() string {
	if l.User != "" {
		return l.User + "@" + l.Host
	}
	return l.Host
}

// Options say how to reach remote sources.
type Options struct {
	// Base is mnt_base: mount points are made below it, one per source
	// and process, and removed when unmounted.
	Base string
	// SSHCommand runs ssh (the ssh_command setting): "ssh" by default,
	// or e.g. "ssh -F /etc/gb/ssh_config". Split on spaces.
	SSHCommand string
	// ConnectTimeout bounds the connection check (default 20 s).
	ConnectTimeout time.Duration
}

// Mounter mounts remote sources on demand and unmounts them all on Close.
// Safe for concurrent use.
type Mounter struct {
	opts   Options
	mu     sync.Mutex
	mounts map[string]*Mount
	swept  bool
}

// NewMounter returns a Mounter; nothing is mounted until asked.
func NewMounter(o Options) *Mounter {
	if o.SSHCommand == "" {
		o.SSHCommand = "ssh"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 20 * time.Second
	}
	return &Mounter{opts: o, mounts: map[string]*Mount{}}
}

// Mount is one mounted remote source.
type Mount struct {
	Loc Location
	Dir string // the mount point
	err error
}

// Local is where a record path under this source is read on this machine.
func (m *Mount) Local(recordPath string) string {
	loc := m.Loc.String()
	if recordPath == loc {
		return m.Dir
	}
	if rest, ok := strings.CutPrefix(recordPath, strings.TrimSuffix(loc, "/")+"/"); ok {
		return filepath.Join(m.Dir, rest)
	}
	// Not under this source: a caller bug; keep it unreadable rather
	// than reading something else.
	return filepath.Join(m.Dir, ".gb-not-under-source")
}

// Remote is the record path of a local path under the mount point.
func (m *Mount) Remote(local string) string {
	if local == m.Dir {
		return m.Loc.String()
	}
	rest, ok := strings.CutPrefix(local, m.Dir+"/")
	if !ok {
		return local
	}
	return m.Loc.String() + "/" + rest
}

// Error is a remote source that could not be read. The run goes on with
// the other sources.
type Error struct {
	Location string
	Msg      string
	Hint     string
}

func (e *Error) Error() string { return e.Location + ": " + e.Msg }

// Mount mounts the source at location (once per Mounter; later calls get
// the same mount or the same error).
func (mr *Mounter) Mount(ctx context.Context, location string) (*Mount, error) {
	loc, ok, err := Parse(location)
	if !ok || err != nil {
		if err == nil {
			err = fmt.Errorf("%s is not a remote location", location)
		}
		return nil, err
	}
	mr.mu.Lock()
	defer mr.mu.Unlock()
	if m, ok := mr.mounts[loc.String()]; ok {
		return m, m.err
	}
	if !mr.swept {
		mr.swept = true
		mr.sweep()
	}
	m := &Mount{Loc: loc}
	m.Dir, m.err = mr.mount(ctx, loc)
	mr.mounts[loc.String()] = m
	return m, m.err
}

// Close unmounts everything this Mounter mounted and removes the mount
// points. It is safe to call more than once.
func (mr *Mounter) Close() error {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	var errs []error
	for k, m := range mr.mounts {
		if m.err == nil && m.Dir != "" {
			if err := unmount(m.Dir, false); err != nil {
				errs = append(errs, err)
			} else {
				os.Remove(m.Dir)
			}
		}
		delete(mr.mounts, k)
	}
	return errors.Join(errs...)
}

func (mr *Mounter) mount(ctx context.Context, loc Location) (string, error) {
	for _, tool := range []string{"sshfs", "fusermount"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", &Error{Location: loc.String(), Msg: tool + " is not installed; remote sources are mounted with sshfs",
				Hint: "install it (Debian: apt-get install sshfs), or mount the source yourself and list the mount point"}
		}
	}
	if mr.opts.Base == "" {
		return "", &Error{Location: loc.String(), Msg: "no mnt_base to mount it under", Hint: "set mnt_base in glacier.cfg"}
	}
	ssh := strings.Fields(mr.opts.SSHCommand)
	if err := mr.probe(ctx, ssh, loc); err != nil {
		return "", err
	}
	if err := os.MkdirAll(mr.opts.Base, 0o700); err != nil {
		return "", &Error{Location: loc.String(), Msg: fmt.Sprintf("cannot make the mount point: %v", err), Hint: "check mnt_base"}
	}
	dir := filepath.Join(mr.opts.Base, mountName(loc, os.Getpid()))
	if mounted(dir) {
		unmount(dir, true) // left by a dead process whose pid we now have
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", &Error{Location: loc.String(), Msg: fmt.Sprintf("cannot make the mount point: %v", err), Hint: "check mnt_base"}
	}
	// Read-only: a backup never writes to its source. kernel_cache:
	// what gb-pack reads ahead stays in the page cache for the packing
	// read (pkg/pack, readahead.go). BatchMode: cron has nobody to type
	// a password. ServerAlive: a dead link fails the reads in about a
	// minute instead of hanging the run.
	sshOpts := "ro,kernel_cache,BatchMode=yes,ServerAliveInterval=15,ServerAliveCountMax=4,ConnectTimeout=" +
		strconv.Itoa(int(mr.opts.ConnectTimeout/time.Second))
	if noContain() {
		// Debian's sshfs hides every symlink target that is absolute or
		// holds ".." (readlink: EPERM) unless told otherwise; a backup
		// must record link targets as they are. gb never follows a
		// link it reads (walks use lstat, files open O_NOFOLLOW).
		sshOpts += ",no_contain_symlinks"
	}
	args := []string{"-o", sshOpts}
	if mr.opts.SSHCommand != "ssh" {
		args = append(args, "-o", "ssh_command="+strings.Join(ssh, " "))
	}
	args = append(args, loc.Target()+":"+loc.Path, dir)
	// sshfs stays behind as a daemon until unmounted; it must not hold
	// what this process inherited, such as glacier.sh's lock (fd 9): a
	// run killed with -9 would leave the lock held by the daemon forever.
	closeInheritedOnExec()
	cmd := exec.CommandContext(ctx, "sshfs", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(dir)
		msg := lastLine(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		e := &Error{Location: loc.String(), Msg: "sshfs could not mount it: " + msg}
		switch {
		case strings.Contains(msg, "No such file or directory"):
			e.Msg, e.Hint = "the remote directory does not exist", "fix or remove the line in list.txt"
		case strings.Contains(msg, "Not a directory"):
			e.Msg, e.Hint = "the remote path is not a directory", "list a directory"
		case strings.Contains(msg, "fuse"):
			e.Hint = "sshfs needs FUSE: check that /dev/fuse exists and fusermount works for this user"
		}
		return "", e
	}
	return dir, nil
}

var noContainOnce = sync.OnceValue(func() bool {
	out, _ := exec.Command("sshfs", "-h").CombinedOutput()
	return bytes.Contains(out, []byte("no_contain_symlinks"))
})

// noContain reports whether this sshfs knows no_contain_symlinks.
func noContain() bool { return noContainOnce() }

// probe connects once with ssh and asks for the sftp subsystem that sshfs
// will use, because sshfs reports every ssh failure as "Connection reset
// by peer" while ssh says what went wrong.
func (mr *Mounter) probe(ctx context.Context, ssh []string, loc Location) error {
	ctx, cancel := context.WithTimeout(ctx, mr.opts.ConnectTimeout+10*time.Second)
	defer cancel()
	args := append(append([]string(nil), ssh[1:]...), "-o", "BatchMode=yes",
		"-o", "ConnectTimeout="+strconv.Itoa(int(mr.opts.ConnectTimeout/time.Second)), "-s", loc.Target(), "sftp")
	cmd := exec.CommandContext(ctx, ssh[0], args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // stdin stays /dev/null: the sftp server ends at once
	err := cmd.Run()
	if err == nil {
		return nil
	}
	msg := lastLine(stderr.String())
	e := &Error{Location: loc.String(), Msg: "cannot connect: " + msg}
	switch {
	case ctx.Err() != nil:
		e.Msg, e.Hint = "cannot connect: no answer in time", "check that the host is up and reachable"
	case errors.Is(err, exec.ErrNotFound):
		e.Msg, e.Hint = "cannot run ssh: "+err.Error(), "install openssh-client or set ssh_command"
	case strings.Contains(msg, "Permission denied"):
		e.Msg = "authentication refused: " + msg
		e.Hint = "gb logs in without a password (BatchMode): `ssh " + loc.Target() + "` must work with a key or the agent"
	case strings.Contains(msg, "Host key verification failed"), strings.Contains(msg, "host key"):
		e.Msg = "the host key is not known or has changed: " + msg
		e.Hint = "connect once by hand (`ssh " + loc.Target() + "`) to check and accept the key"
	case strings.Contains(msg, "Connection refused"), strings.Contains(msg, "No route"), strings.Contains(msg, "timed out"),
		strings.Contains(msg, "Could not resolve"), strings.Contains(msg, "Network is unreachable"), strings.Contains(msg, "closed by remote"):
		e.Msg = "host unreachable: " + msg
		e.Hint = "check that the host is up and `ssh " + loc.Target() + "` works; the other sources are backed up and this one keeps its last backup"
	case strings.Contains(msg, "subsystem request failed"):
		e.Msg, e.Hint = "the host offers no sftp: "+msg, "enable the sftp subsystem in the host's sshd_config"
	}
	if msg == "" {
		e.Msg = "cannot connect: " + err.Error()
	}
	return e
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "Warning: Permanently added") {
			return l
		}
	}
	return ""
}

// mountName is the mount point's name under mnt_base: readable (the
// host), unique per location (a hash) and per process (the pid), so two
// commands of one pipeline, or two runs, never share or unmount each
// other's mount.
func mountName(loc Location, pid int) string {
	sum := sha256.Sum256([]byte(loc.String()))
	host := strings.Map(func(r rune) rune {
		if r == '/' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, loc.Host)
	return fmt.Sprintf("%s-%s.%d", host, hex.EncodeToString(sum[:4]), pid)
}

// sweep unmounts and removes mount points left under mnt_base by gb
// processes that died (kill -9, a crash): a stale sshfs mount answers
// "Transport endpoint is not connected" to everything and would
// otherwise stay forever.
func (mr *Mounter) sweep() {
	ents, err := os.ReadDir(mr.opts.Base)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		dot := strings.LastIndexByte(name, '.')
		if dot < 0 {
			continue
		}
		pid, err := strconv.Atoi(name[dot+1:])
		if err != nil || pid <= 0 || pid == os.Getpid() || alive(pid) {
			continue
		}
		dir := filepath.Join(mr.opts.Base, name)
		if mounted(dir) {
			if unmount(dir, true) != nil {
				continue
			}
		}
		os.Remove(dir)
	}
}

// closeInheritedOnExec marks every descriptor above stderr close-on-exec.
// Go opens its own that way; these are the ones inherited from the parent.
func closeInheritedOnExec() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

func alive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

// mounted reports whether dir is a mount point, from /proc/self/mountinfo
// (a stat of a stale FUSE mount fails, so it cannot tell).
func mounted(dir string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if fields := strings.Fields(line); len(fields) > 4 && unescapeMount(fields[4]) == dir {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmount unmounts a FUSE mount; lazy detaches one that is busy or stale.
func unmount(dir string, lazy bool) error {
	args := []string{"-u", dir}
	if lazy {
		args = []string{"-u", "-z", dir}
	}
	out, err := exec.Command("fusermount", args...).CombinedOutput()
	if err != nil && !lazy {
		// Still busy a moment after the last file closed: detach it.
		out2, err2 := exec.Command("fusermount", "-u", "-z", dir).CombinedOutput()
		if err2 == nil {
			return nil
		}
		return fmt.Errorf("unmount %s: %v: %s / %s", dir, err, strings.TrimSpace(string(out)), strings.TrimSpace(string(out2)))
	}
	if err != nil {
		return fmt.Errorf("unmount %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}
