//go:build !unix

package store

import "os"

// flock is a no-op where flock(2) does not exist: Local's mutex still
// serialises one process, but two processes sharing a store are unsafe.
func flock(*os.File) error { return nil }
