package pack

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWaitForRoomWaitsForOwnBagsOnly(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "x_bag_000001.tar.zst")
	if err := os.WriteFile(a, make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	// A leftover of another run is not ours: it must not count.
	if err := os.WriteFile(filepath.Join(dir, "x_bag_000000.tar.zst"), make([]byte, 5000), 0o600); err != nil {
		t.Fatal(err)
	}
	staged := map[string]int64{a: 1000}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()

	// Room for the next bag: no wait.
	if err := waitForRoom(context.Background(), staged, w, 3000, 1000, time.Millisecond, io.Discard); err != nil {
		t.Fatal(err)
	}
	// No room: returns only after gb-put removes the staged bag.
	done := make(chan error, 1)
	go func() { done <- waitForRoom(context.Background(), staged, w, 1500, 1000, time.Millisecond, io.Discard) }()
	select {
	case err := <-done:
		t.Fatalf("returned while the bound was exceeded: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	os.Remove(a)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWaitForRoomStopsWhenReaderGone(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "x_bag_000001.tar.zst")
	os.WriteFile(a, make([]byte, 1000), 0o600)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r.Close()
	err = waitForRoom(context.Background(), map[string]int64{a: 1000}, w, 1500, 1000, time.Millisecond, io.Discard)
	if err == nil {
		t.Fatal("waited with nobody reading")
	}
	if isPipe(io.Discard) {
		t.Fatal("io.Discard is not a pipe")
	}
	if !isPipe(w) {
		t.Fatal("os.Pipe is a pipe")
	}
}
