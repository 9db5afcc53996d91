//go:build !cgo

package bag

import (
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Encoders are reused from bag to bag: each one holds its block buffers,
// and building a fresh one per bag costs more than small bags do. (Not a
// sync.Pool: that drops its contents at every GC, which is exactly when
// a new encoder's buffers hurt.)
var encoders struct {
	sync.Mutex
	free []*zstd.Encoder
}

// encoder returns a zstd encoder tuned for bags: SpeedFastest, and large
// input sections compressed on every core at once (concurrent blocks, one
// more job than cores so the reader never waits for a slot) so
// compression keeps pace with reading. The 1 MiB window bounds memory
// (each section in flight holds a few windows) and keeps far below the
// 128 MiB that stock `zstd -d` accepts without --long or --memory flags.
func encoder() (*zstd.Encoder, error) {
	encoders.Lock()
	defer encoders.Unlock()
	if n := len(encoders.free); n > 0 {
		e := encoders.free[n-1]
		encoders.free = encoders.free[:n-1]
		return e, nil
	}
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)+1),
		zstd.WithConcurrentBlocks(true), zstd.WithWindowSize(1<<20))
}

// newZstd compresses in pure Go when cgo is off (no C compiler).
func newZstd(w io.Writer) (io.WriteCloser, error) {
	e, err := encoder()
	if err != nil {
		return nil, err
	}
	e.Reset(w)
	return &pooled{e}, nil
}

// pooled returns its encoder to the free list when closed.
type pooled struct{ *zstd.Encoder }

func (p *pooled) Close() error {
	err := p.Encoder.Close()
	p.Encoder.Reset(nil)
	encoders.Lock()
	encoders.free = append(encoders.free, p.Encoder)
	encoders.Unlock()
	return err
}
