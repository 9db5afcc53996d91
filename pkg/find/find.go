// Package find is gb-find: it searches the per-bag manifests for files
// whose name or path matches a pattern and says which bag (and object key)
// holds each, so a file is found without thawing anything.
//
// Manifests are searched where they are kept, in manifest_dir, several at
// once (GOMAXPROCS), each read line by line with the records reader, so
// memory does not depend on manifest sizes. With Remote the manifests the
// store holds and manifest_dir lacks are fetched first (encrypted ones
// decrypted with an age identity): the new-machine case.
//
// Each entry is checked against the inventory: it is current when its
// atom still refers to its bag. By default only current entries are
// reported; All reports the others too, with current false and a reason.
package find

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gbarchive/gb/pkg/exitcode"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
	"golang.org/x/sync/errgroup"
)

// errNoMatch: the search finished and nothing matched (exit 7).
var errNoMatch = exitcode.Error{Code: exitcode.NoMatch, Msg: "no matches"}

// notSearched: the search finished, but something was not searched; the
// warnings on stderr said what (exit 3). It is records.ErrWarnings too.
type notSearched struct{}

func (notSearched) Error() string { return records.ErrWarnings.Error() }
func (notSearched) ExitCode() int { return exitcode.Warnings }
func (notSearched) Unwrap() error { return records.ErrWarnings }

// Why an entry is not current (the match record's "reason").
const (
	// ReasonRetired: the inventory marks the bag retired (no atom refers
	// to it); gb-prune deletes it once it is past min_retention_days.
	ReasonRetired = "retired"
	// ReasonSuperseded: the entry's atom was packed again into another
	// bag; this is an older copy of it.
	ReasonSuperseded = "superseded"
	// ReasonForgotten: the entry's atom is no longer in the inventory (it
	// was gone from its source in a later run).
	ReasonForgotten = "forgotten"
	// ReasonNotInInventory: the inventory has no such bag (a bag never
	// committed or already pruned, or the manifest of another archive).
	ReasonNotInInventory = "not-in-inventory"
	// ReasonNoInventory: there is no inventory to check against.
	ReasonNoInventory = "no-inventory"
)

// Text and JSON output.
const (
	FormatJSON = "json"
	FormatText = "text"
)

// Options configure a search.
type Options struct {
	Settings *config.Settings
	Pattern  string
	// Regex: Pattern is a Go regular expression searched in the whole
	// path (default: a glob; see Matcher).
	Regex      bool
	IgnoreCase bool
	// All reports entries that are not current too.
	All bool
	// Remote fetches the manifests manifest_dir lacks from Store first.
	Remote bool
	Store  store.Store
	// Identity is an age identity file, or a passphrase file, that
	// decrypts encrypted manifests (and an encrypted inventory) fetched
	// with Remote.
	Identity string
	// Format is FormatJSON (match records, the default) or FormatText.
	Format string
	// Location is the time zone of text output (default: time.Local).
	Location *time.Location
	// Workers is how many manifests are searched at once (default:
	// GOMAXPROCS).
	Workers int
}

// job is one manifest to search. The worker fills the fields below ch
// before it closes ch; the writer reads them after.
type job struct {
	file  string
	bagNo int // from the file name; -1 when it has none
	ch    chan *batch

	searched   bool   // the file was read (it may still have bad lines)
	warn       string // the manifest could not be searched (fully)
	lines      int
	bag        string // from the manifest header
	matches    int
	notCurrent int // of matches
	skipped    int // matches left out (not current, without All)
	bad        int // lines that are not records
	badFirst   string
}

// batchSize is how many matches a worker hands over at once; with
// chanDepth batches in flight per manifest, memory stays bounded whatever
// the number of matches.
const (
	batchSize = 128
	chanDepth = 4
)

