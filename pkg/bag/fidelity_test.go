package bag_test

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/bag"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// needTools skips without the stock tools a test compares against, but
// fails in CI, where scripts/test.sh installs them.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI: %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// xattrRoot is a fresh directory on a filesystem that takes user xattrs
// (t.TempDir, else one beside the test), with whether it takes POSIX ACLs
// too. ok is false when neither does: the tests then leave xattrs out.
func xattrRoot(t *testing.T) (dir string, ok, acls bool) {
	cands := []string{t.TempDir()}
	if d, err := os.MkdirTemp(".", ".xattr-test-"); err == nil {
		abs, _ := filepath.Abs(d)
		t.Cleanup(func() { os.RemoveAll(abs) })
		cands = append(cands, abs)
	}
	for _, d := range cands {
		p := filepath.Join(d, "probe")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			continue
		}
		err := unix.Setxattr(p, "user.gb-probe", []byte("1"), 0)
		aclErr := unix.Setxattr(p, "system.posix_acl_access", aclBytes(0o6, 0o4, 0o4, 1234, 0o4), 0)
		os.Remove(p)
		if err == nil {
			return d, true, aclErr == nil
		}
	}
	t.Logf("no directory here takes user xattrs (tried %v): xattrs are not tested", cands)
	return cands[0], false, false
}

