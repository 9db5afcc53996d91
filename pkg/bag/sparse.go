package bag

// Sparse files are written as PAX 1.0 sparse entries, by hand: archive/tar
// reads them but cannot write them, and it drops any PAX record whose key
// starts with "GNU.sparse." (golang/go#22735). An entry is, in order:
//
//   - a PAX extended header ('x') with GNU.sparse.major=1,
//     GNU.sparse.minor=0, GNU.sparse.name (the real member name) and
//     GNU.sparse.realsize (the file's size), plus the records a value that
//     does not fit the ustar header needs, and the xattrs;
//   - a ustar header for "<dir>/GNUSparseFile.0/<base>" (GNU tar and Go's
//     reader use GNU.sparse.name instead), whose size is the map block plus
//     the data;
//   - the map: the number of regions, then offset and size of each, in
//     decimal, one per line, zero-padded to a 512-byte block;
//   - the data regions back to back, padded to 512 bytes.
//
// GNU tar writes the same with `--format=pax --sparse-version=1.0 -S` and
// `tar -xS` (or plain -x) recreates the holes.

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxSparseRegions bounds the map held in memory for one file (about 40
// bytes a region). A file with more data regions than this is stored as an
// ordinary entry, holes as zeros.
var maxSparseRegions = 1 << 16

// region is one data region of a sparse file: n bytes from off.
type region struct{ off, n int64 }

// dataRegions finds the data regions of f, an open regular file of size
// bytes, with SEEK_DATA and SEEK_HOLE. It returns nil when the file holds no
// hole after all, when the system cannot tell, or when there are more than
// maxSparseRegions regions: the file is then stored as an ordinary entry.
// Like GNU tar, it ends a map whose file ends in a hole with the region
// (size, 0). f's offset is left at 0.
func dataRegions(f srcFile, size int64) []region {
	fd := int(f.Fd())
	defer unix.Seek(fd, 0, io.SeekStart)
	var regs []region
	off := int64(0)
	for off < size {
		d, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, syscall.ENXIO) || (err == nil && d >= size) {
			break // only a hole is left
		}
		if err != nil {
			return nil
		}
		h, err := unix.Seek(fd, d, unix.SEEK_HOLE)
		if err != nil || h <= d {
			return nil
		}
		h = min(h, size)
		if len(regs) == maxSparseRegions {
			return nil
		}
		regs = append(regs, region{d, h - d})
		off = h
	}
	if len(regs) == 1 && regs[0] == (region{0, size}) {
		return nil // no hole
	}
	if off < size || len(regs) == 0 {
		regs = append(regs, region{size, 0})
	}
	return regs
}

// tarOut is the writer archive/tar writes to (the innermost layer of the
// bag), where an entry written by hand goes. It must match what
// NewEncryptedWriter gives tar.NewWriter: the compressor's buffer, else the
// encryption, else the bag itself.
func (w *Writer) tarOut() io.Writer { return w.tin }

// Limits of ustar header fields (octal digits); larger values go in PAX
// records.
const (
	maxOctal7  = 1<<21 - 1 // uid, gid
	maxOctal11 = 1<<33 - 1 // size, mtime
)

