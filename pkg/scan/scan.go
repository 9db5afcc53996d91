// Package scan is the gb-scan stage: it reads list.txt, walks every source
// and writes one record per source and per atom, with the atom's metadata
// hash, its file and byte counts, and the split points of atoms larger than
// a bag.
package scan

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/fstree"
	"github.com/gbarchive/gb/pkg/keys"
	"github.com/gbarchive/gb/pkg/progress"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/remote"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// Options configure a scan.
type Options struct {
	Settings *config.Settings
	ListFile string
	Jobs     int // concurrent directory readers; 0: 4 per CPU
}

type scanner struct {
	ex   *config.Excluder
	sem  chan struct{}
	mu   sync.Mutex
	w    *records.Writer
	errW io.Writer
	warn int64
	prog *progress.Job // files and bytes seen, counted per directory
	// mount is the source being scanned when it is remote: paths are
	// read under its mount point and recorded as host:/path.
	mount  *remote.Mount
	enc    encryption
	jobs   int   // atoms hashed at once
	target int64 // bag size, for split points
}

// name is the record path of a path read on this machine.
func (s *scanner) name(local string) string {
	if s.mount == nil {
		return local
	}
	return s.mount.Remote(local)
}

func (s *scanner) warning(path string, err error) {
	path = s.name(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warn++
	d, _ := records.EncodePath(path)
	fmt.Fprintf(s.errW, "gb-scan: warning: %s: %v\n", d, unwrap(err))
	_ = s.w.Write(records.NewWarning("scan", path, unwrap(err)))
}

func unwrap(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// Run scans the sources of opts.ListFile and writes records to out.
func Run(ctx context.Context, _ io.Reader, out, errOut io.Writer, opts Options) (err error) {
	st := opts.Settings
	// On failure too the summary ends the output (with complete false).
	sum, written := records.ScanSummary{Kind: records.KindScan, List: opts.ListFile}, false
	defer func() { err = records.Finish(out, err, written, &sum) }()
	// Progress on stderr (a terminal, or progress = always): nothing is
	// known in advance, so counts and their rate.
	prog := progress.New(errOut, st.Progress)
	defer prog.Close()
	errOut = prog.Stderr()
	sources, err := config.ParseList(opts.ListFile)
	if err != nil {
		return err
	}
	exPath, explicit := st.SideFile(st.ExcludeFile, "exclude.txt", opts.ListFile)
	ex, err := config.ParseExclude(exPath, explicit)
	if err != nil {
		return err
	}
	enc, err := loadEncryption(st, opts.ListFile, sources, errOut)
	if err != nil {
		return err
	}
	// Remote sources are mounted first, so a host that cannot be reached
	// is known before anything is written; it is skipped with a warning
	// and the other sources are scanned.
	mounter := remote.NewMounter(remote.Options{Base: st.MntBase, SSHCommand: st.SSHCommand})
	defer mounter.Close()
	mounts, unavailable, err := mountRemotes(ctx, mounter, sources)
	if err != nil {
		return err
	}
	if err := checkSources(opts.ListFile, sources, unavailable); err != nil {
		return err
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = 4 * runtime.GOMAXPROCS(0)
	}
	s := &scanner{ex: ex, sem: make(chan struct{}, jobs), w: records.NewWriter(out), errW: errOut,
		prog: prog.Counter("gb-scan", "atoms", progress.RateFiles), enc: enc, jobs: jobs, target: st.TargetBytes()}
	sum.Sources, sum.TargetBytes = len(sources), st.TargetBytes()

	for _, src := range sources {
		srcKeys := ""
		if src.Encrypt {
			srcKeys = enc.keysID
		}
		srec := records.Source{Kind: records.KindSource, Source: src.Location, Mode: src.Mode, Encrypt: src.Encrypt, Keys: srcKeys, ListFile: opts.ListFile, Line: src.Line, Excludes: ex.Patterns(), Exclude: exPath, EncryptFile: enc.file}
		if uerr := unavailable[src.Location]; uerr != nil {
			srec.Error = uerr.Error()
			if err := s.skipSource(srec, uerr); err != nil {
				return err
			}
			sum.Unavailable++
			continue
		}
		if err := s.emit(srec); err != nil {
			return err
		}
		s.mount = mounts[src.Location]
		if err := s.source(ctx, src, opts.ListFile, &sum); err != nil {
			return err
		}
	}
	sum.Warnings = s.warn
	sum.Complete = true
	var result error
	if s.warn > 0 {
		result = fmt.Errorf("%d entries could not be read: %w", s.warn, records.ErrWarnings)
	}
	sum.Outcome, written = records.OutcomeOf(result), true
	if err := s.emit(sum); err != nil {
		return err
	}
	s.prog.Done()
	prog.Close()
	unread := ""
	if sum.Unavailable > 0 {
		unread = fmt.Sprintf(" (%d remote not readable, kept as last backed up)", sum.Unavailable)
	}
	fmt.Fprintf(errOut, "gb-scan: %d sources%s, %d atoms, %d files, %s\n", sum.Sources, unread, sum.Atoms, sum.Files, cost.Bytes(sum.Bytes))
	return result
}

// encryption is what encrypt.txt and the keys say.
type encryption struct {
	list *config.EncryptList
	file string // encrypt.txt when it exists, for the source records
	// keysID goes into every encrypted atom's record, so gb-plan sees
	// when an atom's keys change, and gb-pack refuses to encrypt to other
	// keys than the ones planned with.
	keysID string
}

func loadEncryption(st *config.Settings, listFile string, sources []config.Source, errOut io.Writer) (encryption, error) {
	var enc encryption
	encPath, _ := st.SideFile(st.EncryptFile, "encrypt.txt", listFile)
	list, err := config.ParseEncryptFile(encPath)
	if err != nil {
		return enc, err
	}
	if err := list.Check(sources); err != nil {
		return enc, err
	}
	enc.list = list
	if _, err := os.Stat(encPath); err == nil {
		enc.file = encPath
	}
	if list.Any(sources) {
		rf, _ := st.SideFile(st.RecipientsFile, "recipients.txt", listFile)
		kf, _ := st.SideFile(st.KeyFile, "key.txt", listFile)
		k, note, err := keys.Load(rf, kf)
		if err != nil {
			return enc, err
		}
		if note != "" {
			fmt.Fprintf(errOut, "gb-scan: %s\n", note)
		}
		enc.keysID = k.ID
	}
	return enc, nil
}

// mountRemotes mounts the remote sources and points their Path at the
// mount. A source that cannot be mounted is returned with why in
// unavailable.
func mountRemotes(ctx context.Context, mounter *remote.Mounter, sources []config.Source) (mounts map[string]*remote.Mount, unavailable map[string]error, err error) {
	mounts, unavailable = map[string]*remote.Mount{}, map[string]error{}
	for i, src := range sources {
		if !src.Remote {
			continue
		}
		m, err := mounter.Mount(ctx, src.Location)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			unavailable[src.Location] = err
			continue
		}
		mounts[src.Location] = m
		sources[i].Path = m.Dir
	}
	return mounts, unavailable, nil
}

// checkSources refuses a source (other than an unavailable remote one)
// that is missing or not a directory, before anything is written.
func checkSources(listFile string, sources []config.Source, unavailable map[string]error) error {
	for _, src := range sources {
		if unavailable[src.Location] != nil {
			continue
		}
		fi, err := os.Stat(src.Path)
		if err != nil {
			return &config.Error{File: listFile, Line: src.Line, Msg: fmt.Sprintf("%s: %v", src.Location, unwrap(err)), Hint: "fix or remove the line; if it is a disk or mount, attach it first"}
		}
		if !fi.IsDir() {
			return &config.Error{File: listFile, Line: src.Line, Msg: fmt.Sprintf("%s is not a directory", src.Location)}
		}
	}
	return nil
}

// skipSource writes the record of a remote source that could not be read
// (uerr), and the warning that its atoms keep their last backup.
func (s *scanner) skipSource(srec records.Source, uerr error) error {
	if err := s.emit(srec); err != nil {
		return err
	}
	s.mount = nil
	s.warning(srec.Source, fmt.Errorf("skipped, its atoms keep their last backup: %s", strings.TrimPrefix(uerr.Error(), srec.Source+": ")))
	var re *remote.Error
	if errors.As(uerr, &re) && re.Hint != "" {
		fmt.Fprintf(s.errW, "gb-scan: hint: %s\n", re.Hint)
	}
	return nil
}

// source writes the atom records of one source, counted in sum. Atoms are
// hashed concurrently but written in order, so the stream is the same on
// every run.
func (s *scanner) source(ctx context.Context, src config.Source, listFile string, sum *records.ScanSummary) error {
	refs, err := fstree.ListAtoms(src.Path, src.Mode == config.Mutable, s.ex)
	if err != nil {
		return &config.Error{File: listFile, Line: src.Line, Msg: fmt.Sprintf("%s: %v", src.Location, unwrap(err))}
	}
	type result struct {
		rec records.Atom
		err error
	}
	results := make([]chan result, len(refs))
	for i := range refs {
		results[i] = make(chan result, 1)
	}
	g := new(errgroup.Group)
	g.SetLimit(s.jobs)
	go func() {
		for i, ref := range refs {
			g.Go(func() error {
				rec, err := s.atom(ctx, src, ref, s.target)
				if s.enc.list.Covers(src, s.name(ref.Path), ref.Kind) {
					rec.Encrypt, rec.Keys = true, s.enc.keysID
				}
				results[i] <- result{rec, err}
				return nil
			})
		}
	}()
	var firstErr error
	for i := range refs {
		res := <-results[i]
		if firstErr == nil {
			firstErr = res.err
		}
		if firstErr == nil {
			firstErr = s.emit(res.rec)
			s.prog.AddItems(1)
			sum.Atoms++
			sum.Files += res.rec.Files
			sum.Bytes += res.rec.Bytes
		}
	}
	g.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func (s *scanner) emit(v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(v)
}

func (s *scanner) atom(ctx context.Context, src config.Source, ref fstree.AtomRef, target int64) (records.Atom, error) {
	key := fstree.Key(s.name(ref.Path), ref.Kind)
	kd, kb := records.EncodePath(key)
	pd, pb := records.EncodePath(s.name(ref.Path))
	rec := records.Atom{Kind: records.KindAtom, Source: src.Location, Key: kd, KeyB64: kb, Path: pd, PathB64: pb, Type: ref.Kind, Mode: src.Mode, Encrypt: src.Encrypt}
	var t tally
	h := sha256.New()
	h.Write([]byte("gb-atom-v1\x00" + ref.Kind + "\x00"))
	switch ref.Kind {
	case fstree.Loose:
		err := fstree.WalkAtom(src.Path, ref.Kind, ref.Path, s.ex, func(p string, info fs.FileInfo, err error) error {
			if err != nil {
				s.warning(p, err)
				t.warnings++
				return nil
			}
			link := ""
			if info.Mode()&fs.ModeSymlink != 0 {
				link, _ = os.Readlink(p)
			}
			h.Write(leaf(nil, baseName(p), metaOf(info), link, &t))
			return nil
		})
		if err != nil {
			return rec, err
		}
		s.prog.AddFiles(t.files)
		s.prog.AddBytes(t.bytes)
	default:
		info, err := os.Lstat(ref.Path)
		if err != nil {
			s.warning(ref.Path, err)
			t.warnings++
			break
		}
		d := s.dir(ctx, ref.Path, metaOf(info), &t)
		h.Write(d)
	}
	if err := ctx.Err(); err != nil {
		return rec, err
	}
	rec.Hash = "sha256:" + hex.EncodeToString(h.Sum(nil))
	rec.Files, rec.Dirs, rec.Bytes, rec.Warnings = t.files, t.dirs, t.bytes, t.warnings
	if rec.Bytes > target {
		parts, err := splitPoints(src.Path, ref, s.ex, target, s.name)
		if err != nil {
			return rec, err
		}
		if len(parts) > 1 {
			rec.Parts = parts
		}
	}
	return rec, nil
}

type tally struct {
	files, dirs, bytes, warnings int64
}

// add folds a finished subdirectory's counts in; each tally has one writer.
func (t *tally) add(o *tally) {
	t.files += o.files
	t.dirs += o.dirs
	t.bytes += o.bytes
	t.warnings += o.warnings
}

// meta is what the hash covers of one entry.
type meta struct {
	mode  uint32 // st_mode: type and permission bits
	size  int64
	mtime int64 // ns
}

func metaOf(info fs.FileInfo) meta {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return meta{mode: st.Mode, size: st.Size, mtime: info.ModTime().UnixNano()}
	}
	return meta{mode: uint32(info.Mode().Perm()), size: info.Size(), mtime: info.ModTime().UnixNano()}
}

func metaStat(st *unix.Stat_t) meta {
	return meta{mode: st.Mode, size: st.Size, mtime: st.Mtim.Sec*1e9 + st.Mtim.Nsec}
}

// leaf is the hashed description of a non-directory entry: type and
// permission bits, name, size, mtime (ns) and link target, each
// length-prefixed so no two different entries encode alike.
func leaf(b []byte, name string, m meta, link string, t *tally) []byte {
	b = binary.BigEndian.AppendUint32(b, m.mode)
	b = appendStr(b, name)
	b = binary.BigEndian.AppendUint64(b, uint64(m.size))
	b = binary.BigEndian.AppendUint64(b, uint64(m.mtime))
	if m.mode&unix.S_IFMT == unix.S_IFLNK {
		b = appendStr(b, link)
	}
	t.files++
	if m.mode&unix.S_IFMT == unix.S_IFREG {
		t.bytes += m.size
	}
	return b
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// dir hashes a directory Merkle-style: its own metadata plus, in name
// order, each child's description (a directory child by its digest). Each
// directory's digest depends only on its subtree, so subtrees are hashed
// concurrently and still give the answer a sequential walk would. Entries
// are stat'ed relative to the open directory (fstatat), which spares the
// kernel a walk of the whole path for every file.
func (s *scanner) dir(ctx context.Context, p string, self meta, t *tally) []byte {
	var local tally
	local.dirs++
	h := sha256.New()
	names, fd, err := readNames(p)
	if err != nil {
		s.warning(p, err)
		local.warnings++
		h.Write([]byte("\x00unreadable"))
	}
	// Each subdirectory counts into a tally of its own, merged after it
	// is done, so no counter is shared between goroutines.
	type sub struct {
		digest []byte
		done   chan struct{}
		at     int
		t      tally
	}
	var subs []*sub
	var buf []byte
	var lb [4096]byte
	parts := make([][]byte, len(names))
	for i, name := range names {
		if ctx.Err() != nil {
			break
		}
		child := p + "/" + name
		if !s.ex.Empty() && s.ex.Excluded(child) {
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			s.warning(child, &fs.PathError{Op: "lstat", Path: child, Err: err})
			local.warnings++
			continue
		}
		m := metaStat(&st)
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			link := ""
			if st.Mode&unix.S_IFMT == unix.S_IFLNK {
				n, err := unix.Readlinkat(fd, name, lb[:])
				if err != nil {
					s.warning(child, err)
					local.warnings++
				} else {
					link = string(lb[:n])
				}
			}
			start := len(buf)
			buf = leaf(buf, name, m, link, &local)
			parts[i] = buf[start:len(buf):len(buf)]
			continue
		}
		sb := &sub{done: make(chan struct{}), at: i}
		subs = append(subs, sb)
		select {
		case s.sem <- struct{}{}:
			go func() {
				defer func() { <-s.sem; close(sb.done) }()
				sb.digest = s.dir(ctx, child, m, &sb.t)
			}()
		default:
			sb.digest = s.dir(ctx, child, m, &sb.t)
			close(sb.done)
		}
	}
	if fd >= 0 {
		unix.Close(fd)
	}
	// This directory's own entries; subdirectories count themselves.
	s.prog.AddFiles(local.files)
	s.prog.AddBytes(local.bytes)
	for _, sb := range subs {
		<-sb.done
		parts[sb.at] = sb.digest
		local.add(&sb.t)
	}
	for _, b := range parts {
		if b != nil {
			h.Write(b)
		}
	}
	var b []byte
	b = binary.BigEndian.AppendUint32(b, self.mode)
	b = appendStr(b, baseName(p))
	b = binary.BigEndian.AppendUint64(b, uint64(self.mtime))
	b = h.Sum(b)
	t.add(&local)
	return b
}

// readNames lists a directory's entries in name order and returns the
// open directory for fstatat (closed by the caller; -1 on error).
func readNames(p string) ([]string, int, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, -1, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	f := os.NewFile(uintptr(fd), p)
	names, err := f.Readdirnames(-1)
	if err != nil {
		f.Close()
		return nil, -1, err
	}
	// Keep fd open for fstatat: duplicate it before f's finalizer or
	// Close can take it away.
	nfd, err := unix.Dup(fd)
	f.Close()
	if err != nil {
		return nil, -1, err
	}
	sort.Strings(names)
	return names, nfd, nil
}

// splitPoints walks an atom larger than a bag in canonical order and cuts
// it, greedily, into parts of at most target bytes at file boundaries. A
// file larger than the target gets a part of its own.
func splitPoints(source string, ref fstree.AtomRef, ex *config.Excluder, target int64, name func(string) string) ([]records.Part, error) {
	var parts []records.Part
	err := fstree.WalkAtom(source, ref.Kind, ref.Path, ex, func(p string, info fs.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		size := int64(0)
		if info.Mode().IsRegular() {
			size = info.Size()
		}
		if len(parts) == 0 || (parts[len(parts)-1].Bytes > 0 && parts[len(parts)-1].Bytes+size > target) {
			d, b := records.EncodePath(name(p))
			parts = append(parts, records.Part{From: d, FromB64: b})
		}
		cur := &parts[len(parts)-1]
		cur.Files++
		cur.Bytes += size
		return nil
	})
	return parts, err
}
