package restore

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/gbarchive/gb/pkg/fstree"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/remote"
	"golang.org/x/sys/unix"
)

// File statuses in restore_file records.
const (
	FileOK         = "ok"         // restored (or already there) and, for regular files, equal to the manifest's SHA-256
	FileMismatch   = "mismatch"   // written, but its SHA-256 is not the manifest's
	FileSkipped    = "skipped"    // not written: see reason
	FileUnverified = "unverified" // written, but the manifest does not list it
)

// Reasons a restore_file record gives for a skipped entry.
const (
	ReasonExists     = "exists"              // something is at that path already (--overwrite replaces files, never directories)
	ReasonUnsafe     = "unsafe-name"         // an absolute name or one with "..": never written
	ReasonEscapes    = "escapes-target"      // reaching it would go through a symlink out of the target
	ReasonLinkTarget = "target-not-restored" // a hard link to a file that was not restored
	ReasonNeedsRoot  = "needs-root"          // a device node, as a user
	ReasonError      = "error"               // see error
)

// selection is what to take from one bag.
type selection struct {
	all   bool
	atoms map[string]bool
	paths map[string]bool // each with everything under it
}

func newSelection(b *Bag) *selection {
	s := &selection{all: b.All, atoms: map[string]bool{}, paths: map[string]bool{}}
	for _, a := range b.Atoms {
		s.atoms[a.Exact()] = true
	}
	for _, p := range b.Paths {
		s.paths[strings.TrimSuffix(p.Exact(), "/")] = true
	}
	return s
}

func (s *selection) match(p string, e *manifest.Entry) bool {
	if s.all {
		return true
	}
	if e != nil && len(s.atoms) > 0 {
		if a, err := records.DecodePath(e.Atom, e.AtomB64); err == nil && s.atoms[a] {
			return true
		}
	}
	for q := p; q != ""; {
		if s.paths[q] {
			return true
		}
		i := strings.LastIndexByte(q, '/')
		if i <= 0 {
			break
		}
		q = q[:i]
	}
	return false
}

// memberName turns a tar member name into a path relative to the target,
// refusing what gb never writes and a hostile bag would: absolute names,
// "." and ".." elements, empty ones.
func memberName(name string) (string, string) {
	n := strings.TrimRight(name, "/")
	switch {
	case n == "":
		return "", "empty name"
	case strings.HasPrefix(name, "/"):
		return "", "absolute name"
	}
	for _, el := range strings.Split(n, "/") {
		switch el {
		case "..":
			return "", "name with .."
		case "", ".":
			return "", "name that is not clean (// or .)"
		}
	}
	return n, ""
}

type pendingDir struct {
	rel   string
	mode  fs.FileMode
	mtime time.Time
}

type extractStats struct {
	files, ok, mismatch, skipped int64
}

// extractor writes one bag's entries under a target directory through an
// os.Root, so no name and no symlink, whatever the bag holds, reaches
// outside it.
type extractor struct {
	root      *os.Root
	bag       string
	sel       *selection
	overwrite bool
	asRoot    bool
	w         *records.Writer
	errOut    io.Writer
	mc        *manifestCursor

	// Directories whose mode and mtime are set once their subtree is
	// done: the tar is in pre-order, so the stack is as deep as the tree.
	dirs []pendingDir
	// With a selection, hard links whose first name is not selected: the
	// first name (absolute) -> the selected names. Its content is written
	// at the first selected name (realized) and the others link to it.
	links       map[string][]string
	realized    map[string]string
	realizedRec map[string]*records.RestoreFile
	// Regular files not written; hard links to them are skipped.
	notRestored map[string]bool

	buf   []byte
	stats extractStats
}

func newExtractor(root *os.Root, b *Bag, overwrite bool, w *records.Writer, errOut io.Writer, mc *manifestCursor) *extractor {
	return &extractor{root: root, bag: b.Bag, sel: newSelection(b), overwrite: overwrite, asRoot: os.Geteuid() == 0, w: w, errOut: errOut, mc: mc,
		links: map[string][]string{}, realized: map[string]string{}, realizedRec: map[string]*records.RestoreFile{}, notRestored: map[string]bool{},
		buf: make([]byte, 1<<20)}
}