// aclBytes is a POSIX access or default ACL in the kernel's xattr form
// (what setfacl writes): owner, group, other, and one named user with the
// mask.
func aclBytes(owner, group, other uint16, uid uint32, perm uint16) []byte {
	const undef = math.MaxUint32
	b := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range []struct {
		tag, perm uint16
		id        uint32
	}{{0x01, owner, undef}, {0x02, perm, uid}, {0x04, group, undef}, {0x10, perm | group, undef}, {0x20, other, undef}} {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return b
}

type span struct{ off, n int64 }

// sparseCase is a file made with truncate and writes at offsets, as
// `truncate -s; dd conv=notrunc seek=` would.
type sparseCase struct {
	name   string
	size   int64
	data   []span
	sparse bool // stored as a sparse entry
}

var sparseCases = []sparseCase{
	{"leading-hole", 4<<20 + 64<<10, []span{{4 << 20, 64 << 10}}, true},
	{"trailing-hole", 8 << 20, []span{{0, 64 << 10}}, true},
	{"several-holes", 6<<20 + 8<<10, []span{{0, 8 << 10}, {1 << 20, 12 << 10}, {3<<20 + 4<<10, 4 << 10}, {6 << 20, 8 << 10}}, true},
	{"no-data", 16 << 20, nil, true},
	{"unaligned", 3 << 20, []span{{1<<20 + 100, 5}, {2<<20 + 4000, 2000}}, true},
	{"big", 64 << 20, []span{{32 << 20, 1 << 20}}, true},
	{"dense", 256 << 10, []span{{0, 256 << 10}}, false},
	{"dense-empty", 0, nil, false},
	{"spärse ünïcödé", 2 << 20, []span{{1 << 20, 4 << 10}}, true},
	{"not utf-8 \xff\xfe", 2 << 20, []span{{0, 4 << 10}}, true},
	// Too long for a ustar name, even split: the hand-made header must
	// cut it, and tar must use GNU.sparse.name instead.
	{strings.Repeat("long", 30) + "/" + strings.Repeat("n", 130), 1 << 20, []span{{8 << 10, 4 << 10}}, true},
}

func makeSparse(t *testing.T, p string, c sparseCase) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(c.size); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.data {
		b := make([]byte, s.n)
		rand.Read(b)
		if _, err := f.WriteAt(b, s.off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

func blocks(t *testing.T, p string) int64 {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

// keptXattrs reads the attributes gb archives (user.*, ACLs) of p.
func keptXattrs(t *testing.T, p string) map[string]string {
	t.Helper()
	out := map[string]string{}
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		if errors.Is(err, syscall.ENOTSUP) {
			return out
		}
		t.Fatal(err)
	}
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if name == "" || !(strings.HasPrefix(name, "user.") || strings.HasPrefix(name, "system.posix_acl_")) {
			continue
		}
		v := make([]byte, 64<<10)
		k, err := unix.Lgetxattr(p, name, v)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(v[:k])
	}
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// A tree holding sparse files, xattrs and ACLs, hard links and a fifo,
// written into a bag (zstd and none), comes back from stock
// `zstd -d | tar --xattrs --xattrs-include='*' -xS`: the same content,
// modes, mtimes and attributes, holes still holes, links still links. Go's
// archive/tar reads the same bag back.
func TestFidelity(t *testing.T) {
	needTools(t, "tar", "zstd")
	root, xattrsOK, aclsOK := xattrRoot(t)
	src := filepath.Join(root, "src")
	setx := func(p, name string, v []byte) {
		t.Helper()
		if err := unix.Lsetxattr(p, name, v, 0); err != nil {
			t.Fatalf("setxattr %s %s: %v", p, name, err)
		}
	}
	for _, c := range sparseCases {
		makeSparse(t, filepath.Join(src, "sparse", c.name), c)
	}
	t1969 := time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)
	os.Chmod(filepath.Join(src, "sparse", "leading-hole"), 0o600)
	os.Chtimes(filepath.Join(src, "sparse", "leading-hole"), t1969, t1969)
	os.Chmod(filepath.Join(src, "sparse", "trailing-hole"), 0o4755)

	// Hard links: a and b go in this bag, c stands for a name in another.
	links := filepath.Join(src, "links")
	os.MkdirAll(links, 0o755)
	os.WriteFile(filepath.Join(links, "a"), []byte("one inode, three names\n"), 0o644)
	os.Link(filepath.Join(links, "a"), filepath.Join(links, "b"))
	os.Link(filepath.Join(links, "a"), filepath.Join(links, "c"))
	if err := syscall.Mkfifo(filepath.Join(src, "fifo"), 0o640); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(root, "sock")
	if l, err := net.Listen("unix", sock); err == nil {
		defer l.Close()
	}

	var xdir, xfile string
	if xattrsOK {
		xdir = filepath.Join(src, "xattr")
		xfile = filepath.Join(xdir, "tagged")
		os.MkdirAll(xdir, 0o755)
		os.WriteFile(xfile, []byte("tagged file\n"), 0o644)
		setx(xfile, "user.origin", []byte("https://example.com/a?b=c"))
		setx(xfile, "user.binary", []byte("\x00\x01\xff\n=\x00"))
		setx(xfile, "user.empty", nil)
		setx(xdir, "user.dir", []byte("a directory's tag"))
		setx(filepath.Join(src, "sparse", "several-holes"), "user.checksum", []byte("sha256:1234"))
		if os.Geteuid() == 0 {
			setx(xfile, "trusted.secret", []byte("root only: not archived"))
		}
		if aclsOK {
			setx(xfile, "system.posix_acl_access", aclBytes(0o6, 0o4, 0o0, 1234, 0o6))
			setx(xdir, "system.posix_acl_default", aclBytes(0o7, 0o5, 0o5, 4321, 0o7))
		}
	}
	// Directory mtimes last.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if d.IsDir() {
			os.Chtimes(p, old, old)
		}
		return nil
	})

	var paths []string
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if p != filepath.Join(links, "c") {
			paths = append(paths, p)
		}
		return nil
	})

	for _, compress := range []string{bag.Zstd, bag.None} {
		t.Run(compress, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := bag.NewWriter(&buf, compress)
			if err != nil {
				t.Fatal(err)
			}
			entries := map[string]bag.Entry{}
			var logical, data int64
			for _, p := range paths {
				info, err := os.Lstat(p)
				if err != nil {
					t.Fatal(err)
				}
				e, skipped, warn, err := w.Add(p, info)
				if err != nil || skipped || warn != nil {
					t.Fatalf("Add %s: skipped=%v warn=%v err=%v", p, skipped, warn, err)
				}
				entries[p] = e
				if e.Type == "file" {
					logical += e.Size
					data += e.Size
					if e.DataBytes != nil {
						data += *e.DataBytes - e.Size
					}
				}
			}
			if info, err := os.Lstat(sock); err == nil {
				if _, skipped, warn, _ := w.Add(sock, info); !skipped || !errors.Is(warn, bag.ErrNotArchived) {
					t.Errorf("socket: skipped=%v warn=%v, want skipped with ErrNotArchived", skipped, warn)
				}
			}
			if w.Bytes() != logical {
				t.Errorf("Bytes() = %d, want the files' whole sizes %d", w.Bytes(), logical)
			}
			size, _, err := w.Close()
			if err != nil {
				t.Fatal(err)
			}
			if compress == bag.None && size > data+int64(len(paths))*2048+10240 {
				t.Errorf("bag is %d bytes for %d bytes of data (%d with holes)", size, data, logical)
			}

			checkManifest(t, entries, src, links)
			checkGoReader(t, buf.Bytes(), compress, entries)

			dest := t.TempDir()
			cmd := exec.Command("sh", "-c", `zstd -d | tar --xattrs --xattrs-include='*' -xS -C "$1" -f -`, "sh", dest)
			if compress == bag.None {
				cmd = exec.Command("tar", "--xattrs", "--xattrs-include=*", "-xS", "-C", dest, "-f", "-")
			}
			cmd.Stdin = bytes.NewReader(buf.Bytes())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("stock tar: %v\n%s", err, out)
			}
			for _, p := range paths {
				compareRestored(t, p, filepath.Join(dest, p), entries[p])
			}
			// tar uses GNU.sparse.name: no GNUSparseFile.0 or PaxHeaders.0
			// directory appears.
			filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
				if strings.Contains(p, "GNUSparseFile") || strings.Contains(p, "PaxHeaders") {
					t.Errorf("stray member %s", p)
				}
				return nil
			})
			ra, _ := os.Stat(filepath.Join(dest, links, "a"))
			rb, _ := os.Stat(filepath.Join(dest, links, "b"))
			if !os.SameFile(ra, rb) {
				t.Errorf("restored links/a and links/b are not one file")
			}
			if xattrsOK {
				got := keptXattrs(t, filepath.Join(dest, xfile))
				if _, ok := got["trusted.secret"]; ok {
					t.Errorf("trusted.* was archived")
				}
			}
		})
	}
}

