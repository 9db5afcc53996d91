// Package bag writes bags: a PAX tar stream, zstd-compressed unless asked
// not to, that stock GNU tar and zstd open with no flags. Files are never
// split across bags, so every bag extracts on its own.
package bag

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gbarchive/gb/internal/chunkio"
	"github.com/gbarchive/gb/pkg/fstree"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
	"golang.org/x/sys/unix"
)

// Compression names.
const (
	Zstd = "zstd"
	None = "none"
)

// Layers lists what wraps the tar stream, innermost first.
func Layers(compress string, encrypted bool) []string {
	l := []string{"tar"}
	if compress == Zstd {
		l = append(l, "zstd")
	}
	if encrypted {
		l = append(l, "age")
	}
	return l
}

// Untar is the GNU tar command that extracts a bag's tar stream from
// stdin with everything gb stores: -S for sparse files, the xattr flags
// for extended attributes and ACLs (without them tar skips those).
const Untar = "tar --xattrs --xattrs-include='*' -xS"

// OpenCommand is the stock command line that extracts a bag file. decrypt
// is the age command that decrypts file ("" for a plain bag).
func OpenCommand(compress, file, decrypt string) string {
	switch {
	case decrypt != "" && compress == Zstd:
		return fmt.Sprintf("%s | zstd -d | %s", decrypt, Untar)
	case decrypt != "":
		return fmt.Sprintf("%s | %s", decrypt, Untar)
	case compress == Zstd:
		return fmt.Sprintf("zstd -d < %s | %s", file, Untar)
	}
	return fmt.Sprintf("%s -f %s", Untar, file)
}

// ErrNotArchived is the warning for entries gb leaves out by policy
// (sockets: they cannot be restored as anything useful). The atom is still
// complete.
var ErrNotArchived = errors.New("sockets are not archived")

// Writer writes one bag.
type Writer struct {
	out    *countingHash
	zw     io.WriteCloser
	ew     io.WriteCloser // encryption, between compression and out
	tin    io.Writer      // what the tar stream is written to (sparse entries bypass tw)
	zbuf   *chunkio.Writer
	tw     *tar.Writer
	links  map[[2]uint64]string
	buf    []byte
	xnames []byte // Llistxattr's buffer, reused
	xvals  []byte // Lgetxattr's buffer, reused
	files  int64
	bytes  int64
	closed bool

	// Progress, when set, is told the content bytes of regular files as
	// they are read (gb-pack's progress bars). It must be quick.
	Progress func(n int64)
}

type countingHash struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// NewWriter starts a bag on w.
func NewWriter(w io.Writer, compress string) (*Writer, error) {
	return NewEncryptedWriter(w, compress, nil)
}

// NewEncryptedWriter starts a bag on w whose bytes (after compression) go
// through encrypt, when not nil. The bag's size and SHA-256 are those of
// the bytes written to w: what is stored.
func NewEncryptedWriter(w io.Writer, compress string, encrypt func(io.Writer) (io.WriteCloser, error)) (*Writer, error) {
	bw := &Writer{out: &countingHash{w: w, h: sha256.New()}, links: map[[2]uint64]string{}, buf: make([]byte, 1<<20)}
	var inner io.Writer = bw.out
	if encrypt != nil {
		ew, err := encrypt(bw.out)
		if err != nil {
			return nil, err
		}
		bw.ew = ew
		inner = ew
	}
	switch compress {
	case Zstd:
		zw, err := newZstd(inner)
		if err != nil {
			return nil, err
		}
		bw.zw = zw
		// Tar writes headers of 512 bytes; the compressor gets large
		// chunks instead, on a goroutine of its own.
		bw.zbuf = chunkio.NewWriter(zw, 1<<20, 4)
		inner = bw.zbuf
	case None, "":
	default:
		return nil, fmt.Errorf("unknown compression %q (use zstd or none)", compress)
	}
	bw.tin = inner
	bw.tw = tar.NewWriter(inner)
	return bw, nil
}

// Entry is what Add reports about one archived path.
type Entry = manifest.Entry

// Add archives one path whose Lstat result is info. A regular file is read
// while it is written: exactly the size seen by Lstat goes into the bag
// (zero-padded if the file shrank, cut if it grew), and the entry says
// Changed when the file's size or mtime moved while it was read, so the
// manifest always describes the bytes in the bag. A regular file with holes
// becomes a PAX 1.0 sparse entry (sparse.go); extended attributes and ACLs
// go in as SCHILY.xattr records (xattr.go). warn is set for a problem that
// skipped or damaged this entry but not the bag; err is fatal.
func (w *Writer) Add(abs string, info fs.FileInfo) (e Entry, skipped bool, warn, err error) {
	return w.AddAs(abs, abs, info)
}