// pathOf is the manifest path of a member: "/" + name for a local
// source, the name itself for a remote one (host:/path/…, whose member
// names keep the host: element).
func (e *extractor) pathOf(rel string) string {
	if e.mc != nil && remote.IsRemote(e.mc.source) {
		return rel
	}
	return "/" + rel
}

// planLinks reads the manifest once, with a selection only, to find the
// selected hard links whose first name is not selected.
func (e *extractor) planLinks(manifestPath string) error {
	if e.sel.all {
		return nil
	}
	cand := map[string][]string{}
	err := eachEntry(manifestPath, func(p string, me *manifest.Entry) error {
		if me.Type == "hardlink" && e.sel.match(p, me) {
			if t, err := records.DecodePath(me.Link, me.LinkB64); err == nil {
				cand[t] = append(cand[t], p)
			}
		}
		return nil
	})
	if err != nil || len(cand) == 0 {
		return err
	}
	return eachEntry(manifestPath, func(p string, me *manifest.Entry) error {
		if names, ok := cand[p]; ok && !e.sel.match(p, me) {
			e.links[p] = names
		}
		return nil
	})
}

func typeName(t byte) string {
	switch t {
	case tar.TypeDir:
		return "dir"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hardlink"
	case tar.TypeFifo:
		return "fifo"
	case tar.TypeChar:
		return "chardev"
	case tar.TypeBlock:
		return "blockdev"
	case tar.TypeReg, '\x00', tar.TypeGNUSparse:
		return "file"
	}
	return fmt.Sprintf("type-%q", t)
}

// extract reads the tar stream and writes what the selection wants.
// Problems with single entries are restore_file records; an error ends
// the bag (a damaged stream, a full disk, a write error on stdout).
func (e *extractor) extract(ctx context.Context, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("bag %s: reading its tar stream: %w", e.bag, err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // defaults for later entries, which archive/tar applies
		}
		rel, bad := memberName(hdr.Name)
		if bad != "" {
			rec := &records.RestoreFile{Kind: records.KindRestoreFile, Bag: e.bag, Type: typeName(hdr.Typeflag), Status: FileSkipped, Reason: ReasonUnsafe, Error: bad}
			rec.Path, rec.PathB64 = records.EncodePath(hdr.Name)
			if err := e.emit(rec); err != nil {
				return err
			}
			continue
		}
		abs := e.pathOf(rel)
		ent, err := e.mc.find(abs)
		if err != nil {
			return err
		}
		selected := e.sel.match(abs, ent)
		var linkNames []string
		if !selected {
			if linkNames = e.links[abs]; len(linkNames) == 0 {
				continue
			}
		}
		e.leave(rel)
		rec := &records.RestoreFile{Kind: records.KindRestoreFile, Bag: e.bag, Type: typeName(hdr.Typeflag)}
		rec.Path, rec.PathB64 = records.EncodePath(abs)
		if ent != nil {
			rec.Size, rec.SHA256 = ent.Size, ent.SHA256
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			e.dir(rel, hdr, ent, rec)
		case tar.TypeReg, '\x00', tar.TypeGNUSparse:
			if !selected {
				// Only hard links to it are wanted: write it at the
				// first of them; its own hardlink entry reports it.
				dest := fstree.MemberName(linkNames[0])
				rec.Path, rec.PathB64 = records.EncodePath(linkNames[0])
				e.realized[abs], e.realizedRec[abs] = dest, rec
				if err := e.file(ctx, dest, abs, hdr, ent, tr, rec); err != nil {
					return err
				}
				continue
			}
			if err := e.file(ctx, rel, abs, hdr, ent, tr, rec); err != nil {
				return err
			}
		case tar.TypeLink:
			e.hardlink(rel, hdr, rec)
		case tar.TypeSymlink:
			e.symlink(rel, hdr, ent, rec)
		case tar.TypeFifo, tar.TypeChar, tar.TypeBlock:
			e.special(rel, hdr, ent, rec)
		default:
			e.skip(rec, ReasonError, fmt.Errorf("tar entry type %q is not restored", hdr.Typeflag))
		}
		if err := e.emit(rec); err != nil {
			return err
		}
	}
	e.leave("")
	return nil
}