func checkManifest(t *testing.T, entries map[string]bag.Entry, src, links string) {
	t.Helper()
	for _, c := range sparseCases {
		p := filepath.Join(src, "sparse", c.name)
		e := entries[p]
		content, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if e.SHA256 != sha(content) || e.Size != c.size {
			t.Errorf("%s: manifest size %d sha %s, want the whole content's (%d bytes, zeros in holes)", c.name, e.Size, e.SHA256, c.size)
		}
		if e.Sparse != c.sparse {
			t.Errorf("%s: sparse = %v, want %v", c.name, e.Sparse, c.sparse)
			continue
		}
		if !c.sparse {
			if e.DataBytes != nil {
				t.Errorf("%s: data_bytes on a dense file", c.name)
			}
			continue
		}
		var want int64
		for _, s := range c.data {
			want += s.n
		}
		// The filesystem reports data in whole blocks.
		if e.DataBytes == nil || *e.DataBytes < want || *e.DataBytes > want+int64(len(c.data))*8192 {
			t.Errorf("%s: data_bytes %v, want about %d", c.name, e.DataBytes, want)
		}
	}
	a, b := entries[filepath.Join(links, "a")], entries[filepath.Join(links, "b")]
	if a.Type != "file" || b.Type != "hardlink" || a.Nlink != 3 || b.Nlink != 3 || a.Inode == "" || a.Inode != b.Inode {
		t.Errorf("hard links in the manifest: a %s nlink %d inode %q, b %s nlink %d inode %q", a.Type, a.Nlink, a.Inode, b.Type, b.Nlink, b.Inode)
	}
	for p, e := range entries {
		if p != filepath.Join(links, "a") && p != filepath.Join(links, "b") && (e.Nlink != 0 || e.Inode != "") {
			t.Errorf("%s: nlink/inode on a file with one name", p)
		}
		want := []string{}
		for name := range keptXattrs(t, p) {
			want = append(want, name)
		}
		sort.Strings(want)
		if e.Type == "hardlink" {
			want = []string{}
		}
		if strings.Join(want, ",") != strings.Join(e.Xattrs, ",") {
			t.Errorf("%s: manifest xattrs %q, want %q", p, e.Xattrs, want)
		}
	}
}

func checkGoReader(t *testing.T, b []byte, compress string, entries map[string]bag.Entry) {
	t.Helper()
	var r io.Reader = bytes.NewReader(b)
	if compress == bag.Zstd {
		dec, err := zstd.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		r = dec
	}
	tr := tar.NewReader(r)
	seen := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("archive/tar: %v", err)
		}
		p := "/" + strings.TrimSuffix(hdr.Name, "/")
		e, ok := entries[p]
		if !ok {
			t.Errorf("archive/tar: unexpected member %q", hdr.Name)
			continue
		}
		seen++
		if e.Type == "file" {
			got, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("archive/tar: read %s: %v", p, err)
			}
			if sha(got) != e.SHA256 || hdr.Size != e.Size {
				t.Errorf("archive/tar: %s reads back as %d bytes, sha %s; want %d, %s", p, hdr.Size, sha(got), e.Size, e.SHA256)
			}
			if hdr.ModTime.Unix() != mustLstat(t, p).ModTime().Unix() {
				t.Errorf("archive/tar: %s mtime %v", p, hdr.ModTime)
			}
		}
		for _, name := range e.Xattrs {
			if _, ok := hdr.PAXRecords["SCHILY.xattr."+name]; !ok {
				t.Errorf("archive/tar: %s lacks xattr %s", p, name)
			}
		}
	}
	if seen != len(entries) {
		t.Errorf("archive/tar read %d members, want %d", seen, len(entries))
	}
}

