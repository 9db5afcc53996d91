//go:build cgo

package bag

import (
	"io"
	"runtime"

	ddzstd "github.com/DataDog/zstd"
)

// newZstd compresses with the reference C library, built from source by
// cgo (no system package needed). At level 1 it is about three times as
// fast per core on text as the pure-Go encoder (zstd_purego.go), and that
// decides whether packing keeps pace with `tar | zstd -1 -T0`: measured in
// scripts/bench.sh, 0.68x with the Go encoder, about 1x with this one.
// Its worker threads compress while Go reads, hashes and formats the tar.
// Level 1's window (512 KiB) is far below what stock `zstd -d` accepts.
func newZstd(w io.Writer) (io.WriteCloser, error) {
	zw := ddzstd.NewWriterLevel(w, 1)
	if err := zw.SetNbWorkers(runtime.GOMAXPROCS(0)); err != nil {
		return nil, err
	}
	return zw, nil
}