// Run searches the manifests and writes one match record (or text line)
// per match to out, in order of bag id (then manifest order), and a
// summary line to errOut. It returns an error with exit code
// exitcode.NoMatch when nothing matched, exitcode.Warnings when something
// could not be searched, a config error (exit 2) for a bad pattern or
// identity file, and a plain error when it could not search. It reads no
// input.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) error {
	m, dir, err := prepare(&opts)
	if err != nil {
		return err
	}
	r := &run{opts: opts, dir: dir, errOut: errOut}
	inv, invNote, remoteFailed, err := r.inventory(ctx)
	if err != nil {
		return err
	}
	jobs, err := listManifests(dir)
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		return noManifestsError(dir, opts.Remote, remoteFailed)
	}
	if inv == nil && invNote != "" {
		more := ""
		if !opts.Remote {
			more = "; --remote reads the inventory stored with the manifests"
		}
		fmt.Fprintf(errOut, "gb-find: %s; every match is shown, with current false (reason %s)%s\n", invNote, ReasonNoInventory, more)
	}
	// Without an inventory nothing can be judged: everything is shown.
	s := &searcher{m: m, inv: inv, all: opts.All || inv == nil, format: opts.Format, loc: opts.Location}
	if s.loc == nil {
		s.loc = time.Local
	}
	sum, err := r.searchAll(ctx, s, jobs, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(errOut, "gb-find: %s\n", sum.line(opts.All))
	switch {
	case r.warnings > 0:
		return notSearched{}
	case sum.matches == 0:
		return errNoMatch
	}
	return nil
}

// prepare checks the options that need no disk (filling in the default
// format), compiles the pattern, and returns manifest_dir's absolute path.
func prepare(opts *Options) (*Matcher, string, error) {
	switch opts.Format {
	case "":
		opts.Format = FormatJSON
	case FormatJSON, FormatText:
	default:
		return nil, "", &config.Error{Msg: fmt.Sprintf("--format %q: use json or text", opts.Format)}
	}
	m, err := NewMatcher(opts.Pattern, opts.Regex, opts.IgnoreCase)
	if err != nil {
		return nil, "", err
	}
	if opts.Identity != "" && !opts.Remote {
		return nil, "", &config.Error{Msg: "--identity is only used with --remote (local manifests are plain)", Hint: "add --remote to fetch the manifests manifest_dir lacks from the store"}
	}
	dir, err := filepath.Abs(opts.Settings.ManifestDir)
	if err != nil {
		return nil, "", err
	}
	return m, dir, nil
}

// run is one search: its options and the warnings it gave.
type run struct {
	opts     Options
	dir      string // manifest_dir, absolute
	errOut   io.Writer
	warnings int
}

func (r *run) warnf(format string, args ...any) {
	r.warnings++
	fmt.Fprintf(r.errOut, "gb-find: warning: "+format+"\n", args...)
}

// inventory loads the inventory matches are checked against (nil and a
// note when there is none) and, with Remote, first fetches from the store
// the manifests manifest_dir lacks, and the stored inventory when there
// is none here. remoteFailed: the store could not be listed.
func (r *run) inventory(ctx context.Context) (inv *inventory.Inventory, note string, remoteFailed bool, err error) {
	st := r.opts.Settings
	inv, note, err = loadInventory(st.InventoryFile)
	if err != nil {
		r.warnf("%v; matches are not checked against it", err)
	}
	if !r.opts.Remote {
		return inv, note, false, nil
	}
	if r.opts.Store == nil {
		return nil, "", false, errors.New("--remote: no store")
	}
	rr, err := fetchRemote(ctx, r.opts, r.dir, inv == nil && note != "", r.errOut)
	switch {
	case err != nil && (config.IsConfigError(err) || ctx.Err() != nil):
		return nil, "", false, err
	case err != nil:
		// The local manifests can still be searched.
		r.warnf("%v; searching the manifests in %s only", err, r.dir)
		rr = &remoteResult{listFailed: true}
	}
	r.warnings += rr.warnings
	if rr.inv != nil {
		inv, note = rr.inv, ""
		fmt.Fprintf(r.errOut, "gb-find: %s does not exist; using the inventory from the store (%s)\n", st.InventoryFile, rr.invKey)
	}
	return inv, note, rr.listFailed, nil
}