func (e *extractor) emit(rec *records.RestoreFile) error {
	e.stats.files++
	switch rec.Status {
	case FileOK:
		e.stats.ok++
	case FileMismatch, FileUnverified:
		e.stats.mismatch++
	default:
		e.stats.skipped++
	}
	return e.w.Write(rec)
}

func (e *extractor) skip(rec *records.RestoreFile, reason string, err error) {
	rec.Status, rec.Reason = FileSkipped, reason
	if err != nil {
		rec.Error = err.Error()
		if reason == ReasonError && strings.Contains(err.Error(), "escapes") {
			rec.Reason = ReasonEscapes
		}
	}
}

// leave finishes the pending directories that rel is not inside ("" for
// all): their mode and mtime are set now that nothing more is written in
// them.
func (e *extractor) leave(rel string) {
	for len(e.dirs) > 0 {
		d := e.dirs[len(e.dirs)-1]
		if rel != "" && strings.HasPrefix(rel, d.rel+"/") {
			return
		}
		e.dirs = e.dirs[:len(e.dirs)-1]
		err := e.root.Chmod(d.rel, d.mode)
		if err == nil {
			err = e.root.Chtimes(d.rel, time.Time{}, d.mtime)
		}
		if err != nil {
			fmt.Fprintf(e.errOut, "gb-restore: warning: %s: %v\n", d.rel, err)
		}
	}
}

func mtimeOf(hdr *tar.Header, ent *manifest.Entry) time.Time {
	if ent != nil {
		if t, err := time.Parse(time.RFC3339Nano, ent.Mtime); err == nil {
			return t
		}
	}
	return hdr.ModTime
}

// tmpName is where an entry is written before it is renamed into place:
// short (a name may already be 255 bytes), and the same on every run, so
// a run cut short leaves nothing behind once it is run again.
func tmpName(rel string) string {
	sum := sha256.Sum256([]byte(path.Base(rel)))
	return path.Join(path.Dir(rel), layout.Partial(fmt.Sprintf(".gbr-%x", sum[:8])))
}

func (e *extractor) mkParents(rel string) error {
	if d := path.Dir(rel); d != "." {
		return e.root.MkdirAll(d, 0o755)
	}
	return nil
}

// exists looks at what is at rel: nothing (nil, nil), something, or an
// error reaching it.
func (e *extractor) exists(rel string) (fs.FileInfo, error) {
	fi, err := e.root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return fi, err
}

func (e *extractor) dir(rel string, hdr *tar.Header, ent *manifest.Entry, rec *records.RestoreFile) {
	fi, err := e.exists(rel)
	switch {
	case err != nil:
		e.skip(rec, ReasonError, err)
		return
	case fi != nil && fi.IsDir():
		rec.Existing = true
		// Writable while its entries are written; its own mode comes
		// back when it is left.
		if fi.Mode().Perm()&0o700 != 0o700 {
			if err := e.root.Chmod(rel, fi.Mode().Perm()|0o700); err != nil {
				e.skip(rec, ReasonError, err)
				return
			}
		}
	case fi != nil && !e.overwrite:
		e.skip(rec, ReasonExists, nil)
		return
	default:
		if fi != nil {
			if err := e.root.Remove(rel); err != nil {
				e.skip(rec, ReasonError, err)
				return
			}
		}
		if err := e.mkParents(rel); err != nil {
			e.skip(rec, ReasonError, err)
			return
		}
		if err := e.root.Mkdir(rel, 0o700); err != nil {
			e.skip(rec, ReasonError, err)
			return
		}
	}
	if f, err := e.root.Open(rel); err == nil {
		rec.Warning = e.setXattrs(f, hdr)
		if e.asRoot {
			f.Chown(hdr.Uid, hdr.Gid)
		}
		f.Close()
	}
	e.dirs = append(e.dirs, pendingDir{rel: rel, mode: hdr.FileInfo().Mode(), mtime: mtimeOf(hdr, ent)})
	rec.Status = FileOK
}

