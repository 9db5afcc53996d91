// Package progress shows long work on stderr: counters and bars drawn by
// github.com/vbauerster/mpb while gb-scan, gb-pack and gb-put run.
//
// It draws only when the `progress` setting says always, or says auto (the
// default) and stderr is a terminal. Otherwise New returns a Reporter whose
// jobs are nil and every call does nothing, so pipes and cron logs get not
// one byte more than before.
//
// Stages count on Jobs with atomic adds and never wait for drawing: a
// goroutine of the Reporter copies the counts into the bars a few times a
// second, and the library renders them on its own ticker. Lines a stage
// prints while bars are shown go through Stderr, which puts them above the
// bars.
//
// The stages of a pipeline (glacier.sh) share one terminal, and two
// programs redrawing the same lines would garble each other. So one gb
// command draws at a time (terminal.go): the first that has work to show
// takes the terminal, and gives it up when it waits for another stage (gb-pack
// for staging room, gb-put for the next bag) or ends. Lines printed
// meanwhile by other gb commands never land inside the bars: the drawing
// command then draws its bars afresh below them.
package progress

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// The values of the progress setting.
const (
	Auto   = "auto"   // when stderr is a terminal (also for "")
	Always = "always" // whatever stderr is
	Never  = "never"
)

// Enabled reports whether a Reporter on w would draw in mode.
func Enabled(w io.Writer, mode string) bool {
	switch mode {
	case Never:
		return false
	case Always:
		return true
	}
	raw, _ := find(w)
	return raw != nil
}

// Rate says what a counter's rate counts.
type Rate int

const (
	RateBytes Rate = iota // MB/s
	RateFiles             // files/s
)

// Reporter draws the jobs of one command. Its methods are safe on a nil
// or disabled Reporter, and do nothing there.
type Reporter struct {
	w     io.Writer // the command's stderr, as given
	on    bool
	tty   *tty      // the terminal, when w is one (nil: draw straight to w)
	lines io.Writer // where lines go while this command is not drawing
	opts  options

	mu     sync.Mutex
	jobs   []*Job        // running, or finished and not yet drawn
	p      *mpb.Progress // non-nil while drawing
	width  int           // the terminal's, when drawing started
	closed bool
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}

	idle      atomic.Int32 // > 0 while the command waits for another stage
	idleSince atomic.Int64 // unix ns
}

type options struct {
	width     int           // columns when w is not a terminal (default 100)
	tick      time.Duration // how often counts reach the bars and bars are drawn
	idleAfter time.Duration // waiting this long gives the terminal up
	tty       *tty          // tests: a stand-in terminal
	manual    bool          // tests: no goroutine; step() syncs
}

// New returns the Reporter for a command whose stderr is w. mode is the
// progress setting: auto (or empty), always or never.
func New(w io.Writer, mode string) *Reporter {
	return newReporter(w, mode, options{})
}

func newReporter(w io.Writer, mode string, o options) *Reporter {
	if o.width <= 0 {
		o.width = 100
	}
	if o.tick <= 0 {
		o.tick = 150 * time.Millisecond
	}
	if o.idleAfter <= 0 {
		o.idleAfter = time.Second
	}
	r := &Reporter{w: w, lines: w, opts: o}
	raw, coordinated := find(w)
	switch {
	case mode == Never, mode != Always && raw == nil && o.tty == nil:
		return r
	case o.tty != nil:
		r.tty, coordinated = o.tty, false
	case raw != nil:
		r.tty = newTTY(raw, "")
	}
	r.on = true
	if r.tty != nil && !coordinated {
		// Lines printed while another command draws are written so that
		// it draws below them (terminal.go).
		r.lines = &lineWriter{w: w, t: r.tty}
	}
	if !o.manual {
		r.kick = make(chan struct{}, 1)
		r.stop = make(chan struct{})
		r.done = make(chan struct{})
		go r.loop()
	}
	return r
}

// On reports whether r draws (or may draw, once it has the terminal).
func (r *Reporter) On() bool { return r != nil && r.on }

