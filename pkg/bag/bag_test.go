package bag_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/bag"
	"github.com/klauspost/compress/zstd"
)

// A file that changes between its stat and its read goes into the bag as
// exactly the stat size, and the entry says so, with the hash of what went in.
func TestChangedWhileRead(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name        string
		before      string
		after       string
		wantContent string
	}{
		{"shrank", "0123456789", "0123", "0123\x00\x00\x00\x00\x00\x00"},
		{"grew", "0123", "0123456789", "0123"},
		{"same size rewritten", "aaaa", "bbbb", "bbbb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(p, []byte(tc.before), 0o644); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Hour)
			os.Chtimes(p, old, old)
			info, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(tc.after), 0o644); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w, err := bag.NewWriter(&buf, bag.None)
			if err != nil {
				t.Fatal(err)
			}
			e, skipped, warn, err := w.Add(p, info)
			if err != nil || skipped {
				t.Fatalf("Add: skipped=%v err=%v", skipped, err)
			}
			if warn == nil || !e.Changed {
				t.Fatalf("want a warning and Changed, got warn=%v changed=%v", warn, e.Changed)
			}
			if _, _, err := w.Close(); err != nil {
				t.Fatal(err)
			}
			tr := tar.NewReader(&buf)
			hdr, err := tr.Next()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(tr)
			if string(got) != tc.wantContent || hdr.Size != int64(len(tc.before)) {
				t.Fatalf("bag holds %q (size %d), want %q", got, hdr.Size, tc.wantContent)
			}
			sum := sha256.Sum256(got)
			if e.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("manifest hash %s does not describe the bag's bytes", e.SHA256)
			}
		})
	}
}

// The whole-bag hash and size describe exactly the bytes written, and the
// zstd stream decodes with stock zstd when it is installed.
func TestBagHashAndStockZstd(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	os.WriteFile(p, bytes.Repeat([]byte("hello gb\n"), 10000), 0o644)
	info, _ := os.Lstat(p)
	var buf bytes.Buffer
	w, err := bag.NewWriter(&buf, bag.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := w.Add(p, info); err != nil {
		t.Fatal(err)
	}
	size, sum, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(buf.Bytes())
	if size != int64(buf.Len()) || sum != hex.EncodeToString(h[:]) {
		t.Fatalf("size/hash %d %s do not match the %d bytes written", size, sum, buf.Len())
	}
	dec, _ := zstd.NewReader(bytes.NewReader(buf.Bytes()))
	tr := tar.NewReader(dec)
	hdr, err := tr.Next()
	if err != nil || hdr.Size != info.Size() {
		t.Fatalf("tar in zstd: %v %v", hdr, err)
	}
	if _, err := exec.LookPath("zstd"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("zstd is required in CI")
		}
		t.Skip("zstd not installed")
	}
	cmd := exec.Command("sh", "-c", "zstd -d | tar -tvf -")
	cmd.Stdin = bytes.NewReader(buf.Bytes())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "f.txt") {
		t.Fatalf("stock zstd | tar: %v\n%s", err, out)
	}
}

// Progress is told every content byte, as files are read: big files in
// pieces, a shrunk file's zeros, a sparse file's holes.
func TestProgressCountsContent(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("b"), 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	shrunk := filepath.Join(dir, "shrunk")
	if err := os.WriteFile(shrunk, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("data"), 2<<20)
	f.Truncate(4 << 20)
	f.Close()
	var buf bytes.Buffer
	w, err := bag.NewWriter(&buf, bag.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	var done, calls int64
	w.Progress = func(n int64) { done += n; calls++ }
	for _, p := range []string{dir, big, shrunk, sparse} {
		info, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if p == shrunk {
			os.WriteFile(shrunk, []byte("0123"), 0o644)
		}
		if _, _, _, err := w.Add(p, info); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if want := int64(3<<20 + 10 + 4<<20); done != want || w.Bytes() != want {
		t.Fatalf("Progress told %d bytes, Bytes() %d, want %d", done, w.Bytes(), want)
	}
	if calls < 4 {
		t.Fatalf("Progress called %d times; want the big file in pieces", calls)
	}
}