// noManifestsError: nothing to search, a failure, with a hint that fits
// where the manifests were looked for.
func noManifestsError(dir string, remote, remoteFailed bool) error {
	hint := "on a new machine, fetch them from the store with --remote (and --identity FILE for encrypted bags)"
	switch {
	case remoteFailed:
		hint = "the store could not be listed either (see the warning above)"
	case remote:
		hint = "the store holds no manifests either: is dest (or s3_bucket) right?"
	}
	return &noManifests{msg: fmt.Sprintf("no manifests in %s; nothing to search", dir), hint: hint}
}

// noManifests: nothing to search (exit 1), with a hint.
type noManifests struct{ msg, hint string }

func (e *noManifests) Error() string    { return e.msg }
func (e *noManifests) HintText() string { return e.hint }

// searchAll searches the manifests, several at once, and writes their
// matches in the jobs' order as they come; it sums up what was written
// and warns about what could not be searched.
func (r *run) searchAll(ctx context.Context, s *searcher, jobs []*job, out io.Writer) (*summary, error) {
	workers := r.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	launched := make(chan struct{})
	go func() {
		defer close(launched)
		for _, j := range jobs {
			if gctx.Err() != nil {
				close(j.ch)
				continue
			}
			g.Go(func() error { return s.search(gctx, j) })
		}
	}()

	w := newWriter(out, r.opts)
	sum := &summary{noInv: s.inv == nil, bags: map[string]bool{}}
	var werr error
	for _, j := range jobs {
		for b := range j.ch {
			if werr == nil {
				if werr = w.write(b); werr != nil {
					cancel()
				}
			}
		}
		if gctx.Err() != nil || werr != nil {
			continue
		}
		r.tally(sum, j)
	}
	<-launched
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if werr != nil {
		return nil, werr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return sum, nil
}

// tally adds a searched manifest to the summary and warns about what of
// it could not be searched.
func (r *run) tally(sum *summary, j *job) {
	if j.searched {
		sum.manifests++
	}
	if j.matches > 0 {
		sum.bags[j.bag] = true
	}
	sum.matches += j.matches
	sum.notCurrent += j.notCurrent
	sum.skipped += j.skipped
	if j.bad > 0 {
		r.warnf("%s: %d lines are not records and were not searched (first: %s)", j.file, j.bad, j.badFirst)
	}
	if j.warn != "" {
		r.warnf("%s: %s", j.file, j.warn)
	}
}

// loadInventory reads the inventory. A missing file gives a nil inventory
// and a note; a damaged one a nil inventory and an error (the search goes
// on without it).
func loadInventory(file string) (*inventory.Inventory, string, error) {
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Sprintf("no inventory at %s", file), nil
	}
	inv, err := inventory.Load(file)
	if err != nil {
		return nil, "", err
	}
	return inv, "", nil
}

// listManifests lists manifest_dir's complete manifests in bag order.
func listManifests(dir string) ([]*job, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("manifest_dir: %w", err)
	}
	var jobs []*job
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, layout.ManifestExt) || e.IsDir() {
			continue
		}
		j := &job{file: filepath.Join(dir, name), bagNo: -1, ch: make(chan *batch, chanDepth)}
		if id, ok := layout.ManifestBag(name); ok {
			if n, err := strconv.Atoi(strings.TrimPrefix(id, "bag_")); err == nil {
				j.bagNo = n
			}
		}
		jobs = append(jobs, j)
	}
	sort.SliceStable(jobs, func(a, b int) bool {
		ja, jb := jobs[a], jobs[b]
		if (ja.bagNo < 0) != (jb.bagNo < 0) {
			return ja.bagNo >= 0
		}
		if ja.bagNo != jb.bagNo {
			return ja.bagNo < jb.bagNo
		}
		return ja.file < jb.file
	})
	return jobs, nil
}

