//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// flock takes an exclusive lock on f; closing f releases it. flock locks
// belong to the open file, so two Opens in one process exclude each other
// as two processes do.
func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