// AddAs is Add for a file read at abs and recorded as recName: the path
// that the manifest gives and the member name comes from. They differ for
// a remote source, read under its mount point and recorded as
// host:/path (pkg/remote).
func (w *Writer) AddAs(abs, recName string, info fs.FileInfo) (e Entry, skipped bool, warn, err error) {
	hdr := &tar.Header{}
	st, e := newHeader(hdr, recName, info)
	f, regs, skip := w.describe(abs, recName, info, st, hdr, &e)
	if skip != nil {
		return e, true, skip, nil
	}
	if f != nil {
		defer f.Close()
	}
	// Symlinks cannot hold user xattrs or ACLs on Linux, and a hard link's
	// inode has them on its first name already.
	var xwarn error
	if hdr.Typeflag != tar.TypeSymlink && hdr.Typeflag != tar.TypeLink {
		xwarn = w.xattrs(abs, f, hdr, &e)
	}
	if regs != nil {
		swarn, err := w.writeSparse(hdr, info, f, regs, &e)
		if err != nil {
			return e, false, nil, err
		}
		w.bytes += hdr.Size
		w.files++
		if w.Progress != nil {
			w.Progress(hdr.Size)
		}
		return e, false, joinWarn(swarn, xwarn), nil
	}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return e, false, nil, fmt.Errorf("write tar header for %s: %w", strings.TrimSuffix(hdr.Name, "/"), err)
	}
	if hdr.Typeflag == tar.TypeReg {
		if warn, err = w.writeContent(hdr, info, f, &e); err != nil {
			return e, false, nil, err
		}
	}
	w.files++
	return e, false, joinWarn(warn, xwarn), nil
}

// newHeader fills hdr and makes the manifest entry with what every kind
// of entry has: name, permissions, owner and mtime. (hdr is the caller's
// so that it can stay on the stack: one allocation less per file.)
func newHeader(hdr *tar.Header, recName string, info fs.FileInfo) (*syscall.Stat_t, Entry) {
	m := info.Mode()
	// Whole seconds, as GNU tar's default format keeps them: a sub-second
	// mtime would need a PAX extended header (1 KiB more to format and
	// compress) for nearly every file. The manifest keeps the exact mtime.
	// With the format left open, archive/tar writes plain USTAR headers and
	// PAX records only where a name, link or value needs them.
	*hdr = tar.Header{Name: fstree.MemberName(recName), ModTime: info.ModTime().Truncate(time.Second), Mode: int64(m.Perm())}
	if m&fs.ModeSetuid != 0 {
		hdr.Mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		hdr.Mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		hdr.Mode |= 0o1000
	}
	var st *syscall.Stat_t
	if s, ok := info.Sys().(*syscall.Stat_t); ok {
		st = s
		hdr.Uid, hdr.Gid = int(s.Uid), int(s.Gid)
	}
	e := Entry{Kind: manifest.KindFile, Mtime: info.ModTime().UTC().Format(time.RFC3339Nano), Mode: fmt.Sprintf("%04o", hdr.Mode)}
	e.Path, e.PathB64 = records.EncodePath(recName)
	return st, e
}

// describe sets the entry's type in hdr and e. For a regular file that is
// not a further name of a hard link already in the bag, it opens the file
// (the caller closes it) and, when the file has holes, returns its data
// regions. skip is the reason the entry is left out.
func (w *Writer) describe(abs, recName string, info fs.FileInfo, st *syscall.Stat_t, hdr *tar.Header, e *Entry) (f srcFile, regs []region, skip error) {
	m := info.Mode()
	switch {
	case m.IsDir():
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		e.Type = "dir"
	case m&fs.ModeSymlink != 0:
		target, rerr := os.Readlink(abs)
		if rerr != nil {
			return nil, nil, rerr
		}
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = target
		e.Type = "symlink"
		e.Link, e.LinkB64 = records.EncodePath(target)
	case m&fs.ModeNamedPipe != 0:
		hdr.Typeflag = tar.TypeFifo
		e.Type = "fifo"
	case m&fs.ModeDevice != 0 && st != nil:
		hdr.Typeflag = tar.TypeBlock
		e.Type = "blockdev"
		if m&fs.ModeCharDevice != 0 {
			hdr.Typeflag = tar.TypeChar
			e.Type = "chardev"
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(uint64(st.Rdev))), int64(unix.Minor(uint64(st.Rdev)))
	case m.IsRegular():
		return w.describeRegular(abs, recName, info, st, hdr, e)
	default:
		return nil, nil, ErrNotArchived
	}
	return nil, nil, nil
}

