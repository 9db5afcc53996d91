package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/gbarchive/gb/internal/s3test"
	"github.com/gbarchive/gb/pkg/store"
)

// Through a proxy that drops connections half way through parts and
// answers 503 and 500, PutOptions.Progress still adds up to the object's
// size exactly: parts sent again are not counted again.
func TestS3ProgressThroughFaults(t *testing.T) {
	faulty := s3test.NewFaulty(t, 3)
	s := newS3At(t, faulty.URL, store.S3Options{PartSize: 5 << 20, Parallel: 3})
	for i := range 3 {
		b := bytes.Repeat([]byte{byte(i + 1)}, 12<<20+i)
		sum := sha256.Sum256(b)
		var done atomic.Int64
		key := fmt.Sprintf("progress/%d.tar", i)
		if _, err := s.Put(context.Background(), key, bytes.NewReader(b), int64(len(b)),
			store.PutOptions{SHA256: hex.EncodeToString(sum[:]), Progress: func(n int64) { done.Add(n) }}); err != nil {
			t.Fatal(err)
		}
		if done.Load() != int64(len(b)) {
			t.Errorf("%s: Progress told %d bytes, want %d", key, done.Load(), len(b))
		}
	}
	t.Logf("faults injected: %v", faulty)
}