type searcher struct {
	m      *Matcher
	inv    *inventory.Inventory
	all    bool
	format string
	loc    *time.Location
}

// header is what a manifest's first line says about its bag.
type header struct {
	bag, key, source, class string
	encrypted               bool
	reason                  string // the bag's entries are not current, for this reason
}

func (s *searcher) header(mh *manifest.Header) header {
	h := header{bag: mh.Bag, key: mh.Key, source: mh.Source}
	h.encrypted = mh.Encryption != nil || layout.IsSealed(h.key)
	switch b := s.bag(h.bag); {
	case s.inv == nil:
		h.reason = ReasonNoInventory
	case b == nil || b.Key != h.key:
		h.reason = ReasonNotInInventory
	default:
		h.class = b.StorageClass
		if !b.RetiredAt.IsZero() {
			h.reason = ReasonRetired
		}
	}
	return h
}

func (s *searcher) bag(id string) *inventory.Bag {
	if s.inv == nil {
		return nil
	}
	return s.inv.Bags[id]
}

// current says whether an entry of a bag, written for atom, is the copy
// the inventory refers to.
func (s *searcher) current(h *header, atom string) (bool, string) {
	if h.reason != "" {
		return false, h.reason
	}
	a := s.inv.Atoms[inventory.KeyOf(atom)]
	switch {
	case a == nil:
		return false, ReasonForgotten
	case !slices.Contains(a.Bags, h.bag):
		return false, ReasonSuperseded
	}
	return true, ""
}

// search reads one manifest and hands its matches, in order, to j.ch.
func (s *searcher) search(ctx context.Context, j *job) error {
	defer close(j.ch)
	f, err := os.Open(j.file)
	if err != nil {
		j.warn = fmt.Sprintf("cannot read: %v", unwrap(err))
		return nil
	}
	defer f.Close()
	rd := records.NewReader(f, j.file)
	h, ok := s.readHeader(rd, j)
	if !ok {
		return nil
	}
	j.searched, j.bag = true, h.bag
	// Matches are formatted here, in parallel; the writer only writes.
	bs := &batcher{ctx: ctx, ch: j.ch, format: s.format, loc: s.loc}
	var last []byte
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		raw, no, err := rd.NextRaw()
		if err == io.EOF {
			break
		}
		if err != nil {
			j.warn = fmt.Sprintf("read stopped: %v; the rest was not searched", err)
			return bs.send()
		}
		j.lines++
		// The end line is short: keep a copy of short lines to look at
		// the last one once the file ends.
		if len(raw) <= 1024 {
			last = append(last[:0], raw...)
		} else {
			last = last[:0]
		}
		if !s.m.pre.pass(raw) {
			continue
		}
		if m := s.match(rd, raw, no, j, &h); m != nil {
			if err := bs.add(m); err != nil {
				return err
			}
		}
	}
	if l, err := rd.Parse(last, 0); len(last) == 0 || err != nil || l.Kind != manifest.KindEnd {
		j.warn = "has no manifest_end line (incomplete, or damaged); matches may be missing"
	}
	return bs.send()
}

// readHeader reads a manifest's first line; ok false (and j.warn) when it
// is not a manifest header.
func (s *searcher) readHeader(rd *records.Reader, j *job) (h header, ok bool) {
	raw, no, err := rd.NextRaw()
	if err == io.EOF {
		j.warn = "empty; not a manifest"
		return h, false
	}
	if err != nil {
		j.warn = err.Error()
		return h, false
	}
	var mh manifest.Header
	l, err := rd.Parse(raw, no)
	if err == nil && l.Kind == manifest.KindHeader {
		err = json.Unmarshal(raw, &mh)
	}
	if err != nil || l.Kind != manifest.KindHeader {
		j.warn = fmt.Sprintf("line %d is not a manifest header; not searched", no)
		return h, false
	}
	return s.header(&mh), true
}