// Stderr is where the command writes its lines: above the bars while they
// are drawn, else the stderr given to New. Write whole lines.
func (r *Reporter) Stderr() io.Writer {
	if !r.On() {
		if r == nil {
			return io.Discard
		}
		return r.w
	}
	return lineFunc(r.writeLine)
}

type lineFunc func([]byte) (int, error)

func (f lineFunc) Write(p []byte) (int, error) { return f(p) }

func (r *Reporter) writeLine(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil {
		if n, err := r.p.Write(p); err == nil {
			return n, nil
		}
	}
	return r.lines.Write(p)
}

// Idle marks the command as waiting for another stage until the returned
// func is called. Waiting longer than a second gives the terminal to a
// command that has work to show.
func (r *Reporter) Idle() (done func()) {
	if !r.On() || r.tty == nil {
		return func() {}
	}
	r.enterIdle()
	return func() { r.idle.Add(-1) }
}

func (r *Reporter) enterIdle() {
	if r.idle.Add(1) == 1 {
		r.idleSince.Store(time.Now().UnixNano())
	}
}

// Input wraps the command's input so that the time it waits for the
// previous stage counts as idle.
func (r *Reporter) Input(in io.Reader) io.Reader {
	if !r.On() || r.tty == nil {
		return in
	}
	return &idleReader{r: in, rep: r}
}

type idleReader struct {
	r   io.Reader
	rep *Reporter
}

func (ir *idleReader) Read(p []byte) (int, error) {
	ir.rep.enterIdle()
	n, err := ir.r.Read(p)
	ir.rep.idle.Add(-1)
	return n, err
}

// Job states.
const (
	running int32 = iota
	finished
	failed
)

// Job is one line of progress: a counter (total unknown) or a bar (total
// known, in bytes). Its Add methods are atomic adds, safe from any
// goroutine; a nil Job ignores every call.
type Job struct {
	r         *Reporter
	parent    *Job
	name      string
	items     string // what AddItems counts, "" when nothing
	total     int64
	rateFiles bool
	start     time.Time

	files, bytes, nitems atomic.Int64
	state                atomic.Int32
	end                  atomic.Int64 // unix ns, once finished

	// The drawing goroutine's, under r.mu.
	bar  *mpb.Bar
	last time.Time
}

// Counter adds a line for work whose size is not known in advance: the
// counts so far, their rate and the time taken. items names what AddItems
// counts ("atoms", "bags"), "" for nothing.
func (r *Reporter) Counter(name, items string, rate Rate) *Job {
	if !r.On() {
		return nil
	}
	return r.add(&Job{name: name, items: items, rateFiles: rate == RateFiles})
}

// Bar adds a bar for one piece of j's work, of total bytes: what it counts
// counts for j too.
func (j *Job) Bar(name string, total int64) *Job {
	if j == nil {
		return nil
	}
	return j.r.add(&Job{name: name, total: max(total, 1), parent: j})
}

func (r *Reporter) add(j *Job) *Job {
	j.r, j.start = r, time.Now()
	j.last = j.start
	r.mu.Lock()
	r.jobs = append(r.jobs, j)
	r.mu.Unlock()
	r.poke()
	return j
}

// AddBytes counts n bytes done.
func (j *Job) AddBytes(n int64) {
	if j == nil {
		return
	}
	j.bytes.Add(n)
	if j.parent != nil {
		j.parent.bytes.Add(n)
	}
}

// AddFiles counts n files done.
func (j *Job) AddFiles(n int64) {
	if j == nil {
		return
	}
	j.files.Add(n)
	if j.parent != nil {
		j.parent.files.Add(n)
	}
}

// AddItems counts n items (atoms, bags) done.
func (j *Job) AddItems(n int64) {
	if j != nil {
		j.nitems.Add(n)
	}
}

// Done marks the job finished: its bar is drawn full and stays as a line.
func (j *Job) Done() {
	if j != nil && j.finish(finished) {
		j.r.poke()
	}
}

// Fail marks the job stopped short: its bar stays as it was.
func (j *Job) Fail() {
	if j != nil && j.finish(failed) {
		j.r.poke()
	}
}

