package bag

import "io"

// asyncWriter hands data to w in large chunks from a goroutine of its own,
// so compressing, hashing and writing the bag overlap with reading,
// hashing and formatting the files that go into it.
type asyncWriter struct {
	w     io.Writer
	cur   []byte
	full  chan []byte
	free  chan []byte
	done  chan error
	err   error
	chunk int
}

func newAsyncWriter(w io.Writer, chunk, depth int) *asyncWriter {
	a := &asyncWriter{w: w, full: make(chan []byte, depth), free: make(chan []byte, depth+1), done: make(chan error, 1), chunk: chunk}
	for i := 0; i <= depth; i++ {
		a.free <- make([]byte, 0, chunk)
	}
	a.cur = <-a.free
	go a.run()
	return a
}

func (a *asyncWriter) run() {
	var err error
	for b := range a.full {
		if err == nil {
			_, err = a.w.Write(b)
		}
		a.free <- b[:0]
	}
	a.done <- err
}

func (a *asyncWriter) Write(p []byte) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	n := len(p)
	for len(p) > 0 {
		k := copy(a.cur[len(a.cur):a.chunk], p)
		a.cur = a.cur[:len(a.cur)+k]
		p = p[k:]
		if len(a.cur) == a.chunk {
			a.full <- a.cur
			a.cur = <-a.free
		}
	}
	return n, nil
}

// Close sends what is left and waits for the goroutine; it reports the
// first error the underlying writer returned.
func (a *asyncWriter) Close() error {
	if a.err != nil {
		return a.err
	}
	if len(a.cur) > 0 {
		a.full <- a.cur
		a.cur = nil
	}
	close(a.full)
	a.err = <-a.done
	if a.err == nil {
		a.err = errClosed
	}
	if a.err == errClosed {
		return nil
	}
	return a.err
}

var errClosed = io.ErrClosedPipe