// file writes a regular file: to a temporary name, with holes where the
// bag's sparse entry has them, then mode, owner, attributes and mtime,
// then renamed into place. Its SHA-256 is compared with the manifest's.
// The error is for the bag (a damaged stream, a full disk); single-file
// problems go in rec.
func (e *extractor) file(ctx context.Context, rel, abs string, hdr *tar.Header, ent *manifest.Entry, r io.Reader, rec *records.RestoreFile) error {
	mode, mtime := hdr.FileInfo().Mode(), mtimeOf(hdr, ent)
	skip := func(reason string, err error) error {
		e.skip(rec, reason, err)
		e.notRestored[abs] = true
		return nil
	}
	fi, err := e.exists(rel)
	switch {
	case err != nil:
		return skip(ReasonError, err)
	case fi != nil:
		if fi.Mode().IsRegular() && ent != nil && ent.SHA256 != "" && fi.Size() == ent.Size {
			if sum, err := e.hashExisting(rel); err == nil && sum == ent.SHA256 {
				// Already restored (an earlier run): its metadata again.
				rec.Status, rec.Existing = FileOK, true
				e.root.Chmod(rel, mode)
				e.root.Chtimes(rel, time.Time{}, mtime)
				return nil
			}
		}
		if fi.IsDir() {
			return skip(ReasonExists, errors.New("a directory is in the way"))
		}
		if !e.overwrite {
			return skip(ReasonExists, nil)
		}
	}
	if err := e.mkParents(rel); err != nil {
		return skip(ReasonError, err)
	}
	tmp := tmpName(rel)
	f, err := e.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return skip(ReasonError, err)
	}
	sparse := (ent != nil && ent.Sparse) || hdr.PAXRecords["GNU.sparse.major"] != "" || hdr.Typeflag == tar.TypeGNUSparse
	h := sha256.New()
	n, err := e.copyOut(ctx, f, r, h, sparse)
	if err == nil && n != hdr.Size {
		err = fmt.Errorf("%s: entry ended after %d of %d bytes", abs, n, hdr.Size)
	}
	if err != nil {
		f.Close()
		e.root.Remove(tmp)
		return fmt.Errorf("bag %s: %s: %w", e.bag, abs, err)
	}
	if sparse {
		err = f.Truncate(hdr.Size)
	}
	if err == nil {
		rec.Warning = e.setXattrs(f, hdr)
		if e.asRoot {
			f.Chown(hdr.Uid, hdr.Gid)
		}
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = e.root.Chtimes(tmp, time.Time{}, mtime)
	}
	if err == nil {
		err = e.root.Rename(tmp, rel)
	}
	if err != nil {
		e.root.Remove(tmp)
		return skip(ReasonError, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	switch {
	case ent == nil || ent.SHA256 == "":
		rec.Status, rec.GotSHA256 = FileUnverified, sum
	case sum != ent.SHA256:
		rec.Status, rec.GotSHA256 = FileMismatch, sum
	default:
		rec.Status = FileOK
	}
	return nil
}

func (e *extractor) hashExisting(rel string) (string, error) {
	f, err := e.root.Open(rel)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, e.buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// holeBlock is the granularity at which zeros become holes: a
// filesystem block.
const holeBlock = 4096

var zeroBlock = make([]byte, holeBlock)

// copyOut copies an entry's content to f, hashing it. For a sparse entry
// (which archive/tar reads with its holes as zeros), all-zero blocks are
// skipped with a seek instead of written, so the holes come back; the
// caller truncates to the size, for a hole at the end.
func (e *extractor) copyOut(ctx context.Context, f *os.File, r io.Reader, h hash.Hash, sparse bool) (int64, error) {
	var n, skip int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := io.ReadFull(r, e.buf)
		if k > 0 {
			b := e.buf[:k]
			h.Write(b)
			if !sparse {
				if _, werr := f.Write(b); werr != nil {
					return n, werr
				}
			} else {
				for off := 0; off < k; off += holeBlock {
					blk := b[off:min(off+holeBlock, k)]
					if bytes.Equal(blk, zeroBlock[:len(blk)]) {
						skip += int64(len(blk))
						continue
					}
					if skip > 0 {
						if _, serr := f.Seek(skip, io.SeekCurrent); serr != nil {
							return n, serr
						}
						skip = 0
					}
					if _, werr := f.Write(blk); werr != nil {
						return n, werr
					}
				}
			}
			n += int64(k)
		}
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return n, nil
		default:
			return n, err
		}
	}
}

