// Package chunkio hands a stream to a writer in large chunks from a
// goroutine of its own, so producing the stream and writing it overlap.
// gb-pack uses it twice: between the tar writer and the compressor, and
// between the bag's checksum and the staged file (written with O_DIRECT,
// which wants whole, aligned buffers).
package chunkio

import (
	"io"
	"os"
	"sync"
	"unsafe"
)

// Align is the memory alignment of every chunk: a page, which is what
// O_DIRECT asks of a buffer on every Linux file system gb has met.
const Align = 4096

// Writer buffers what is written into chunks of a fixed size and writes
// each whole chunk to the underlying writer on its goroutine; only the
// last chunk, at Close, can be shorter.
type Writer struct {
	w    io.Writer
	cur  []byte
	full chan []byte
	free chan []byte
	done chan struct{}

	mu  sync.Mutex
	err error // the underlying writer's first error

	closed bool
}

// NewWriter starts a Writer onto w with depth chunks of chunk bytes
// queued at most.
func NewWriter(w io.Writer, chunk, depth int) *Writer {
	a := &Writer{w: w, full: make(chan []byte, depth), free: make(chan []byte, depth+1), done: make(chan struct{})}
	for i := 0; i <= depth; i++ {
		a.free <- alignedBuffer(chunk)
	}
	a.cur = <-a.free
	go a.run()
	return a
}

// alignedBuffer returns an empty slice of capacity size whose first byte
// sits on an Align boundary. (The Go heap never moves an object.)
func alignedBuffer(size int) []byte {
	b := make([]byte, size+Align)
	off := int(uintptr(unsafe.Pointer(&b[0])) & (Align - 1))
	if off != 0 {
		off = Align - off
	}
	return b[off : off : off+size]
}

func (a *Writer) run() {
	defer close(a.done)
	for b := range a.full {
		if a.failed() == nil {
			if _, err := a.w.Write(b); err != nil {
				a.mu.Lock()
				a.err = err
				a.mu.Unlock()
			}
		}
		a.free <- b[:0]
	}
}

func (a *Writer) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Write queues p. It reports an error the underlying writer returned for
// an earlier chunk, so a full disk stops the producer within a few chunks.
func (a *Writer) Write(p []byte) (int, error) {
	if a.closed {
		return 0, os.ErrClosed
	}
	if err := a.failed(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		k := copy(a.cur[len(a.cur):cap(a.cur)], p)
		a.cur = a.cur[:len(a.cur)+k]
		p = p[k:]
		if len(a.cur) == cap(a.cur) {
			a.full <- a.cur
			a.cur = <-a.free
		}
	}
	return n, nil
}

// Close writes what is queued, waits for the goroutine and reports the
// underlying writer's first error. It does not close the underlying
// writer.
func (a *Writer) Close() error {
	if a.closed {
		return os.ErrClosed
	}
	a.closed = true
	if len(a.cur) > 0 {
		a.full <- a.cur
		a.cur = nil
	}
	close(a.full)
	<-a.done
	return a.failed()
}
