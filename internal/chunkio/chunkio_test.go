package chunkio

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"unsafe"
)

// recorder keeps the chunks it is given; it fails from chunk failAt on.
type recorder struct {
	chunks [][]byte
	failAt int
}

var errFull = errors.New("disk full")

func (r *recorder) Write(p []byte) (int, error) {
	if r.failAt > 0 && len(r.chunks)+1 >= r.failAt {
		return 0, errFull
	}
	if uintptr(unsafe.Pointer(&p[0]))%Align != 0 {
		return 0, errors.New("chunk not aligned")
	}
	r.chunks = append(r.chunks, append([]byte(nil), p...))
	return len(p), nil
}

// Whatever the sizes of the writes, the underlying writer gets the same
// bytes in whole, aligned chunks, and a short one only at the end.
func TestChunks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []int
	}{
		{"nothing", nil},
		{"one byte", []int{1}},
		{"exact chunks", []int{64, 64}},
		{"odd sizes", []int{1, 63, 65, 200, 7, 0, 129}},
		{"one large write", []int{1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r recorder
			w := NewWriter(&r, 64, 2)
			var want []byte
			for i, n := range tc.writes {
				p := bytes.Repeat([]byte{byte('a' + i)}, n)
				want = append(want, p...)
				if k, err := w.Write(p); k != n || err != nil {
					t.Fatalf("Write = %d, %v", k, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got := bytes.Join(r.chunks, nil)
			if !bytes.Equal(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
			for i, c := range r.chunks {
				if len(c) != 64 && i != len(r.chunks)-1 {
					t.Errorf("chunk %d of %d is %d bytes", i, len(r.chunks), len(c))
				}
			}
			if err := w.Close(); !errors.Is(err, os.ErrClosed) {
				t.Errorf("second Close = %v", err)
			}
			if _, err := w.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
				t.Errorf("Write after Close = %v", err)
			}
		})
	}
}

// The underlying writer's error stops the producer within a few chunks
// and is what Close returns.
func TestErrorReachesWriter(t *testing.T) {
	r := recorder{failAt: 2}
	w := NewWriter(&r, 64, 2)
	var err error
	writes := 0
	for ; writes < 100 && err == nil; writes++ {
		_, err = w.Write(make([]byte, 64))
	}
	if !errors.Is(err, errFull) {
		t.Errorf("Write = %v after %d writes, want %v", err, writes, errFull)
	}
	if writes > 6 {
		t.Errorf("%d writes before the error showed", writes)
	}
	if err := w.Close(); !errors.Is(err, errFull) {
		t.Errorf("Close = %v, want %v", err, errFull)
	}
}
