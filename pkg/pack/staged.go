package pack

import (
	"errors"
	"os"
	"syscall"

	"github.com/gbarchive/gb/internal/chunkio"
	"golang.org/x/sys/unix"
)

// stagedFile writes a staged bag from a goroutine of its own (chunkio),
// around the page cache (O_DIRECT) where the file system allows it.
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
// so whole chunks of directChunk bytes go out as they are and only the
// last one's tail (under directAlign bytes) is written through the cache.
// A file system that refuses O_DIRECT (tmpfs before Linux 6.6, some FUSE
// file systems) or a write that it refuses with EINVAL falls back to
// ordinary writes for the rest of the file.
type stagedFile struct {
	*chunkio.Writer
	f *directFile
}

const (
	directAlign = chunkio.Align
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
	df := &directFile{f: f, direct: direct, writeFile: f.Write}
	return &stagedFile{Writer: chunkio.NewWriter(df, directChunk, directDepth), f: df}, nil
}

// Close writes what is queued and closes the file, reporting the first
// error of either.
func (s *stagedFile) Close() error {
	err := s.Writer.Close()
	if cerr := s.f.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Name is the file's path.
func (s *stagedFile) Name() string { return s.f.f.Name() }

// directFile writes chunks to a file opened with O_DIRECT, or not.
type directFile struct {
	f         *os.File
	direct    bool
	writeFile func([]byte) (int, error) // f.Write; tests refuse writes with it
}

// Write writes b whole. Every chunk but the last is a multiple of
// directAlign long.
func (d *directFile) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		k := len(b)
		if d.direct {
			k -= k % directAlign
			if k == 0 {
				if err := d.buffered(); err != nil {
					return n - len(b), err
				}
				continue
			}
		}
		w, err := d.writeFile(b[:k])
		b = b[w:]
		if err != nil {
			if d.direct && w == 0 && errors.Is(err, syscall.EINVAL) {
				if cerr := d.buffered(); cerr != nil {
					return n - len(b), err
				}
				continue
			}
			return n - len(b), err
		}
	}
	return n, nil
}

// buffered turns O_DIRECT off for the rest of the file.
func (d *directFile) buffered() error {
	rc, err := d.f.SyscallConn()
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
		d.direct = false
	}
	return err
}