func (j *Job) finish(state int32) bool {
	if !j.state.CompareAndSwap(running, state) {
		return false
	}
	j.end.Store(time.Now().UnixNano())
	return true
}

func (r *Reporter) poke() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Close draws the final state and stops drawing; jobs still running are
// shown as they are. Lines written to Stderr afterwards go to stderr.
func (r *Reporter) Close() {
	if !r.On() {
		return
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	if r.stop != nil {
		close(r.stop)
		<-r.done
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range r.jobs {
		if j.total == 0 {
			// A counter's work is whatever was counted.
			j.finish(finished)
		} else {
			j.finish(failed)
		}
	}
	if r.p == nil && r.hasWork() {
		r.acquire()
	}
	if r.p != nil {
		r.syncBars(time.Now())
		r.p.Shutdown() // renders the last frame
		r.p = nil
	}
	if r.tty != nil {
		r.tty.releaseDraw()
	}
}

func (r *Reporter) loop() {
	t := time.NewTicker(r.opts.tick)
	defer t.Stop()
	defer close(r.done)
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		case <-r.kick:
		}
		r.step(time.Now())
	}
}

// step brings the bars up to date: it takes the terminal when there is
// work to show, gives it up after waiting a while, and copies counts.
func (r *Reporter) step(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	idle := r.idle.Load() > 0
	if r.p == nil {
		if idle || !r.hasWork() || !r.acquire() {
			r.forgetFinished()
			return
		}
	} else if idle && r.tty != nil && now.Sub(time.Unix(0, r.idleSince.Load())) >= r.opts.idleAfter {
		r.release()
		r.forgetFinished()
		return
	} else if r.tty != nil {
		if w := r.tty.width(); w > 0 && w != r.width {
			// The terminal was resized: bars of the old width would wrap
			// and the library would move up over the wrong lines. Start
			// over below the last frame.
			r.stopDrawing()
			r.acquire()
		}
	}
	r.syncBars(now)
}

// hasWork reports whether there is something worth the terminal: a bar,
// or a counter that has counted (gb-pack's totals before its first bag are
// not).
func (r *Reporter) hasWork() bool {
	for _, j := range r.jobs {
		if j.total > 0 || j.bytes.Load() > 0 || j.files.Load() > 0 || j.nitems.Load() > 0 {
			return true
		}
	}
	return false
}

// forgetFinished drops jobs that ended while another command drew.
func (r *Reporter) forgetFinished() {
	keep := r.jobs[:0]
	for _, j := range r.jobs {
		if j.state.Load() == running {
			keep = append(keep, j)
		}
	}
	clear(r.jobs[len(keep):])
	r.jobs = keep
}

// acquire starts drawing if the terminal is free (or not a terminal).
func (r *Reporter) acquire() bool {
	width := r.opts.width
	var out io.Writer = r.w
	if r.tty != nil {
		if !r.tty.tryDraw() {
			return false
		}
		if w := r.tty.width(); w > 0 {
			width = w
		}
		out = r.tty.frames()
	}
	r.width = width
	r.p = mpb.New(mpb.WithOutput(out), mpb.WithAutoRefresh(), mpb.WithWidth(width),
		mpb.WithRefreshRate(r.opts.tick), mpb.PopCompletedMode())
	return true
}

// release stops drawing and lets another command have the terminal. The
// last frame stays on the screen.
func (r *Reporter) release() {
	r.stopDrawing()
	r.tty.releaseDraw()
}

func (r *Reporter) stopDrawing() {
	r.p.Shutdown()
	r.p = nil
	for _, j := range r.jobs {
		j.bar = nil
	}
}

