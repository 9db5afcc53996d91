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
	"errors"
	"fmt"
	"github.com/gbarchive/gb/pkg/exitcode"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
	"github.com/tidwall/gjson"
	"golang.org/x/sync/errgroup"
)

// KindMatch is the record gb-find writes, one per matching entry.
const KindMatch = "match"

// ErrNoMatch: the search finished and nothing matched (exit 7,
// exitcode.NoMatch); the summary line already said so.
var ErrNoMatch = exitcode.Error{Code: exitcode.NoMatch, Msg: "no matches"}

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

// Match is the "match" record.
type Match struct {
	Kind         string `json:"kind"`
	Path         string `json:"path"`
	PathB64      string `json:"path_b64,omitempty"`
	Type         string `json:"type"`
	Size         int64  `json:"size"`
	Mtime        string `json:"mtime"`
	SHA256       string `json:"sha256,omitempty"`
	Link         string `json:"link,omitempty"`
	LinkB64      string `json:"link_b64,omitempty"`
	Atom         string `json:"atom"`
	AtomB64      string `json:"atom_b64,omitempty"`
	Source       string `json:"source"`
	Bag          string `json:"bag"`
	Key          string `json:"key"`
	Encrypted    bool   `json:"encrypted,omitempty"`
	Manifest     string `json:"manifest"`
	StorageClass string `json:"storage_class,omitempty"`
	Current      bool   `json:"current"`
	Reason       string `json:"reason,omitempty"`
}

// manifestSuffix ends every complete local manifest.
const manifestSuffix = ".manifest.ndjson"

var bagInName = regexp.MustCompile(`_bag_([0-9]+)\.manifest\.ndjson$`)

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
// summary line to errOut. It returns ErrNoMatch when nothing matched,
// records.ErrWarnings when something could not be searched, and a config
// error (exit 2) for a bad pattern or identity file. It reads no input.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) error {
	st := opts.Settings
	switch opts.Format {
	case "":
		opts.Format = FormatJSON
	case FormatJSON, FormatText:
	default:
		return &config.Error{Msg: fmt.Sprintf("--format %q: use json or text", opts.Format)}
	}
	m, err := NewMatcher(opts.Pattern, opts.Regex, opts.IgnoreCase)
	if err != nil {
		return err
	}
	if opts.Identity != "" && !opts.Remote {
		return &config.Error{Msg: "--identity is only used with --remote (local manifests are plain)", Hint: "add --remote to fetch the manifests manifest_dir lacks from the store"}
	}
	dir, err := filepath.Abs(st.ManifestDir)
	if err != nil {
		return err
	}
	warnings := 0
	warnf := func(format string, args ...any) {
		warnings++
		fmt.Fprintf(errOut, "gb-find: warning: "+format+"\n", args...)
	}

	remoteFailed := false
	inv, invNote, err := loadInventory(st.InventoryFile)
	if err != nil {
		warnf("%v; matches are not checked against it", err)
	}
	if opts.Remote {
		if opts.Store == nil {
			return errors.New("--remote: no store")
		}
		rr, err := fetchRemote(ctx, opts, dir, inv == nil && invNote != "", errOut)
		switch {
		case err != nil && (config.IsConfigError(err) || ctx.Err() != nil):
			return err
		case err != nil:
			// The local manifests can still be searched.
			warnf("%v; searching the manifests in %s only", err, dir)
			rr = &remoteResult{listFailed: true}
		}
		warnings += rr.warnings
		remoteFailed = rr.listFailed
		if rr.inv != nil {
			inv, invNote = rr.inv, ""
			fmt.Fprintf(errOut, "gb-find: %s does not exist; using the inventory from the store (%s)\n", st.InventoryFile, rr.invKey)
		}
	}
	jobs, err := listManifests(dir)
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		hint := "on a new machine, fetch them from the store with --remote (and --identity FILE for encrypted bags)"
		switch {
		case remoteFailed:
			hint = "the store could not be listed either (see the warning above)"
		case opts.Remote:
			hint = "the store holds no manifests either: is dest (or s3_bucket) right?"
		}
		return &noManifests{msg: fmt.Sprintf("no manifests in %s; nothing to search", dir), hint: hint}
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
	workers := opts.Workers
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

	w := newWriter(out, opts)
	sum := summary{noInv: inv == nil, bags: map[string]bool{}}
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
			warnf("%s: %d lines are not records and were not searched (first: %s)", j.file, j.bad, j.badFirst)
		}
		if j.warn != "" {
			warnf("%s: %s", j.file, j.warn)
		}
	}
	<-launched
	if err := g.Wait(); err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fmt.Fprintf(errOut, "gb-find: %s\n", sum.line(opts.All))
	switch {
	case warnings > 0:
		return records.ErrWarnings
	case sum.matches == 0:
		return ErrNoMatch
	}
	return nil
}

// noManifests: nothing to search; a failure (exit 1), with a hint.
type noManifests struct{ msg, hint string }