func mustLstat(t *testing.T, p string) fs.FileInfo {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func compareRestored(t *testing.T, orig, restored string, e bag.Entry) {
	t.Helper()
	o, r := mustLstat(t, orig), mustLstat(t, restored)
	if o.Mode() != r.Mode() {
		t.Errorf("%s: mode %v, want %v", restored, r.Mode(), o.Mode())
	}
	if o.ModTime().Unix() != r.ModTime().Unix() {
		t.Errorf("%s: mtime %v, want %v", restored, r.ModTime(), o.ModTime())
	}
	if o.Mode().IsRegular() {
		a, _ := os.ReadFile(orig)
		b, _ := os.ReadFile(restored)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: content differs", restored)
		}
		if e.Sparse {
			// The restored file holds about what the bag stored: its
			// data regions, rounded to whole blocks, and no more.
			if got := blocks(t, restored); got < *e.DataBytes || got > *e.DataBytes+64<<10 {
				t.Errorf("%s: %d bytes allocated after tar -xS, want about %d", restored, got, *e.DataBytes)
			}
		}
	}
	ox, rx := keptXattrs(t, orig), keptXattrs(t, restored)
	if len(ox) != len(rx) {
		t.Errorf("%s: xattrs %q, want %q", restored, keys(rx), keys(ox))
	}
	for k, v := range ox {
		if rx[k] != v {
			t.Errorf("%s: xattr %s = %q, want %q", restored, k, rx[k], v)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// A sparse file cut short between Lstat and the read is stored at the
// Lstat size, the rest as zeros, and the entry says Changed, with the hash
// of what the bag holds, as for an ordinary file.
func TestSparseChangedWhileRead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "shrinks")
	makeSparse(t, p, sparseCase{size: 8 << 20, data: []span{{1 << 20, 64 << 10}, {6 << 20, 64 << 10}}})
	before, _ := os.ReadFile(p)
	info := mustLstat(t, p)
	if err := os.Truncate(p, 1<<20+16<<10); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := bag.NewWriter(&buf, bag.None)
	e, skipped, warn, err := w.Add(p, info)
	if err != nil || skipped || warn == nil || !e.Changed || !e.Sparse {
		t.Fatalf("Add: skipped=%v warn=%v err=%v changed=%v sparse=%v", skipped, warn, err, e.Changed, e.Sparse)
	}
	w.Close()
	tr := tar.NewReader(&buf)
	hdr, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	want := append(before[:1<<20+16<<10:1<<20+16<<10], make([]byte, 8<<20-(1<<20+16<<10))...)
	if hdr.Size != 8<<20 || !bytes.Equal(got, want) || e.SHA256 != sha(got) {
		t.Fatalf("bag holds %d bytes (sha %s), manifest says %s", len(got), sha(got), e.SHA256)
	}
}

// xorCloser stands in for age: the bag's layers must all see the bytes of
// a sparse entry written by hand.
type xorCloser struct{ w io.Writer }

func (x xorCloser) Write(p []byte) (int, error) {
	q := make([]byte, len(p))
	for i, c := range p {
		q[i] = c ^ 0x5a
	}
	return x.w.Write(q)
}
func (x xorCloser) Close() error { return nil }

func TestSparseThroughEncryption(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sparse")
	makeSparse(t, p, sparseCase{size: 4 << 20, data: []span{{1 << 20, 8 << 10}}})
	content, _ := os.ReadFile(p)
	for _, compress := range []string{bag.None, bag.Zstd} {
		var buf bytes.Buffer
		w, err := bag.NewEncryptedWriter(&buf, compress, func(w io.Writer) (io.WriteCloser, error) { return xorCloser{w}, nil })
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := w.Add(p, mustLstat(t, p)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(buf.Bytes(), content[1<<20:1<<20+4096]) || bytes.Contains(buf.Bytes(), []byte("GNU.sparse")) {
			t.Fatalf("%s: sparse data or headers bypassed encryption", compress)
		}
		plain := bytes.Clone(buf.Bytes())
		for i := range plain {
			plain[i] ^= 0x5a
		}
		var r io.Reader = bytes.NewReader(plain)
		if compress == bag.Zstd {
			dec, err := zstd.NewReader(r)
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			r = dec
		}
		tr := tar.NewReader(r)
		if _, err := tr.Next(); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(tr)
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("%s: read back %d bytes, err %v", compress, len(got), err)
		}
	}
}