// describeRegular is describe for a regular file: a hard link to a name
// already in the bag, or the file, opened.
func (w *Writer) describeRegular(abs, recName string, info fs.FileInfo, st *syscall.Stat_t, hdr *tar.Header, e *Entry) (f srcFile, regs []region, skip error) {
	if st != nil && st.Nlink > 1 {
		id := [2]uint64{uint64(st.Dev), st.Ino}
		e.Nlink, e.Inode = uint64(st.Nlink), fmt.Sprintf("%d:%d", st.Dev, st.Ino)
		if first, ok := w.links[id]; ok {
			hdr.Typeflag = tar.TypeLink
			hdr.Linkname = fstree.MemberName(first)
			e.Type = "hardlink"
			e.Link, e.LinkB64 = records.EncodePath(first)
			return nil, nil, nil
		}
	}
	rf, oerr := openRaw(abs)
	if oerr != nil {
		var pe *fs.PathError
		if errors.As(oerr, &pe) {
			oerr = pe.Err
		}
		return nil, nil, oerr
	}
	if st != nil && st.Nlink > 1 {
		w.links[[2]uint64{uint64(st.Dev), st.Ino}] = recName
	}
	hdr.Typeflag = tar.TypeReg
	hdr.Size = info.Size()
	e.Type = "file"
	e.Size = info.Size()
	// Fewer blocks than bytes: maybe holes. SEEK_DATA says where.
	if st != nil && st.Blocks*512 < info.Size() {
		regs = dataRegions(rf, info.Size())
	}
	return rf, regs, nil
}

// writeContent copies a regular file's bytes after its header: exactly
// hdr.Size of them, zero-padded when the file shrank or a read failed,
// and fills e's hash. warn says when the bytes are not the file as it was
// when the header was made.
func (w *Writer) writeContent(hdr *tar.Header, info fs.FileInfo, f srcFile, e *Entry) (warn, err error) {
	h := sha256.New()
	var src io.Reader = io.LimitReader(f, hdr.Size)
	if w.Progress != nil {
		src = &progressReader{r: src, progress: w.Progress}
	}
	n, rerr := io.CopyBuffer(io.MultiWriter(w.tw, h), src, w.buf)
	if rerr != nil && !isReadErr(rerr) {
		return nil, fmt.Errorf("write %s into bag: %w", hdr.Name, rerr)
	}
	if n < hdr.Size {
		// Shrunk or unreadable part way: pad so the tar stays valid.
		if err := padZeros(io.MultiWriter(w.tw, h), hdr.Size-n); err != nil {
			return nil, err
		}
		e.Changed = true
		if rerr != nil {
			warn = fmt.Errorf("read failed after %d of %d bytes (rest stored as zeros): %v", n, hdr.Size, rerr)
		} else {
			warn = fmt.Errorf("file shrank while it was read (%d of %d bytes; rest stored as zeros)", n, hdr.Size)
		}
	} else if changedWhileRead(f, info) {
		e.Changed = true
		warn = fmt.Errorf("file changed while it was read; the bag holds the first %d bytes as read", hdr.Size)
	}
	e.SHA256 = hex.EncodeToString(h.Sum(nil))
	w.bytes += hdr.Size
	if w.Progress != nil && n < hdr.Size {
		w.Progress(hdr.Size - n) // the zeros
	}
	return warn, nil
}

// padZeros writes n zero bytes to w.
func padZeros(w io.Writer, n int64) error {
	zero := make([]byte, min(n, 64<<10))
	for n > 0 {
		k := min(n, int64(len(zero)))
		if _, err := w.Write(zero[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// changedWhileRead reports whether f's size or mtime are no longer those
// of info, the Lstat result its entry was made from.
func changedWhileRead(f srcFile, info fs.FileInfo) bool {
	fi, err := f.Stat()
	return err == nil && (fi.Size() != info.Size() || !fi.ModTime().Equal(info.ModTime()))
}

// progressReader tells Writer.Progress what is read.
type progressReader struct {
	r        io.Reader
	progress func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.progress(int64(n))
	}
	return n, err
}

func isReadErr(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) || errors.Is(err, syscall.EIO)
}

// Close ends the tar stream and the compression and returns the bag's size
// and SHA-256 (of the bytes written to w).
func (w *Writer) Close() (size int64, sha string, err error) {
	if w.closed {
		return w.out.n, hex.EncodeToString(w.out.h.Sum(nil)), nil
	}
	w.closed = true
	if err := w.tw.Close(); err != nil {
		return 0, "", err
	}
	if w.zw != nil {
		if err := w.zbuf.Close(); err != nil {
			return 0, "", err
		}
		if err := w.zw.Close(); err != nil {
			return 0, "", err
		}
		w.zw = nil
	}
	if w.ew != nil {
		if err := w.ew.Close(); err != nil {
			return 0, "", err
		}
		w.ew = nil
	}
	return w.out.n, hex.EncodeToString(w.out.h.Sum(nil)), nil
}

// Files is the number of entries written; Bytes the size of the regular
// files among them. A sparse file counts its whole size, holes included,
// although the bag holds only its data (the manifest's data_bytes).
func (w *Writer) Files() int64 { return w.files }
func (w *Writer) Bytes() int64 { return w.bytes }