func (e *noManifests) Error() string    { return e.msg }
func (e *noManifests) HintText() string { return e.hint }

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
		if !strings.HasSuffix(name, manifestSuffix) || e.IsDir() {
			continue
		}
		j := &job{file: filepath.Join(dir, name), bagNo: -1, ch: make(chan *batch, chanDepth)}
		if m := bagInName.FindStringSubmatch(name); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil {
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

func (s *searcher) header(l records.Line) header {
	h := header{bag: l.Get("bag").String(), key: l.Get("key").String(), source: l.Get("source").String()}
	h.encrypted = l.Get("encryption").Exists() || strings.HasSuffix(h.key, ".age")
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

// Fields of a manifest line that gb-find uses.
const (
	fKind = iota
	fPath
	fPathB64
	fType
	fSize
	fMtime
	fSHA256
	fLink
	fLinkB64
	fAtom
	fAtomB64
	nFields
)

// fields reads the fields of a manifest line in one pass, and reports
// whether the line is a record: a JSON object with a non-empty string
// "kind" (records.Reader.Parse says what is wrong with one that is not).
func fields(raw []byte) ([nFields]gjson.Result, bool) {
	var v [nFields]gjson.Result
	if !gjson.ValidBytes(raw) {
		return v, false
	}
	obj := gjson.ParseBytes(raw)
	if !obj.IsObject() {
		return v, false
	}
	obj.ForEach(func(k, val gjson.Result) bool {
		i := -1
		switch k.Str {
		case "kind":
			i = fKind
		case "path":
			i = fPath
		case "path_b64":
			i = fPathB64
		case "type":
			i = fType
		case "size":
			i = fSize
		case "mtime":
			i = fMtime
		case "sha256":
			i = fSHA256
		case "link":
			i = fLink
		case "link_b64":
			i = fLinkB64
		case "atom":
			i = fAtom
		case "atom_b64":
			i = fAtomB64
		}
		if i >= 0 && !v[i].Exists() { // the first of duplicate keys, as gjson.Get
			v[i] = val
		}
		return true
	})
	return v, v[fKind].Type == gjson.String && v[fKind].Str != ""
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
	// Matches are formatted here, in parallel; the writer only writes.
	b := &batch{}
	send := func() error {
		if len(b.ends) == 0 {
			return nil
		}
		select {
		case j.ch <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		b = &batch{}
		return nil
	}

	raw, no, err := rd.NextRaw()
	if err == io.EOF {
		j.warn = "empty; not a manifest"
		return nil
	}
	if err != nil {
		j.warn = err.Error()
		return nil
	}
	l, err := rd.Parse(raw, no)
	if err != nil || l.Kind != manifest.KindHeader {
		j.warn = fmt.Sprintf("line %d is not a manifest header; not searched", no)
		return nil
	}
	h := s.header(l)
	j.searched, j.bag = true, h.bag
	manifestPath := j.file

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
			return send()
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
		v, ok := fields(raw)
		if !ok {
			_, err := rd.Parse(raw, no)
			if err == nil {
				err = fmt.Errorf("%s:%d: not a record", j.file, no)
			}
			if j.bad == 0 {
				j.badFirst = err.Error()
			}
			j.bad++
			continue
		}
		if v[fKind].Str != manifest.KindFile {
			continue
		}
		p, err := records.DecodePath(v[fPath].String(), v[fPathB64].String())
		if err != nil {
			if j.bad == 0 {
				j.badFirst = fmt.Sprintf("%s:%d: path: %v", j.file, no, err)
			}
			j.bad++
			continue
		}
		if !s.m.Match(p, v[fType].String()) {
			continue
		}
		atom, err := records.DecodePath(v[fAtom].String(), v[fAtomB64].String())
		if err != nil {
			atom = v[fAtom].String()
		}
		cur, reason := s.current(&h, atom)
		if !cur && !s.all {
			j.skipped++
			continue
		}
		j.matches++
		if !cur {
			j.notCurrent++
		}
		m := Match{Kind: KindMatch, Path: v[fPath].String(), PathB64: v[fPathB64].String(), Type: v[fType].String(), Size: v[fSize].Int(),
			Mtime: v[fMtime].String(), SHA256: v[fSHA256].String(), Link: v[fLink].String(), LinkB64: v[fLinkB64].String(), Atom: v[fAtom].String(), AtomB64: v[fAtomB64].String(),
			Source: h.source, Bag: h.bag, Key: h.key, Encrypted: h.encrypted, Manifest: manifestPath, StorageClass: h.class, Current: cur, Reason: reason}
		if err := b.add(&m, s.format, s.loc); err != nil {
			return err
		}
		if len(b.ends) == batchSize {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if l, err := rd.Parse(last, 0); len(last) == 0 || err != nil || l.Kind != manifest.KindEnd {
		j.warn = "has no manifest_end line (incomplete, or damaged); matches may be missing"
	}
	return send()
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

// localName is the manifest_dir file name of a stored manifest key (an
// encrypted one is kept decrypted, without ".age").
func localName(key string) string {
	return strings.TrimSuffix(path.Base(key), ".age")
}