// writeSparse writes a regular file as a PAX 1.0 sparse entry. hdr is
// the header archive/tar would have written (name, mode, owner, mtime,
// Size as the file's size, xattrs in PAXRecords), info the file's Lstat
// result.
// It fills e's hash, Sparse and DataBytes, and applies the same policy
// as an ordinary file to a file that changes while it is read.
func (w *Writer) writeSparse(hdr *tar.Header, info fs.FileInfo, f srcFile, regs []region, e *Entry) (warn, err error) {
	out := w.tarOut()
	// archive/tar pads the previous entry only when the next begins: do
	// it now, so that raw blocks can follow.
	if err := w.tw.Flush(); err != nil {
		return nil, err
	}
	m, data := sparseMap(regs)
	stored := int64(len(m)) + data
	for _, b := range append(sparseHeaders(hdr, stored), m) {
		if _, err := out.Write(b); err != nil {
			return nil, fmt.Errorf("write sparse entry for %s: %w", hdr.Name, err)
		}
	}
	h := sha256.New()
	short, rerr, err := w.copyRegions(io.MultiWriter(out, h), h, f, regs, hdr)
	if err != nil {
		return nil, err
	}
	if _, err := out.Write(make([]byte, padding(stored))); err != nil {
		return nil, err
	}
	e.SHA256 = hex.EncodeToString(h.Sum(nil))
	e.Sparse = true
	e.DataBytes = &data
	if short > 0 {
		e.Changed = true
		if rerr != nil {
			return fmt.Errorf("read failed part way (%d of %d data bytes stored as zeros): %v", short, data, rerr), nil
		}
		return fmt.Errorf("file shrank while it was read (%d of %d data bytes stored as zeros)", short, data), nil
	}
	if changedWhileRead(f, info) {
		e.Changed = true
		return fmt.Errorf("file changed while it was read; the bag holds its first %d bytes as read", hdr.Size), nil
	}
	return nil, nil
}

// sparseMap is the PAX 1.0 sparse map that begins the entry's data (the
// number of regions, then offset and length of each, one number a line,
// padded to a block), and the data bytes the regions hold.
func sparseMap(regs []region) (m []byte, data int64) {
	m = strconv.AppendInt(nil, int64(len(regs)), 10)
	m = append(m, '\n')
	for _, r := range regs {
		m = strconv.AppendInt(m, r.off, 10)
		m = append(m, '\n')
		m = strconv.AppendInt(m, r.n, 10)
		m = append(m, '\n')
		data += r.n
	}
	return append(m, make([]byte, padding(int64(len(m))))...), data
}

// sparseHeaders are the blocks before the sparse map: a PAX extended
// header (GNU.sparse.* records, hdr's own PAX records, and the values too
// large for ustar fields), its records, and the ustar header of an entry
// of stored bytes.
func sparseHeaders(hdr *tar.Header, stored int64) [][]byte {
	name := hdr.Name
	recs := map[string]string{
		"GNU.sparse.major":    "1",
		"GNU.sparse.minor":    "0",
		"GNU.sparse.name":     name,
		"GNU.sparse.realsize": strconv.FormatInt(hdr.Size, 10),
	}
	for k, v := range hdr.PAXRecords {
		recs[k] = v
	}
	uid, gid, size, mtime := int64(hdr.Uid), int64(hdr.Gid), stored, hdr.ModTime.Unix()
	if uid < 0 || uid > maxOctal7 {
		recs["uid"], uid = strconv.FormatInt(uid, 10), 0
	}
	if gid < 0 || gid > maxOctal7 {
		recs["gid"], gid = strconv.FormatInt(gid, 10), 0
	}
	if size > maxOctal11 {
		recs["size"], size = strconv.FormatInt(size, 10), 0
	}
	if mtime < 0 || mtime > maxOctal11 {
		recs["mtime"], mtime = strconv.FormatInt(mtime, 10), 0
	}
	keys := make([]string, 0, len(recs))
	for k := range recs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var px []byte
	for _, k := range keys {
		px = appendPAXRecord(px, k, recs[k])
	}

	dir, base := path.Split(name)
	var blk [512]byte
	ustarHeader(&blk, path.Join(dir, "PaxHeaders.0", base), 0o644, 0, 0, int64(len(px)), mtime, 'x')
	var sblk [512]byte
	ustarHeader(&sblk, path.Join(dir, "GNUSparseFile.0", base), hdr.Mode, uid, gid, size, mtime, tar.TypeReg)
	return [][]byte{blk[:], px, make([]byte, padding(int64(len(px)))), sblk[:]}
}

