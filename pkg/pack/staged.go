package pack

import (
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// stagedFile writes a staged bag from a goroutine of its own, around the
// page cache (O_DIRECT) where the file system allows it.
//
// Why around the cache: a bag is tens of gigabytes written once and read
// once, by gb-put, long after its first gigabytes would have been
// evicted. Through the cache it costs the kernel a page per 4 KiB
// (allocated, copied into, written back, reclaimed), pushes out the
// user's working set, and builds up dirty pages that throttle every
// writer on the machine. On the benchmark VM, where a page the guest has
// not touched lately is expensive, the cached writes of a 1.5 GB bag cost
// 4-5 CPU-seconds against 0.5 for direct ones (docs/design.md, "Packing
// speed").
//
// Direct I/O wants the buffer, the file offset and the length aligned,
// so whole buffers of directChunk bytes go out as they are and only the
// last one's tail (under directAlign bytes) is written through the cache.
// A file system that refuses O_DIRECT (tmpfs before Linux 6.6, some FUSE
// file systems) or a write that it refuses with EINVAL falls back to
// ordinary writes for the rest of the file.
type stagedFile struct {
	f      *os.File
	direct bool // written only by the goroutine once started
	cur    []byte
	full   chan []byte
	free   chan []byte
	done   chan struct{}

	mu   sync.Mutex
	werr error // the goroutine's first write error

	writeFile func([]byte) (int, error) // f.Write; tests refuse writes with it

	closed bool
}

const (
	directAlign = 4096
	directChunk = 2 << 20
	directDepth = 3
)

// createStaged creates (or truncates) path for writing.
func createStaged(path string) (*stagedFile, error) {
	flags := os.O_CREATE | os.O_TRUNC | os.O_WRONLY
	direct := true
	f, err := os.OpenFile(path, flags|syscall.O_DIRECT, 0o600)
	if errors.Is(err, syscall.EINVAL) {
		direct = false
		f, err = os.OpenFile(path, flags, 0o600)
	}
	if err != nil {
		return nil, err
	}
	s := &stagedFile{f: f, direct: direct, full: make(chan []byte, directDepth), free: make(chan []byte, directDepth+1), done: make(chan struct{}), writeFile: f.Write}
	for i := 0; i <= directDepth; i++ {
		s.free <- alignedBuffer(directChunk)
	}
	s.cur = <-s.free
	go s.run()
	return s, nil
}

// alignedBuffer returns an empty slice of capacity size whose first byte
// sits on a directAlign boundary. (The Go heap never moves an object.)
func alignedBuffer(size int) []byte {
	b := make([]byte, size+directAlign)
	off := int(uintptr(unsafe.Pointer(&b[0])) & (directAlign - 1))
	if off != 0 {
		off = directAlign - off
	}
	return b[off : off : off+size]
}

func (s *stagedFile) run() {
	defer close(s.done)
	for b := range s.full {
		if s.failed() == nil {
			if err := s.write(b); err != nil {
				s.mu.Lock()
				s.werr = err
				s.mu.Unlock()
			}
		}
		s.free <- b[:0]
	}
}

func (s *stagedFile) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.werr
}

// write writes b whole. Only the last buffer of a file can have a length
// that is not a multiple of directAlign.
func (s *stagedFile) write(b []byte) error {
	for len(b) > 0 {
		k := len(b)
		if s.direct {
			k -= k % directAlign
			if k == 0 {
				if err := s.buffered(); err != nil {
					return err
				}
				continue
			}
		}
		n, err := s.writeFile(b[:k])
		b = b[n:]
		if err != nil {
			if s.direct && n == 0 && errors.Is(err, syscall.EINVAL) {
				if cerr := s.buffered(); cerr != nil {
					return err
				}
				continue
			}
			return err
		}
	}
	return nil
}

// buffered turns O_DIRECT off for the rest of the file.
func (s *stagedFile) buffered() error {
	rc, err := s.f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		var fl int
		fl, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0)
		if ferr == nil {
			_, ferr = unix.FcntlInt(fd, unix.F_SETFL, fl&^unix.O_DIRECT)
		}
	})
	if err == nil {
		err = ferr
	}
	if err == nil {
		s.direct = false
	}
	return err
}

// Write queues p. It reports an error the goroutine met on an earlier
// buffer, so a full disk stops packing within a few megabytes.
func (s *stagedFile) Write(p []byte) (int, error) {
	if s.closed {
		return 0, os.ErrClosed
	}
	if err := s.failed(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		k := copy(s.cur[len(s.cur):cap(s.cur)], p)
		s.cur = s.cur[:len(s.cur)+k]
		p = p[k:]
		if len(s.cur) == cap(s.cur) {
			s.full <- s.cur
			s.cur = <-s.free
		}
	}
	return n, nil
}

// Close writes what is queued and closes the file, reporting the first
// error of either.
func (s *stagedFile) Close() error {
	if s.closed {
		return os.ErrClosed
	}
	s.closed = true
	if len(s.cur) > 0 {
		s.full <- s.cur
		s.cur = nil
	}
	close(s.full)
	<-s.done
	err := s.failed()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Name is the file's path.
func (s *stagedFile) Name() string { return s.f.Name() }

var _ io.WriteCloser = (*stagedFile)(nil)
