package progress

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Off (never, or auto on something that is not a terminal): not one byte
// of progress, jobs are nil and every call is a no-op.
func TestOffWritesNothing(t *testing.T) {
	for _, mode := range []string{Never, Auto, ""} {
		var buf bytes.Buffer
		r := New(&buf, mode)
		if r.On() || Enabled(&buf, mode) {
			t.Fatalf("%q: on for a buffer", mode)
		}
		c := r.Counter("gb-pack", "bags", RateBytes)
		b := c.Bar("bag_000001", 100)
		if c != nil || b != nil {
			t.Fatalf("%q: jobs when off", mode)
		}
		b.AddBytes(10)
		b.AddFiles(1)
		c.AddItems(1)
		b.Done()
		c.Fail()
		done := r.Idle()
		done()
		if in := strings.NewReader("x"); r.Input(in) != io.Reader(in) {
			t.Fatalf("%q: input wrapped when off", mode)
		}
		if r.Stderr() != io.Writer(&buf) {
			t.Fatalf("%q: Stderr is not the writer given", mode)
		}
		r.Close()
		r.Close()
		if buf.Len() != 0 {
			t.Fatalf("%q: wrote %q", mode, buf.String())
		}
		if Terminal(&buf, mode) != io.Writer(&buf) {
			t.Fatalf("%q: Terminal wrapped a buffer", mode)
		}
	}
	var nilRep *Reporter
	nilRep.Close()
	nilRep.Stderr().Write([]byte("x"))
}

