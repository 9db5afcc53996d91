package pack

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/fstree"
)

// The read-ahead stays within its byte bound, gives every byte back as the
// packing walk passes the files, and never holds the packing walk up,
// whether it runs ahead of it or behind it.
func TestReadAheadBoundedAndDrained(t *testing.T) {
	defer func(b, m int64) { readAheadBytes, readAheadMaxFile = b, m }(readAheadBytes, readAheadMaxFile)
	readAheadBytes, readAheadMaxFile = 64<<10, 32<<10
	dir := t.TempDir()
	for i := range 60 {
		size := 10 << 10
		switch i % 10 {
		case 3:
			size = 0 // not read ahead
		case 7:
			size = 40 << 10 // above readAheadMaxFile: not read ahead
		}
		sub := filepath.Join(dir, fmt.Sprintf("d%d", i%4))
		os.MkdirAll(sub, 0o755)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%02d", i)), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	walk := func(visit fstree.VisitFunc) error { return fstree.Walk(dir, nil, visit) }
	for _, pace := range []time.Duration{0, time.Millisecond} {
		ra := startReadAhead(context.Background(), true, walk)
		maxAhead := int64(0)
		err := walk(func(p string, info fs.FileInfo, err error) error {
			if err != nil || !info.Mode().IsRegular() {
				return err
			}
			time.Sleep(pace) // 0: the packing walk outruns the read-ahead
			ra.mu.Lock()
			maxAhead = max(maxAhead, ra.ahead)
			ra.mu.Unlock()
			ra.consumed()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ra.stop()
		if ra.ahead != 0 || len(ra.queued) != 0 {
			t.Errorf("pace %v: %d bytes in %d files still counted ahead after the walk", pace, ra.ahead, len(ra.queued))
		}
		if maxAhead > readAheadBytes {
			t.Errorf("pace %v: %d bytes ahead, bound %d", pace, maxAhead, readAheadBytes)
		}
	}
	// Off: nothing runs, and its methods are safe.
	ra := startReadAhead(context.Background(), false, walk)
	ra.consumed()
	ra.stop()
}

// Cancelling the pack stops a read-ahead that waits for room.
func TestReadAheadStopsWhenCancelled(t *testing.T) {
	defer func(b int64) { readAheadBytes = b }(readAheadBytes)
	readAheadBytes = 1
	dir := t.TempDir()
	for i := range 5 {
		os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), []byte("data"), 0o644)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := startReadAhead(ctx, true, func(visit fstree.VisitFunc) error { return fstree.Walk(dir, nil, visit) })
	time.Sleep(10 * time.Millisecond)
	cancel()
	done := make(chan struct{})
	go func() { ra.stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("read-ahead did not stop")
	}
}