// syncBars gives every job a bar and copies the counts into them; finished
// jobs are completed (or stopped) and forgotten.
func (r *Reporter) syncBars(now time.Time) {
	keep := r.jobs[:0]
	for _, j := range r.jobs {
		if j.bar == nil {
			j.bar = r.newBar(j)
			j.last = j.start
		}
		state := j.state.Load()
		cur := j.current()
		if j.total > 0 && cur >= j.total {
			// A bar completes when it reaches its total; a bag can hold
			// more than planned (files grew), so it stays short of full
			// until the job says it is done.
			cur = j.total - 1
		}
		dt := now.Sub(j.last)
		j.last = now
		j.bar.EwmaSetCurrent(cur, dt)
		switch state {
		case finished:
			if j.total > 0 {
				j.bar.SetCurrent(j.total)
			} else {
				j.bar.SetTotal(-1, true)
			}
		case failed:
			j.bar.Abort(false)
		default:
			keep = append(keep, j)
			continue
		}
	}
	clear(r.jobs[len(keep):])
	r.jobs = keep
}

func (j *Job) current() int64 {
	if j.rateFiles {
		return j.files.Load()
	}
	return j.bytes.Load()
}

// ewmaAge is the samples the moving averages weigh: with a sample per
// tick, about the last ten seconds.
const ewmaAge = 60

func (r *Reporter) newBar(j *Job) *mpb.Bar {
	if j.total > 0 {
		return r.p.New(j.total, mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name(j.name, decor.WC{C: decor.DextraSpace})),
			mpb.AppendDecorators(
				decor.Percentage(decor.WC{W: 6}),
				decor.Counters(decor.SizeB1000(0), "% .1f / % .1f", decor.WC{W: 22}),
				// Running: the recent rate and the time left. Done: the
				// average rate and the time it took.
				decor.OnAbort(decor.OnCompleteMeta(decor.EwmaSpeed(decor.SizeB1000(0), "% .1f", ewmaAge, decor.WC{W: 13}),
					func(string) string { return fmt.Sprintf("%13s", j.averageSpeed()) }), ""),
				decor.OnAbort(decor.OnCompleteMeta(decor.EwmaETA(decor.ET_STYLE_GO, ewmaAge, decor.WC{W: 9}),
					func(string) string { return " done in " + j.took().String() }), " stopped"),
			))
	}
	speed := decor.EwmaSpeed(decor.SizeB1000(0), "% .1f", ewmaAge, decor.WC{W: 13})
	if j.rateFiles {
		speed = decor.EwmaSpeed(nil, "%.0f files/s", ewmaAge, decor.WC{W: 15})
	}
	speed = decor.OnCompleteMeta(speed, func(string) string { return fmt.Sprintf("%13s", j.averageSpeed()) })
	// Counters stay below the bars of their pieces.
	return r.p.New(0, mpb.NopStyle(), mpb.BarPriority(math.MaxInt32),
		mpb.PrependDecorators(decor.Name(j.name, decor.WC{C: decor.DextraSpace}),
			decor.OnComplete(decor.Spinner(nil, decor.WC{C: decor.DextraSpace}), " ")),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string { return j.counts() }),
			speed,
			decor.Any(func(decor.Statistics) string { return j.took().String() }, decor.WC{W: 8}),
		))
}

// took is how long the job ran, in whole seconds after the first ten.
func (j *Job) took() time.Duration {
	d := j.elapsed()
	if d >= 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

func (j *Job) elapsed() time.Duration {
	end := time.Now()
	if e := j.end.Load(); e != 0 {
		end = time.Unix(0, e)
	}
	return end.Sub(j.start)
}

func (j *Job) averageSpeed() string {
	s := j.elapsed().Seconds()
	if s <= 0 {
		return ""
	}
	if j.rateFiles {
		return fmt.Sprintf("%.0f files/s", float64(j.files.Load())/s)
	}
	return fmt.Sprintf("% .1f/s", decor.SizeB1000(float64(j.bytes.Load())/s))
}

// counts is a counter's "3 bags  1,234 files  5.6 GB".
func (j *Job) counts() string {
	s := ""
	if j.items != "" {
		s = group(j.nitems.Load()) + " " + j.items + "  "
	}
	if n := j.files.Load(); n > 0 || j.rateFiles {
		s += group(n) + " files  "
	}
	return s + fmt.Sprintf("% .1f", decor.SizeB1000(j.bytes.Load()))
}

// group writes n with thousands separators.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}
