package pack

import (
	"context"
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"github.com/gbarchive/gb/pkg/fstree"
)

// Read-ahead for remote sources. Over sshfs every open and every read is a
// round trip to the server, so packing files one after the other spends
// most of its time waiting (GNU tar through the same mount fares no
// better). sshfs answers several requests at once, so a few goroutines
// read the files the packing walk will come to next, and the mount's page
// cache (kernel_cache, pkg/remote) hands them to the packing read at memory
// speed. The bag is still written from the packing read alone: what is
// read ahead only warms the cache, so a file that changes in between is
// packed (and checked) as it is then.
// Variables, not constants, so tests can make them small.
var (
	readAheadWorkers       = 8
	readAheadBytes   int64 = 256 << 20 // read ahead of the packing walk at most
	readAheadMaxFile int64 = 16 << 20  // larger files stream well on their own
)

type readAhead struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	cond  *sync.Cond
	ahead int64 // bytes queued or read and not yet packed
	// Both walks number the regular files they visit; they visit the
	// same files in the same order. packed is the packing walk's count;
	// queued lists the files read ahead that it has not reached yet.
	packed int64
	queued []queuedFile
}

type queuedFile struct {
	seq, size int64
}

// startReadAhead starts reading ahead along walk (the packing walk's
// order) when on is set; otherwise it returns a read-ahead that does
// nothing.
func startReadAhead(ctx context.Context, on bool, walk func(fstree.VisitFunc) error) *readAhead {
	if !on {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	ra := &readAhead{cancel: cancel, done: make(chan struct{})}
	ra.cond = sync.NewCond(&ra.mu)
	files := make(chan string, readAheadWorkers)
	var wg sync.WaitGroup
	for range readAheadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			for p := range files {
				warm(p, buf)
			}
		}()
	}
	go func() {
		defer close(ra.done)
		defer wg.Wait()
		defer close(files)
		var seq int64
		walk(func(path string, info fs.FileInfo, err error) error {
			if err != nil || !info.Mode().IsRegular() {
				return ctx.Err()
			}
			seq++
			if info.Size() == 0 || info.Size() > readAheadMaxFile {
				return ctx.Err()
			}
			ra.mu.Lock()
			for ra.ahead > 0 && ra.ahead+info.Size() > readAheadBytes && ctx.Err() == nil {
				ra.cond.Wait()
			}
			if seq <= ra.packed {
				// The packing walk is there already: too late to help.
				ra.mu.Unlock()
				return ctx.Err()
			}
			ra.ahead += info.Size()
			ra.queued = append(ra.queued, queuedFile{seq, info.Size()})
			ra.mu.Unlock()
			select {
			case files <- path:
			case <-ctx.Done():
			}
			return ctx.Err()
		})
	}()
	// Wake the walk when the packing is cancelled or done.
	go func() {
		<-ctx.Done()
		ra.mu.Lock()
		ra.cond.Broadcast()
		ra.mu.Unlock()
	}()
	return ra
}

// warm reads a file through, for the page cache.
func warm(p string, buf []byte) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return
	}
	io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf)
	f.Close()
}

// consumed tells the read-ahead that the packing walk reached its next
// regular file, so the bytes read ahead for it are free.
func (ra *readAhead) consumed() {
	if ra == nil {
		return
	}
	ra.mu.Lock()
	defer ra.mu.Unlock()
	ra.packed++
	n := 0
	for n < len(ra.queued) && ra.queued[n].seq <= ra.packed {
		ra.ahead -= ra.queued[n].size
		n++
	}
	if n > 0 {
		ra.queued = ra.queued[n:]
		ra.cond.Broadcast()
	}
}

// stop ends the read-ahead and waits for its goroutines.
func (ra *readAhead) stop() {
	if ra == nil {
		return
	}
	ra.cancel()
	<-ra.done
}