// setXattrs restores the user attributes and POSIX ACLs the entry
// carries (SCHILY.xattr.*), where the filesystem allows; it returns a
// warning naming those it could not set.
func (e *extractor) setXattrs(f *os.File, hdr *tar.Header) string {
	var failed []string
	var why error
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || !(strings.HasPrefix(name, "user.") || name == "system.posix_acl_access" || name == "system.posix_acl_default") {
			continue
		}
		if err := unix.Fsetxattr(int(f.Fd()), name, []byte(v), 0); err != nil {
			failed, why = append(failed, name), err
		}
	}
	if len(failed) == 0 {
		return ""
	}
	sort.Strings(failed)
	return fmt.Sprintf("extended attributes not restored: %s (%v)", strings.Join(failed, ", "), why)
}

func (e *extractor) hardlink(rel string, hdr *tar.Header, rec *records.RestoreFile) {
	tgt, bad := memberName(hdr.Linkname)
	if bad != "" {
		e.skip(rec, ReasonUnsafe, fmt.Errorf("hard link to an %s", bad))
		return
	}
	tgtAbs := e.pathOf(tgt)
	src := tgt
	if r, ok := e.realized[tgtAbs]; ok {
		src = r
		if r == rel {
			// The content was written here for this very name.
			fr := e.realizedRec[tgtAbs]
			rec.Status, rec.Reason, rec.Error, rec.Existing = fr.Status, fr.Reason, fr.Error, fr.Existing
			rec.SHA256, rec.GotSHA256, rec.Size, rec.Warning = fr.SHA256, fr.GotSHA256, fr.Size, fr.Warning
			return
		}
	}
	if e.notRestored[tgtAbs] {
		e.skip(rec, ReasonLinkTarget, nil)
		return
	}
	fi, err := e.exists(rel)
	switch {
	case err != nil:
		e.skip(rec, ReasonError, err)
		return
	case fi != nil:
		if si, err := e.root.Lstat(src); err == nil && os.SameFile(si, fi) {
			rec.Status, rec.Existing = FileOK, true
			return
		}
		if fi.IsDir() || !e.overwrite {
			e.skip(rec, ReasonExists, nil)
			return
		}
	}
	if err := e.mkParents(rel); err != nil {
		e.skip(rec, ReasonError, err)
		return
	}
	tmp := tmpName(rel)
	e.root.Remove(tmp)
	err = e.root.Link(src, tmp)
	if err == nil {
		err = e.root.Rename(tmp, rel)
	}
	if err != nil {
		e.root.Remove(tmp)
		e.skip(rec, ReasonError, err)
		return
	}
	rec.Status = FileOK
}