// copyRegions writes the file's data regions to dw (the bag and h) and
// hashes the holes between them into h, so that h is the hash of the
// whole file. A region cut short by a read error or a shrunk file is
// filled with zeros: short counts them, rerr is the read error. err is a
// failed write.
func (w *Writer) copyRegions(dw io.Writer, h hash.Hash, f srcFile, regs []region, hdr *tar.Header) (short int64, rerr, err error) {
	var pos int64 // logical offset hashed so far
	for _, r := range regs {
		hashZeros(h, r.off-pos)
		n := int64(0)
		if rerr == nil {
			src := &readErr{r: io.NewSectionReader(f, r.off, r.n)}
			var cerr error
			n, cerr = io.CopyBuffer(dw, src, w.buf)
			if cerr != nil && src.err == nil {
				return 0, nil, fmt.Errorf("write %s into bag: %w", hdr.Name, cerr)
			}
			rerr = src.err
		}
		if n < r.n {
			// Shrunk or unreadable part way: zeros keep the entry whole.
			if err := writeZeros(dw, r.n-n); err != nil {
				return 0, nil, err
			}
			short += r.n - n
		}
		pos = r.off + r.n
	}
	hashZeros(h, hdr.Size-pos)
	return short, rerr, nil
}

// readErr remembers the error of its reader, telling a failed read from a
// failed write.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// padding is how many zero bytes take n to a 512-byte boundary.
func padding(n int64) int64 { return -n & 511 }

// zeros is read-only: a source of zeros for hashing holes and padding.
var zeros = make([]byte, 256<<10)

func hashZeros(h io.Writer, n int64) {
	for n > 0 {
		k := min(n, int64(len(zeros)))
		h.Write(zeros[:k])
		n -= k
	}
}

func writeZeros(w io.Writer, n int64) error {
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := w.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// appendPAXRecord appends "%d %s=%s\n", the length counting itself.
func appendPAXRecord(b []byte, k, v string) []byte {
	n := len(k) + len(v) + 3 // space, '=', newline
	l := len(strconv.Itoa(n))
	if len(strconv.Itoa(n+l)) > l {
		l++
	}
	b = strconv.AppendInt(b, int64(n+l), 10)
	return append(append(append(append(append(b, ' '), k...), '='), v...), '\n')
}

// ustarHeader formats a POSIX ustar header block. Numbers must fit their
// octal fields (callers move larger ones to PAX records). A name longer
// than 100 bytes is split into prefix and name at a slash; if it cannot
// be, it is cut: only tars that ignore GNU.sparse.name (and the PAX
// header) ever see it.
func ustarHeader(b *[512]byte, name string, mode, uid, gid, size, mtime int64, typ byte) {
	*b = [512]byte{}
	prefix, n := splitUSTAR(name)
	copy(b[0:100], n)
	octal(b[100:108], mode)
	octal(b[108:116], uid)
	octal(b[116:124], gid)
	octal(b[124:136], size)
	octal(b[136:148], mtime)
	b[156] = typ
	copy(b[257:263], "ustar\x00")
	copy(b[263:265], "00")
	copy(b[345:500], prefix)
	copy(b[148:156], "        ")
	var sum int64
	for _, c := range b {
		sum += int64(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

// octal writes v as zero-padded octal digits followed by a NUL.
func octal(f []byte, v int64) {
	s := strconv.FormatInt(v, 8)
	copy(f, strings.Repeat("0", len(f)-1-len(s))+s)
	f[len(f)-1] = 0
}

func splitUSTAR(name string) (prefix, n string) {
	if len(name) <= 100 {
		return "", name
	}
	// The last slash that leaves a name of at most 100 bytes and a prefix
	// of at most 155.
	for i := len(name) - 1; i > 0 && len(name)-i-1 <= 100; i-- {
		if name[i] == '/' && i <= 155 && len(name)-i-1 > 0 {
			return name[:i], name[i+1:]
		}
	}
	base := path.Base(name)
	if len(base) > 100 {
		base = base[:100]
	}
	return "", base
}