// Always draws whatever the output: a counter and a bar, the bar full once
// done, and lines written meanwhile above the bars.
func TestAlwaysDraws(t *testing.T) {
	var buf bytes.Buffer
	r := newReporter(&buf, Always, options{manual: true, width: 120})
	if !r.On() || !Enabled(&buf, Always) {
		t.Fatal("always is off")
	}
	c := r.Counter("gb-pack", "bags", RateBytes)
	b := c.Bar("bag_000001", 2_000_000)
	b.AddBytes(800_000)
	b.AddFiles(3)
	r.step(time.Now())
	if r.p == nil {
		t.Fatal("not drawing after a step")
	}
	fmt.Fprintf(r.Stderr(), "gb-pack: warning: /src/a: file changed while it was read\n")
	b.AddBytes(1_200_000)
	b.Done()
	c.AddItems(1)
	r.step(time.Now())
	r.Close()
	out := buf.String()
	for _, want := range []string{"bag_000001", "[", "100 %", "2.0 MB / 2.0 MB", "gb-pack", "1 bags", "3 files", "done"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	warn := "gb-pack: warning: /src/a: file changed while it was read\n"
	if strings.Count(out, warn) != 1 {
		t.Fatalf("the warning is not there once, whole:\n%q", out)
	}
	if strings.LastIndex(out, "bag_000001") < strings.Index(out, warn) {
		t.Fatalf("the bars were not drawn below the warning:\n%q", out)
	}
	// After Close, lines go straight to the output.
	n := buf.Len()
	fmt.Fprintf(r.Stderr(), "gb-pack: 1 bags packed\n")
	if got := buf.String()[n:]; got != "gb-pack: 1 bags packed\n" {
		t.Fatalf("after Close: %q", got)
	}
}

// Totals that have counted nothing yet (gb-pack before its first bag) do
// not take the terminal, and a command that did nothing draws nothing.
func TestNothingToShow(t *testing.T) {
	var buf bytes.Buffer
	r := newReporter(&buf, Always, options{manual: true})
	c := r.Counter("gb-pack", "bags", RateBytes)
	r.step(time.Now())
	if r.p != nil {
		t.Fatal("drawing with nothing to show")
	}
	c.Done()
	r.Close()
	if buf.Len() != 0 {
		t.Fatalf("drew %q", buf.String())
	}
}

// A job stopped short stays as it was, and Close stops bars still running.
func TestFailedAndUnfinished(t *testing.T) {
	var buf bytes.Buffer
	r := newReporter(&buf, Always, options{manual: true, width: 120})
	c := r.Counter("gb-put", "bags", RateBytes)
	f := c.Bar("bag_000001", 1000)
	f.AddBytes(500)
	f.Fail()
	u := c.Bar("bag_000002", 1000)
	u.AddBytes(250)
	r.Close()
	out := buf.String()
	for _, want := range []string{"bag_000001", "50 %", "bag_000002", "25 %", "stopped", "gb-put"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "100 %") {
		t.Fatalf("a bar was drawn full:\n%s", out)
	}
}

// Two commands on one terminal: one draws, the other's lines go to the
// terminal directly and make the drawer draw below them; when the drawer
// waits for a while it gives the terminal to the other.
func TestTerminalHandoff(t *testing.T) {
	dir := t.TempDir()
	term, err := os.Create(filepath.Join(dir, "tty"))
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	t1, t2 := newTTY(term, dir), newTTY(term, dir)
	pack := newReporter(term, Auto, options{manual: true, tty: t1})
	put := newReporter(term, Auto, options{manual: true, tty: t2})
	if !pack.On() || !put.On() {
		t.Fatal("off on a terminal")
	}
	pc := pack.Counter("gb-pack", "bags", RateBytes)
	pc.Bar("bag_000002", 1000).AddBytes(10)
	pack.step(time.Now())
	if pack.p == nil {
		t.Fatal("the first command does not draw")
	}
	uc := put.Counter("gb-put", "bags", RateBytes)
	uc.Bar("bag_000001", 1000).AddBytes(10)
	put.step(time.Now())
	if put.p != nil {
		t.Fatal("two commands draw at once")
	}
	before := t1.countLocked()
	fmt.Fprintf(put.Stderr(), "gb-put: error: bag bag_000009: it failed\n")
	if t1.countLocked() == before {
		t.Fatal("a line of the command not drawing was not counted")
	}
	// Waiting is not enough at once; after idleAfter it is.
	done := pack.Idle()
	pack.step(time.Now())
	if pack.p == nil {
		t.Fatal("gave the terminal up at once")
	}
	pack.step(time.Now().Add(2 * time.Second))
	if pack.p != nil {
		t.Fatal("kept the terminal while waiting")
	}
	put.step(time.Now())
	if put.p == nil {
		t.Fatal("the other command did not take the terminal")
	}
	done()
	pack.step(time.Now())
	if pack.p != nil {
		t.Fatal("took the terminal back while the other draws")
	}
	pack.Close()
	put.Close()
	b, _ := os.ReadFile(term.Name())
	if !strings.Contains(string(b), "gb-put: error: bag bag_000009: it failed\n") {
		t.Fatalf("the line is lost:\n%q", b)
	}
}

func (t *tty) countLocked() uint64 {
	unlock := t.lockLines()
	defer unlock()
	return t.count()
}

// The drawer moves up over its last frame only when nothing was written
// below it since.
func TestFrameWriter(t *testing.T) {
	dir := t.TempDir()
	term, err := os.Create(filepath.Join(dir, "tty"))
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	drawer, other := newTTY(term, dir), newTTY(term, dir)
	fw := drawer.frames()
	fw.Write([]byte("bar 1\n"))
	fw.Write([]byte("\x1b[1A\x1b[Jbar 2\n"))
	(&lineWriter{w: term, t: other}).Write([]byte("a line\n"))
	fw.Write([]byte("\x1b[1A\x1b[Jbar 3\n"))
	fw.Write([]byte("\x1b[1A\x1b[Jbar 4\n"))
	b, _ := os.ReadFile(term.Name())
	want := "bar 1\n\x1b[1A\x1b[Jbar 2\na line\nbar 3\n\x1b[1A\x1b[Jbar 4\n"
	if string(b) != want {
		t.Fatalf("terminal got\n%q\nwant\n%q", b, want)
	}
}

func TestSkipCursorUp(t *testing.T) {
	for in, want := range map[string]string{
		"\x1b[12A\x1b[Jrow\n": "row\n",
		"\x1b[A\x1b[Jrow\n":   "\x1b[A\x1b[Jrow\n",
		"\x1b[3Brow":          "\x1b[3Brow",
		"row\n":               "row\n",
		"":                    "",
	} {
		if got := string(skipCursorUp([]byte(in))); got != want {
			t.Errorf("skipCursorUp(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGroup(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q, want %q", n, got, want)
		}
	}
}

type wrapped struct{ io.Writer }

func (w wrapped) Unwrap() io.Writer { return w.Writer }

// A pseudo-terminal is found through wrappers (cli's stderr), and auto
// draws on it; never does not.
func TestPseudoTerminal(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	ptmx, pts := openPTY(t)
	defer ptmx.Close()
	defer pts.Close()
	w := wrapped{pts}
	if !Enabled(w, Auto) || Enabled(w, Never) {
		t.Fatal("auto is off on a terminal, or never is on")
	}
	tw := Terminal(w, Auto)
	if _, ok := tw.(*lineWriter); !ok {
		t.Fatalf("Terminal gave %T", tw)
	}
	if Terminal(wrapped{tw}, Auto) != io.Writer(wrapped{tw}) {
		t.Fatal("wrapped twice")
	}
	if r := New(wrapped{tw}, Auto); !r.On() || r.lines != io.Writer(wrapped{tw}) {
		t.Fatal("a Reporter on cli's stderr does not draw, or coordinates its lines twice")
	}
	if New(w, Never).On() {
		t.Fatal("never draws")
	}
	if err := unix.IoctlSetWinsize(int(ptmx.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 77}); err == nil {
		if got := newTTY(pts, t.TempDir()).width(); got != 77 {
			t.Fatalf("width %d, want 77", got)
		}
	}
	f, err := os.CreateTemp(t.TempDir(), "file")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if Enabled(wrapped{f}, Auto) {
		t.Fatal("a file is a terminal")
	}
}

func openPTY(t *testing.T) (ptmx, pts *os.File) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open pts: %v", err)
	}
	return m, s
}

// What a stage's hot path pays per count: off (a nil Job) and on.
func BenchmarkAddBytes(b *testing.B) {
	for _, mode := range []string{Never, Always} {
		b.Run(mode, func(b *testing.B) {
			r := New(io.Discard, mode)
			defer r.Close()
			j := r.Counter("gb-pack", "bags", RateBytes).Bar("bag_000001", 1<<40)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					j.AddBytes(4096)
				}
			})
		})
	}
}
