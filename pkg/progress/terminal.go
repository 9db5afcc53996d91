package progress

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// How gb commands share a terminal. Two lock files per user and terminal
// (gb-progress-UID-DEV.{draw,lines} in $XDG_RUNTIME_DIR, else the temp
// directory), each taken with flock, so a command that dies lets go:
//
//   - .draw is held by the one command drawing bars.
//   - .lines is held for every write to the terminal, by any gb command,
//     and holds a count of the lines written by the others. Before each
//     frame the drawing command looks at the count: when it moved, the bars
//     it drew last are no longer right above the cursor, so instead of
//     moving up over them (and over the other command's lines) it draws the
//     new frame below.
//
// When the lock files cannot be made, each command draws as if it were
// alone.

// Terminal returns w, or when progress may be drawn on the terminal w
// writes to (mode auto or always), w wrapped so that its lines never land
// inside another gb command's bars. cli wraps every command's stderr with
// it.
func Terminal(w io.Writer, mode string) io.Writer {
	if mode == Never {
		return w
	}
	raw, coordinated := find(w)
	if raw == nil || coordinated {
		return w
	}
	return &lineWriter{w: w, t: newTTY(raw, "")}
}

// find follows Unwrap from w to an *os.File that is a terminal; coordinated
// says a lineWriter is on the way.
func find(w io.Writer) (raw *os.File, coordinated bool) {
	for range 16 {
		switch v := w.(type) {
		case *lineWriter:
			return v.t.raw, true
		case *os.File:
			if isTerminal(v) {
				return v, false
			}
			return nil, false
		case interface{ Unwrap() io.Writer }:
			w = v.Unwrap()
		default:
			return nil, false
		}
	}
	return nil, false
}

// isTerminal reports whether f is a terminal (golang.org/x/term: the
// right ioctl on every platform gb builds for).
func isTerminal(f *os.File) bool {
	ok := false
	if c, err := f.SyscallConn(); err == nil {
		c.Control(func(fd uintptr) { ok = term.IsTerminal(int(fd)) })
	}
	return ok
}

// lineWriter writes a command's lines to the terminal, counting them for
// whoever draws bars there.
type lineWriter struct {
	w io.Writer
	t *tty
}

func (l *lineWriter) Write(p []byte) (int, error) {
	unlock := l.t.lockLines()
	defer unlock()
	n, err := l.w.Write(p)
	l.t.bump()
	return n, err
}

func (l *lineWriter) Unwrap() io.Writer { return l.w }

// tty is one command's handle on a terminal.
type tty struct {
	raw  *os.File // the terminal (a stand-in file in tests)
	dir  string   // where the lock files are
	name string   // their name without suffix

	once  sync.Once
	draw  *os.File // nil when the lock files could not be made
	lines *os.File
	mu    sync.Mutex // flock does not exclude goroutines sharing a descriptor
	drawn bool       // holding .draw
}

// newTTY describes the terminal raw; dir "" picks the lock directory.
func newTTY(raw *os.File, dir string) *tty {
	t := &tty{raw: raw, dir: dir}
	var st unix.Stat_t
	if c, err := raw.SyscallConn(); err == nil {
		c.Control(func(fd uintptr) {
			if unix.Fstat(int(fd), &st) != nil {
				st.Rdev = 0
			}
		})
	}
	if t.dir == "" {
		t.dir = os.Getenv("XDG_RUNTIME_DIR")
		if fi, err := os.Stat(t.dir); t.dir == "" || err != nil || !fi.IsDir() {
			t.dir = os.TempDir()
		}
	}
	t.name = fmt.Sprintf("gb-progress-%d-%x", os.Getuid(), st.Rdev)
	return t
}

// open makes or opens the lock files once; false when it cannot.
func (t *tty) open() bool {
	t.once.Do(func() {
		d, err := openLock(filepath.Join(t.dir, t.name+".draw"))
		if err != nil {
			return
		}
		l, err := openLock(filepath.Join(t.dir, t.name+".lines"))
		if err != nil {
			d.Close()
			return
		}
		t.draw, t.lines = d, l
	})
	return t.draw != nil
}

// openLock opens a lock file of this user's, never following a link or
// using a file someone else made.
func openLock(p string) (*os.File, error) {
	fd, err := unix.Open(p, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Uid != uint32(os.Getuid()) || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: not a lock file of this user's", p)
	}
	return os.NewFile(uintptr(fd), p), nil
}

// width is the terminal's width in columns, 0 when unknown.
func (t *tty) width() int {
	cols := 0
	if c, err := t.raw.SyscallConn(); err == nil {
		c.Control(func(fd uintptr) {
			if w, _, err := term.GetSize(int(fd)); err == nil {
				cols = w
			}
		})
	}
	return cols
}

// tryDraw takes the terminal for drawing, unless another command has it.
func (t *tty) tryDraw() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.drawn {
		return true
	}
	if t.open() && unix.Flock(int(t.draw.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return false
	}
	t.drawn = true
	return true
}

func (t *tty) releaseDraw() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.drawn && t.draw != nil {
		unix.Flock(int(t.draw.Fd()), unix.LOCK_UN)
	}
	t.drawn = false
}

// lockLines holds the terminal for one write. A command stopped while
// holding it (^Z) delays the others' writes by at most half a second.
func (t *tty) lockLines() (unlock func()) {
	t.mu.Lock()
	if !t.open() {
		return t.mu.Unlock
	}
	fd := int(t.lines.Fd())
	deadline := time.Now().Add(500 * time.Millisecond)
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				unix.Flock(fd, unix.LOCK_UN)
				t.mu.Unlock()
			}
		}
		if (err != unix.EWOULDBLOCK && err != unix.EINTR) || time.Now().After(deadline) {
			return t.mu.Unlock
		}
		time.Sleep(time.Millisecond)
	}
}

// count is the number of writes by commands not drawing; under lockLines.
func (t *tty) count() uint64 {
	if t.lines == nil {
		return 0
	}
	var b [8]byte
	if n, _ := t.lines.ReadAt(b[:], 0); n < len(b) {
		return 0
	}
	return binary.LittleEndian.Uint64(b[:])
}

func (t *tty) bump() {
	if t.lines == nil {
		return
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], t.count()+1)
	t.lines.WriteAt(b[:], 0)
}

// frames is the writer the bar library draws on.
func (t *tty) frames() io.Writer {
	unlock := t.lockLines()
	defer unlock()
	return &frameWriter{t: t, seen: t.count()}
}

// frameWriter writes the library's frames to the terminal. Each frame
// comes in one write: the cursor-up-and-erase over the previous frame's
// bars, the lines printed above the bars, then the bars.
type frameWriter struct {
	t    *tty
	seen uint64
}

func (f *frameWriter) Write(p []byte) (int, error) {
	unlock := f.t.lockLines()
	defer unlock()
	q := p
	if c := f.t.count(); c != f.seen {
		// Another command wrote below our bars: leave them be and draw
		// the new frame below its lines.
		f.seen = c
		q = skipCursorUp(q)
	}
	if _, err := f.t.raw.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

// skipCursorUp drops a leading "ESC[nA ESC[J" (up n lines, erase below).
func skipCursorUp(p []byte) []byte {
	if !bytes.HasPrefix(p, []byte("\x1b[")) {
		return p
	}
	i := 2
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	if i == 2 || !bytes.HasPrefix(p[i:], []byte("A\x1b[J")) {
		return p
	}
	return p[i+4:]
}