// match decodes a line the prefilter let through and returns its match
// record, or nil: not a file entry, not a match, or not current (without
// All). A line that is not a record is counted in j.bad.
func (s *searcher) match(rd *records.Reader, raw []byte, no int, j *job, h *header) *records.Match {
	var e manifest.Entry
	if err := e.Decode(raw); err != nil || e.Kind == "" {
		_, err := rd.Parse(raw, no)
		if err == nil {
			err = fmt.Errorf("%s:%d: not a record", j.file, no)
		}
		j.badLine(err.Error())
		return nil
	}
	if e.Kind != manifest.KindFile {
		return nil
	}
	p, err := records.DecodePath(e.Path, e.PathB64)
	if err != nil {
		j.badLine(fmt.Sprintf("%s:%d: path: %v", j.file, no, err))
		return nil
	}
	if !s.m.Match(p, e.Type) {
		return nil
	}
	atom, err := records.DecodePath(e.Atom, e.AtomB64)
	if err != nil {
		atom = e.Atom
	}
	cur, reason := s.current(h, atom)
	if !cur && !s.all {
		j.skipped++
		return nil
	}
	j.matches++
	if !cur {
		j.notCurrent++
	}
	return &records.Match{Kind: records.KindMatch, Path: e.Path, PathB64: e.PathB64, Type: e.Type, Size: e.Size,
		Mtime: e.Mtime, SHA256: e.SHA256, Link: e.Link, LinkB64: e.LinkB64, Atom: e.Atom, AtomB64: e.AtomB64,
		Source: h.source, Bag: h.bag, Key: h.key, Encrypted: h.encrypted, Manifest: j.file, StorageClass: h.class, Current: cur, Reason: reason}
}

// badLine counts a line that is not a record, keeping what the first one
// was for the warning.
func (j *job) badLine(msg string) {
	if j.bad == 0 {
		j.badFirst = msg
	}
	j.bad++
}

// batcher gathers a manifest's matches into batches of batchSize and
// hands each to the writer.
type batcher struct {
	ctx    context.Context
	ch     chan<- *batch
	format string
	loc    *time.Location
	b      *batch
}

func (bs *batcher) add(m *records.Match) error {
	if bs.b == nil {
		bs.b = &batch{}
	}
	if err := bs.b.add(m, bs.format, bs.loc); err != nil {
		return err
	}
	if len(bs.b.ends) == batchSize {
		return bs.send()
	}
	return nil
}

// send hands the batch gathered so far to the writer.
func (bs *batcher) send() error {
	if bs.b == nil || len(bs.b.ends) == 0 {
		return nil
	}
	select {
	case bs.ch <- bs.b:
	case <-bs.ctx.Done():
		return bs.ctx.Err()
	}
	bs.b = nil
	return nil
}

// summary counts what was written.
type summary struct {
	matches, notCurrent, skipped, manifests int
	bags                                    map[string]bool
	noInv                                   bool
}

// line is the one-line summary for stderr:
// "3 matches in 2 bags (12 manifests searched)".
func (s *summary) line(all bool) string {
	searched := fmt.Sprintf("(%s searched)", plural(s.manifests, "manifest"))
	var b strings.Builder
	if s.matches == 0 {
		b.WriteString("no matches " + searched)
	} else {
		fmt.Fprintf(&b, "%s in %s", plural(s.matches, "match"), plural(len(s.bags), "bag"))
		if s.noInv {
			b.WriteString(", not checked against an inventory")
		} else if all && s.notCurrent > 0 {
			fmt.Fprintf(&b, ", %d of them not current", s.notCurrent)
		}
		b.WriteString(" " + searched)
	}
	if s.skipped > 0 {
		fmt.Fprintf(&b, "; %s in retired bags or superseded copies not shown (--all shows them)", plural(s.skipped, "older match"))
	}
	return b.String()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "ch") {
		return fmt.Sprintf("%d %ses", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
