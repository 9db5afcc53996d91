package pack

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A staged file holds exactly the bytes written, whatever the sizes of
// the writes and of the whole (aligned, one byte over, a tail only).
func TestStagedFileContent(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, directAlign, directChunk, directChunk + 1, 3*directChunk + 12345, 5 * directChunk} {
		want := make([]byte, size)
		r := rand.New(rand.NewPCG(uint64(size), 7))
		for i := range want {
			want[i] = byte(r.Uint32())
		}
		p := filepath.Join(dir, "bag.partial")
		s, err := createStaged(p)
		if err != nil {
			t.Fatal(err)
		}
		if size == 0 {
			t.Logf("direct I/O on %s: %v", dir, s.f.direct)
		}
		for rest := want; len(rest) > 0; {
			k := min(len(rest), 1+r.IntN(3*directAlign+17))
			if r.IntN(50) == 0 {
				k = min(len(rest), directChunk+5)
			}
			n, err := s.Write(rest[:k])
			if err != nil || n != k {
				t.Fatalf("size %d: Write = %d, %v", size, n, err)
			}
			rest = rest[k:]
		}
		if err := s.Close(); err != nil {
			t.Fatalf("size %d: Close: %v", size, err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("size %d: file holds %d bytes, not what was written", size, len(got))
		}
		if err := s.Close(); !errors.Is(err, os.ErrClosed) {
			t.Errorf("second Close = %v, want os.ErrClosed", err)
		}
		if _, err := s.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
			t.Errorf("Write after Close = %v, want os.ErrClosed", err)
		}
	}
}

// A direct write the file system refuses with EINVAL is written through
// the cache instead, and the rest of the file too.
func TestStagedFileFallsBack(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bag.partial")
	s, err := createStaged(p)
	if err != nil {
		t.Fatal(err)
	}
	if !s.f.direct {
		s.Close()
		t.Skip("the file system refuses O_DIRECT at open; createStaged fell back there")
	}
	off := make([]byte, directAlign)
	for i := range off {
		off[i] = byte(i)
	}
	// Refuse the first direct write as a file system does that wants
	// another alignment (tmpfs takes any), so the fallback is exercised on
	// every file system.
	refused := false
	s.f.writeFile = func(b []byte) (int, error) {
		if !refused {
			refused = true
			return 0, syscall.EINVAL
		}
		return s.f.f.Write(b)
	}
	if n, err := s.f.Write(off); err != nil || n != len(off) {
		t.Fatalf("write = %d, %v", n, err)
	}
	if s.f.direct {
		t.Error("still direct after EINVAL")
	}
	if _, err := s.Write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if want := append(append([]byte{}, off...), "tail"...); !bytes.Equal(got, want) {
		t.Errorf("file holds %d bytes, want %d", len(got), len(want))
	}
}

// A write error (a full disk) reaches the writer: Write fails soon after
// it, and Close reports it.
func TestStagedFileFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	s, err := createStaged("/dev/full")
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, directChunk)
	var werr error
	for i := 0; i < 4*directDepth && werr == nil; i++ {
		_, werr = s.Write(chunk)
	}
	cerr := s.Close()
	if !errors.Is(cerr, syscall.ENOSPC) {
		t.Errorf("Close = %v, want ENOSPC", cerr)
	}
	if werr == nil {
		t.Errorf("Write went on after the disk was full (%d chunks)", 4*directDepth)
	} else if !errors.Is(werr, syscall.ENOSPC) {
		t.Errorf("Write = %v, want ENOSPC", werr)
	}
}