func (e *extractor) symlink(rel string, hdr *tar.Header, ent *manifest.Entry, rec *records.RestoreFile) {
	mtime := mtimeOf(hdr, ent)
	fi, err := e.exists(rel)
	switch {
	case err != nil:
		e.skip(rec, ReasonError, err)
		return
	case fi != nil:
		if fi.Mode()&fs.ModeSymlink != 0 {
			if t, err := e.root.Readlink(rel); err == nil && t == hdr.Linkname {
				rec.Status, rec.Existing = FileOK, true
				e.linkTime(rel, mtime)
				return
			}
		}
		if fi.IsDir() || !e.overwrite {
			e.skip(rec, ReasonExists, nil)
			return
		}
	}
	if err := e.mkParents(rel); err != nil {
		e.skip(rec, ReasonError, err)
		return
	}
	tmp := tmpName(rel)
	e.root.Remove(tmp)
	err = e.root.Symlink(hdr.Linkname, tmp)
	if err == nil && e.asRoot {
		e.root.Lchown(tmp, hdr.Uid, hdr.Gid)
	}
	if err == nil {
		err = e.root.Rename(tmp, rel)
	}
	if err != nil {
		e.root.Remove(tmp)
		e.skip(rec, ReasonError, err)
		return
	}
	e.linkTime(rel, mtime)
	rec.Status = FileOK
}

// linkTime sets a symlink's own mtime (os.Root has no Lchtimes): through
// its parent directory, opened inside the root.
func (e *extractor) linkTime(rel string, mtime time.Time) {
	d, err := e.root.Open(path.Dir(rel))
	if err != nil {
		return
	}
	defer d.Close()
	ts := []unix.Timespec{{Sec: 0, Nsec: unix.UTIME_OMIT}, {Sec: mtime.Unix(), Nsec: int64(mtime.Nanosecond())}}
	unix.UtimesNanoAt(int(d.Fd()), path.Base(rel), ts, unix.AT_SYMLINK_NOFOLLOW)
}

// special makes a fifo or a device node (devices need root, as with tar).
func (e *extractor) special(rel string, hdr *tar.Header, ent *manifest.Entry, rec *records.RestoreFile) {
	var kind uint32
	var want fs.FileMode
	switch hdr.Typeflag {
	case tar.TypeFifo:
		kind, want = unix.S_IFIFO, fs.ModeNamedPipe
	case tar.TypeChar:
		kind, want = unix.S_IFCHR, fs.ModeDevice|fs.ModeCharDevice
	default:
		kind, want = unix.S_IFBLK, fs.ModeDevice
	}
	mode, mtime := hdr.FileInfo().Mode(), mtimeOf(hdr, ent)
	fi, err := e.exists(rel)
	switch {
	case err != nil:
		e.skip(rec, ReasonError, err)
		return
	case fi != nil:
		if fi.Mode().Type() == want {
			rec.Status, rec.Existing = FileOK, true
			return
		}
		if fi.IsDir() || !e.overwrite {
			e.skip(rec, ReasonExists, nil)
			return
		}
	}
	if err := e.mkParents(rel); err != nil {
		e.skip(rec, ReasonError, err)
		return
	}
	tmp := tmpName(rel)
	e.root.Remove(tmp)
	d, err := e.root.Open(path.Dir(tmp))
	if err != nil {
		e.skip(rec, ReasonError, err)
		return
	}
	err = unix.Mknodat(int(d.Fd()), path.Base(tmp), kind|0o600, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))))
	d.Close()
	if errors.Is(err, unix.EPERM) && hdr.Typeflag != tar.TypeFifo {
		e.skip(rec, ReasonNeedsRoot, err)
		return
	}
	if err == nil && e.asRoot {
		err = e.root.Lchown(tmp, hdr.Uid, hdr.Gid)
	}
	if err == nil {
		err = e.root.Chmod(tmp, mode)
	}
	if err == nil {
		err = e.root.Chtimes(tmp, time.Time{}, mtime)
	}
	if err == nil {
		err = e.root.Rename(tmp, rel)
	}
	if err != nil {
		e.root.Remove(tmp)
		e.skip(rec, ReasonError, err)
		return
	}
	rec.Status = FileOK
}
