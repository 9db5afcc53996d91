// Package storetest is the conformance suite every store.Store passes. It
// turns each clause of the contract in store.go into subtests, and pins
// down what that contract leaves open:
//
//   - Get with a range running past the end returns the bytes up to the
//     end (as S3 does); an offset past the end or a negative offset is an
//     error.
//   - Every error about a key names the key (quoted or not).
//   - Invalid keys give errors wrapping store.ErrInvalidKey.
//   - Put returns the object's description: the same key, size, class,
//     checksum and metadata that Head gives.
//
// Keys used never have one key as a folder of another ("a" and "a/b"):
// the local store cannot hold both, and gb never needs it.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/store"
)

// Harness gives the suite fresh stores and, when it can, moves their clock.
type Harness struct {
	// New returns an empty store for one subtest, cleaned up by t.
	New func(t *testing.T) store.Store
	// Advance moves forward the clock of the store New made for t. Nil for
	// stores whose clock cannot move (a real bucket): the subtests that
	// wait for a restore or its expiry are skipped then. The suite assumes
	// every tier's restore delay is at most MaxRestoreDelay.
	Advance func(t *testing.T, d time.Duration)
	// NoColdStorage, when set, says why the store cannot show Deep Archive
	// behaviour (versitygw stores every class as STANDARD); the subtests
	// that need it are skipped with this reason and must be covered by
	// another harness of the same store code.
	NoColdStorage string
}

// MaxRestoreDelay is the longest restore the suite waits for (S3 Deep
// Archive's Bulk tier takes up to 48 hours).
const MaxRestoreDelay = 72 * time.Hour

type test struct {
	name  string
	timed bool // needs Harness.Advance
	cold  bool // needs real cold storage
	run   func(t *testing.T, s store.Store, h Harness)
}

// Run runs the whole suite against the stores h makes.
func Run(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("storetest: Harness.New is nil")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.cold || tc.timed) && h.NoColdStorage != "" {
				t.Skip(h.NoColdStorage)
			}
			if tc.timed && h.Advance == nil {
				t.Skip("the store's clock cannot be moved (Harness.Advance is nil)")
			}
			tc.run(t, h.New(t), h)
		})
	}
}

var tests = []test{
	{name: "PutHeadGetRoundTrip", run: testRoundTrip},
	{name: "PutWithoutChecksum", run: testPutWithoutChecksum},
	{name: "EmptyObject", run: testEmptyObject},
	{name: "StorageClassKept", cold: true, run: testStorageClassKept},
	{name: "RangedGet", run: testRangedGet},
	{name: "PutNeverReplaces", run: testPutNeverReplaces},
	{name: "ChecksumMismatchStoresNothing", run: testChecksumMismatch},
	{name: "ShortBodyStoresNothing", run: testShortBody},
	{name: "CanceledPutStoresNothing", run: testCanceledPut},
	{name: "PutIsAtomic", run: testPutIsAtomic},
	{name: "ListOrderAndPrefix", run: testListOrderAndPrefix},
	{name: "ListDescribesObjects", cold: true, run: testListDescribes},
	{name: "ListStopsOnCallbackError", run: testListStops},
	{name: "DeleteIsIdempotent", run: testDelete},
	{name: "MissingObject", run: testMissing},
	{name: "InvalidKeysRejected", run: testInvalidKeys},
	{name: "ColdObjectIsFrozen", cold: true, run: testColdFrozen},
	{name: "RestoreWhileInProgress", cold: true, run: testRestoreInProgress},
	{name: "RestoreOfStandardIsNoOp", run: testRestoreStandard},
	{name: "RestoreMakesColdReadable", timed: true, run: testRestoreReadable},
	{name: "ExpiryRefreezes", timed: true, run: testExpiry},
	{name: "RestoreOfRestoredIsNotAnError", timed: true, run: testRestoreRestored},
	{name: "LargeObjectRoundTrip", run: testLarge},
	{name: "ProgressCountsEveryByte", run: testProgress},
	{name: "ConcurrentPutsOfDifferentKeys", run: testConcurrentKeys},
	{name: "ConcurrentPutsOfOneKey", cold: true, run: testConcurrentSameKey},
}

// ---- helpers

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func data(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	r.Read(b)
	return b
}

func put(t *testing.T, s store.Store, key string, b []byte, opts store.PutOptions) store.ObjectInfo {
	t.Helper()
	info, err := s.Put(context.Background(), key, bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func get(t *testing.T, s store.Store, key string, off, n int64) []byte {
	t.Helper()
	b, err := tryGet(s, key, off, n)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): %v", key, off, n, err)
	}
	return b
}

func tryGet(s store.Store, key string, off, n int64) ([]byte, error) {
	rc, err := s.Get(context.Background(), key, off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func head(t *testing.T, s store.Store, key string) store.ObjectInfo {
	t.Helper()
	info, err := s.Head(context.Background(), key)
	if err != nil {
		t.Fatalf("Head(%q): %v", key, err)
	}
	return info
}

func list(t *testing.T, s store.Store, prefix string) []store.ObjectInfo {
	t.Helper()
	var out []store.ObjectInfo
	if err := s.List(context.Background(), prefix, func(o store.ObjectInfo) error {
		out = append(out, o)
		return nil
	}); err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return out
}

func keys(t *testing.T, s store.Store, prefix string) []string {
	t.Helper()
	var ks []string
	for _, o := range list(t, s, prefix) {
		ks = append(ks, o.Key)
	}
	return ks
}

func restore(t *testing.T, s store.Store, key string, req store.RestoreRequest) {
	t.Helper()
	if err := s.Restore(context.Background(), key, req); err != nil {
		t.Fatalf("Restore(%q, %+v): %v", key, req, err)
	}
}

// wantErr checks that err wraps target and names key.
func wantErr(t *testing.T, what string, err, target error, key string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one wrapping %q", what, err, target)
	}
	if key != "" && !strings.Contains(err.Error(), key) {
		t.Errorf("%s: error %q does not name the key %q", what, err, key)
	}
}

func wantNotFound(t *testing.T, s store.Store, key string) {
	t.Helper()
	_, err := s.Head(context.Background(), key)
	wantErr(t, "Head of a key that should not exist", err, store.ErrNotFound, key)
	_, err = tryGet(s, key, 0, -1)
	wantErr(t, "Get of a key that should not exist", err, store.ErrNotFound, key)
}

func wantSame(t *testing.T, what string, got, want store.ObjectInfo) {
	t.Helper()
	if got.Key != want.Key || got.Size != want.Size || got.StorageClass != want.StorageClass ||
		got.SHA256 != want.SHA256 || !mapsEqual(got.Metadata, want.Metadata) {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// ---- round trips

func testRoundTrip(t *testing.T, s store.Store, _ Harness) {
	b := []byte("hello, deep archive\n")
	md := map[string]string{"gb-bag": "bag_000001", "gb-sha256": sum(b)}
	key := layout.BagKey(2025, "books", "bag_000001", false, false)
	info := put(t, s, key, b, store.PutOptions{StorageClass: store.Standard, SHA256: sum(b), Metadata: md})
	want := store.ObjectInfo{Key: key, Size: int64(len(b)), StorageClass: store.Standard, SHA256: sum(b), Metadata: md}
	wantSame(t, "Put's answer", info, want)
	if info.UploadedAt.IsZero() {
		t.Errorf("Put's answer has no UploadedAt")
	}
	h := head(t, s, key)
	wantSame(t, "Head", h, want)
	if h.UploadedAt.IsZero() {
		t.Errorf("Head has no UploadedAt")
	}
	if h.Restore.Requested {
		t.Errorf("Head of a fresh object: restore requested: %+v", h.Restore)
	}
	if !h.Readable(h.UploadedAt) {
		t.Errorf("a STANDARD object is not Readable")
	}
	if got := get(t, s, key, 0, -1); !bytes.Equal(got, b) {
		t.Errorf("Get = %q, want %q", got, b)
	}
}

func testPutWithoutChecksum(t *testing.T, s store.Store, _ Harness) {
	b := []byte("no checksum given")
	info := put(t, s, "k", b, store.PutOptions{})
	if info.StorageClass != store.Standard {
		t.Errorf("empty StorageClass stored as %q, want %q", info.StorageClass, store.Standard)
	}
	h := head(t, s, "k")
	if h.StorageClass != store.Standard {
		t.Errorf("Head: class %q, want %q", h.StorageClass, store.Standard)
	}
	if h.SHA256 != "" && h.SHA256 != sum(b) {
		t.Errorf("Head: SHA256 %q is neither unknown nor the body's %s", h.SHA256, sum(b))
	}
	if got := get(t, s, "k", 0, -1); !bytes.Equal(got, b) {
		t.Errorf("Get = %q, want %q", got, b)
	}
}

func testEmptyObject(t *testing.T, s store.Store, _ Harness) {
	put(t, s, "empty", nil, store.PutOptions{SHA256: sum(nil)})
	if h := head(t, s, "empty"); h.Size != 0 {
		t.Errorf("Head: size %d, want 0", h.Size)
	}
	if got := get(t, s, "empty", 0, -1); len(got) != 0 {
		t.Errorf("Get = %q, want nothing", got)
	}
}

func testStorageClassKept(t *testing.T, s store.Store, _ Harness) {
	for _, class := range []string{store.Standard, store.DeepArchive} {
		key := "class/" + class
		info := put(t, s, key, []byte(class), store.PutOptions{StorageClass: class})
		if info.StorageClass != class {
			t.Errorf("Put(%s): class %q", class, info.StorageClass)
		}
		if h := head(t, s, key); h.StorageClass != class {
			t.Errorf("Head(%s): class %q", class, h.StorageClass)
		}
	}
}

func testRangedGet(t *testing.T, s store.Store, _ Harness) {
	b := data(1, 100)
	put(t, s, "r", b, store.PutOptions{})
	for _, c := range []struct {
		off, n int64
		want   []byte
	}{
		{0, -1, b},
		{0, 100, b},
		{0, 1, b[:1]},
		{3, 4, b[3:7]},
		{42, -1, b[42:]},
		{99, 1, b[99:]},
		{99, -1, b[99:]},
		{10, 0, nil},
		{90, 20, b[90:]}, // past the end: cut at the end
	} {
		if got := get(t, s, "r", c.off, c.n); !bytes.Equal(got, c.want) {
			t.Errorf("Get(%d, %d): %d bytes, want %d (%x vs %x)", c.off, c.n, len(got), len(c.want), got, c.want)
		}
	}
	for _, off := range []int64{101, 1000, -1} {
		if _, err := tryGet(s, "r", off, 1); err == nil {
			t.Errorf("Get at offset %d of a 100-byte object: no error", off)
		}
	}
}

// ---- Put's guarantees

func testPutNeverReplaces(t *testing.T, s store.Store, _ Harness) {
	first := []byte("first")
	put(t, s, "once", first, store.PutOptions{SHA256: sum(first)})
	for _, opts := range []store.PutOptions{
		{},
		{SHA256: sum([]byte("second"))},
		{StorageClass: store.DeepArchive},
	} {
		_, err := s.Put(context.Background(), "once", strings.NewReader("second"), 6, opts)
		wantErr(t, fmt.Sprintf("second Put %+v", opts), err, store.ErrExists, "once")
	}
	// Even the same bytes are refused: a Put is never a silent no-op.
	_, err := s.Put(context.Background(), "once", bytes.NewReader(first), int64(len(first)), store.PutOptions{SHA256: sum(first)})
	wantErr(t, "Put of identical bytes", err, store.ErrExists, "once")
	h := head(t, s, "once")
	if h.SHA256 != sum(first) || h.StorageClass != store.Standard || h.Size != int64(len(first)) {
		t.Errorf("Head after refused Puts: %+v", h)
	}
	if got := get(t, s, "once", 0, -1); !bytes.Equal(got, first) {
		t.Errorf("Get after refused Puts = %q, want %q", got, first)
	}
}

func testChecksumMismatch(t *testing.T, s store.Store, _ Harness) {
	b := []byte("the real bytes")
	for _, class := range []string{store.Standard, store.DeepArchive} {
		key := "bad/" + class
		_, err := s.Put(context.Background(), key, bytes.NewReader(b), int64(len(b)),
			store.PutOptions{StorageClass: class, SHA256: sum([]byte("other bytes"))})
		wantErr(t, "Put with a wrong SHA256", err, store.ErrChecksum, key)
		wantNotFound(t, s, key)
		// Nothing half-stored blocks a correct retry.
		put(t, s, key, b, store.PutOptions{StorageClass: class, SHA256: sum(b)})
	}
	if ks := keys(t, s, ""); !slices.Equal(ks, []string{"bad/DEEP_ARCHIVE", "bad/STANDARD"}) {
		t.Errorf("List = %q", ks)
	}
}

func testShortBody(t *testing.T, s store.Store, _ Harness) {
	_, err := s.Put(context.Background(), "short", strings.NewReader("12345"), 10, store.PutOptions{})
	if err == nil {
		t.Fatalf("Put of 10 bytes from a 5-byte body: no error")
	}
	wantNotFound(t, s, "short")
	if ks := keys(t, s, ""); len(ks) != 0 {
		t.Errorf("List after a failed Put = %q", ks)
	}
}

func testCanceledPut(t *testing.T, s store.Store, _ Harness) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := data(2, 1<<20)
	if _, err := s.Put(ctx, "canceled", bytes.NewReader(b), int64(len(b)), store.PutOptions{}); err == nil {
		t.Fatalf("Put with a canceled context: no error")
	}
	wantNotFound(t, s, "canceled")
	put(t, s, "canceled", b, store.PutOptions{})
}

// gate is a body whose second half is readable only once opened, so the
// test can look at the store while a Put is half done.
type gate struct {
	b       []byte
	reached chan struct{}
	open    chan struct{}
	once    sync.Once
}

func (g *gate) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > int64(len(g.b)/2) {
		g.once.Do(func() { close(g.reached) })
		<-g.open
	}
	return bytes.NewReader(g.b).ReadAt(p, off)
}

func testPutIsAtomic(t *testing.T, s store.Store, _ Harness) {
	b := data(3, 4<<20)
	g := &gate{b: b, reached: make(chan struct{}), open: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(context.Background(), "atomic", g, int64(len(b)), store.PutOptions{StorageClass: store.Standard, SHA256: sum(b)})
		done <- err
	}()
	select {
	case <-g.reached:
	case err := <-done:
		t.Fatalf("Put finished without reading the second half of its body: %v", err)
	case <-time.After(time.Minute):
		close(g.open)
		t.Fatalf("Put never read the second half of its body")
	}
	wantNotFound(t, s, "atomic")
	if ks := keys(t, s, ""); len(ks) != 0 {
		t.Errorf("List during a Put = %q", ks)
	}
	close(g.open)
	if err := <-done; err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got := get(t, s, "atomic", 0, -1); !bytes.Equal(got, b) {
		t.Errorf("Get after Put: %d bytes, sha %s; want %d, %s", len(got), sum(got), len(b), sum(b))
	}
}

// ---- List

func testListOrderAndPrefix(t *testing.T, s store.Store, _ Harness) {
	// Byte order of whole keys puts "a-c" and "a.x" ('-' and '.') before
	// "a/b" ('/') and "a0" after it: a store walking folders must not
	// list a folder's contents just because the folder name sorts first.
	all := []string{"a-c", "a.x", "a/b", "a/c/d", "a/c/e", "a0", "ab/x", "b", "bz", "é"}
	for _, i := range rand.New(rand.NewPCG(4, 4)).Perm(len(all)) {
		put(t, s, all[i], []byte(all[i]), store.PutOptions{})
	}
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"", all},
		{"a", []string{"a-c", "a.x", "a/b", "a/c/d", "a/c/e", "a0", "ab/x"}},
		{"a/", []string{"a/b", "a/c/d", "a/c/e"}},
		{"a/c", []string{"a/c/d", "a/c/e"}},
		{"a/c/", []string{"a/c/d", "a/c/e"}},
		{"a/c/d", []string{"a/c/d"}},
		{"a/b", []string{"a/b"}},
		{"ab", []string{"ab/x"}},
		{"b", []string{"b", "bz"}},
		{"zz", nil},
		{"a/b/", nil},
		{"/", nil},
	} {
		if got := keys(t, s, c.prefix); !slices.Equal(got, c.want) {
			t.Errorf("List(%q) = %q, want %q", c.prefix, got, c.want)
		}
	}
}

func testListDescribes(t *testing.T, s store.Store, _ Harness) {
	put(t, s, "d/cold", []byte("cold bytes"), store.PutOptions{StorageClass: store.DeepArchive, Metadata: map[string]string{"gb-bag": "bag_000007"}})
	put(t, s, "d/hot", []byte("hot"), store.PutOptions{StorageClass: store.Standard})
	restore(t, s, "d/cold", store.RestoreRequest{Days: 2})
	got := list(t, s, "d/")
	if len(got) != 2 {
		t.Fatalf("List = %+v, want 2 objects", got)
	}
	for i, want := range []store.ObjectInfo{
		{Key: "d/cold", Size: 10, StorageClass: store.DeepArchive},
		{Key: "d/hot", Size: 3, StorageClass: store.Standard},
	} {
		o := got[i]
		if o.Key != want.Key || o.Size != want.Size || o.StorageClass != want.StorageClass || o.UploadedAt.IsZero() {
			t.Errorf("List[%d] = %+v, want key %q size %d class %s and an upload time", i, o, want.Key, want.Size, want.StorageClass)
		}
	}
	if !got[0].Restore.Requested {
		t.Errorf("List does not show the restore requested for d/cold: %+v", got[0].Restore)
	}
	if got[1].Restore.Requested {
		t.Errorf("List shows a restore for STANDARD d/hot: %+v", got[1].Restore)
	}
}

func testListStops(t *testing.T, s store.Store, _ Harness) {
	for _, k := range []string{"s/1", "s/2", "s/3"} {
		put(t, s, k, []byte(k), store.PutOptions{})
	}
	stop := errors.New("stop here")
	var seen []string
	err := s.List(context.Background(), "s/", func(o store.ObjectInfo) error {
		seen = append(seen, o.Key)
		if o.Key == "s/2" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("List returned %v, want the callback's error", err)
	}
	if !slices.Equal(seen, []string{"s/1", "s/2"}) {
		t.Errorf("List went on after the callback failed: saw %q", seen)
	}
}

// ---- Delete and missing objects

func testDelete(t *testing.T, s store.Store, _ Harness) {
	ctx := context.Background()
	put(t, s, "del/x", []byte("x"), store.PutOptions{StorageClass: store.DeepArchive})
	put(t, s, "del/y", []byte("y"), store.PutOptions{})
	for i := range 2 {
		if err := s.Delete(ctx, "del/x"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	if err := s.Delete(ctx, "never/was"); err != nil {
		t.Errorf("Delete of a key never stored: %v", err)
	}
	wantNotFound(t, s, "del/x")
	if ks := keys(t, s, ""); !slices.Equal(ks, []string{"del/y"}) {
		t.Errorf("List after Delete = %q", ks)
	}
	// A deleted key is free again, with new bytes and a new class.
	put(t, s, "del/x", []byte("new"), store.PutOptions{StorageClass: store.Standard})
	if got := get(t, s, "del/x", 0, -1); string(got) != "new" {
		t.Errorf("Get after re-Put = %q", got)
	}
}

func testMissing(t *testing.T, s store.Store, _ Harness) {
	put(t, s, "here/x", []byte("x"), store.PutOptions{})
	for _, key := range []string{"nothing", "here", "here/x/y", "here/y"} {
		wantNotFound(t, s, key)
		err := s.Restore(context.Background(), key, store.RestoreRequest{})
		wantErr(t, "Restore of a missing key", err, store.ErrNotFound, key)
	}
}

func testInvalidKeys(t *testing.T, s store.Store, _ Harness) {
	ctx := context.Background()
	for _, key := range []string{"", "/abs", "a//b", "a/", "/", ".", "..", "./a", "a/./b", "a/../b", "a/..", "a\x00b", "bad\xffutf8", strings.Repeat("k", store.MaxKeyLen+1)} {
		_, err := s.Put(ctx, key, strings.NewReader("x"), 1, store.PutOptions{})
		wantErr(t, fmt.Sprintf("Put(%q)", key), err, store.ErrInvalidKey, "")
		_, err = s.Head(ctx, key)
		wantErr(t, fmt.Sprintf("Head(%q)", key), err, store.ErrInvalidKey, "")
		_, err = s.Get(ctx, key, 0, -1)
		wantErr(t, fmt.Sprintf("Get(%q)", key), err, store.ErrInvalidKey, "")
		err = s.Delete(ctx, key)
		wantErr(t, fmt.Sprintf("Delete(%q)", key), err, store.ErrInvalidKey, "")
		err = s.Restore(ctx, key, store.RestoreRequest{})
		wantErr(t, fmt.Sprintf("Restore(%q)", key), err, store.ErrInvalidKey, "")
	}
	if ks := keys(t, s, ""); len(ks) != 0 {
		t.Errorf("List after invalid Puts = %q", ks)
	}
	// The longest valid key works.
	long := strings.Repeat(strings.Repeat("k", 200)+"/", 5) + strings.Repeat("v", 19)
	if len(long) != store.MaxKeyLen {
		t.Fatalf("test key is %d bytes", len(long))
	}
	put(t, s, long, []byte("x"), store.PutOptions{})
	if got := get(t, s, long, 0, -1); string(got) != "x" {
		t.Errorf("Get of the longest key = %q", got)
	}
}

// ---- cold storage

func wantFrozen(t *testing.T, s store.Store, key string) {
	t.Helper()
	for _, r := range [][2]int64{{0, -1}, {1, 2}} {
		_, err := tryGet(s, key, r[0], r[1])
		wantErr(t, fmt.Sprintf("Get(%d, %d) of a frozen object", r[0], r[1]), err, store.ErrFrozen, key)
	}
}

func testColdFrozen(t *testing.T, s store.Store, _ Harness) {
	b := []byte("frozen bytes")
	put(t, s, "cold", b, store.PutOptions{StorageClass: store.DeepArchive, SHA256: sum(b)})
	h := head(t, s, "cold")
	if h.StorageClass != store.DeepArchive || h.Size != int64(len(b)) || h.SHA256 != sum(b) {
		t.Errorf("Head of a frozen object: %+v", h)
	}
	if h.Restore != (store.RestoreStatus{}) {
		t.Errorf("Head of a never-restored object: restore %+v", h.Restore)
	}
	if h.Readable(h.UploadedAt) {
		t.Errorf("a fresh DEEP_ARCHIVE object is Readable")
	}
	wantFrozen(t, s, "cold")
}

func testRestoreInProgress(t *testing.T, s store.Store, _ Harness) {
	put(t, s, "thaw", []byte("thawing"), store.PutOptions{StorageClass: store.DeepArchive})
	restore(t, s, "thaw", store.RestoreRequest{Days: 3, Tier: store.TierBulk})
	h := head(t, s, "thaw")
	if !h.Restore.Requested {
		t.Fatalf("Head after a restore request: %+v", h.Restore)
	}
	// Asking again, in any tier, while the first is under way is fine.
	restore(t, s, "thaw", store.RestoreRequest{Days: 3, Tier: store.TierBulk})
	restore(t, s, "thaw", store.RestoreRequest{})
	restore(t, s, "thaw", store.RestoreRequest{Days: 1, Tier: store.TierStandard})
	h = head(t, s, "thaw")
	if !h.Restore.Requested {
		t.Fatalf("Head after repeated requests: %+v", h.Restore)
	}
	if h.Restore.Ongoing {
		if !h.Restore.ExpiresAt.IsZero() {
			t.Errorf("an ongoing restore has an expiry: %+v", h.Restore)
		}
		wantFrozen(t, s, "thaw")
	} else if got := get(t, s, "thaw", 0, -1); string(got) != "thawing" {
		t.Errorf("Get of a restored object = %q", got)
	}
}

func testRestoreStandard(t *testing.T, s store.Store, _ Harness) {
	put(t, s, "hot", []byte("hot"), store.PutOptions{StorageClass: store.Standard})
	before := head(t, s, "hot")
	restore(t, s, "hot", store.RestoreRequest{Days: 1})
	restore(t, s, "hot", store.RestoreRequest{Tier: store.TierStandard})
	after := head(t, s, "hot")
	if after.Restore != (store.RestoreStatus{}) {
		t.Errorf("restore of STANDARD changed its restore status: %+v", after.Restore)
	}
	wantSame(t, "Head after restoring STANDARD", after, before)
	if !after.UploadedAt.Equal(before.UploadedAt) || after.ETag != before.ETag {
		t.Errorf("restore of STANDARD changed the object: %+v, was %+v", after, before)
	}
	if got := get(t, s, "hot", 0, -1); string(got) != "hot" {
		t.Errorf("Get = %q", got)
	}
}

// thaw requests a restore and waits until it is readable. days must
// outlast the wait, so it is at least thawDays.
func thaw(t *testing.T, s store.Store, h Harness, key string, days int) store.ObjectInfo {
	t.Helper()
	restore(t, s, key, store.RestoreRequest{Days: days})
	h.Advance(t, MaxRestoreDelay)
	info := head(t, s, key)
	r := info.Restore
	if !r.Requested || r.Ongoing || r.ExpiresAt.IsZero() {
		t.Fatalf("Head %s after a restore request: %+v", MaxRestoreDelay, r)
	}
	// S3 tells neither when a restore was asked for nor when it finished;
	// stores that know must be consistent.
	if !r.ReadyAt.IsZero() {
		if !r.RequestedAt.IsZero() && r.ReadyAt.Before(r.RequestedAt) {
			t.Errorf("restored copy ready at %v, before its request at %v", r.ReadyAt, r.RequestedAt)
		}
		if earliest := r.ReadyAt.Add(time.Duration(days)*24*time.Hour - time.Minute); r.ExpiresAt.Before(earliest) {
			t.Errorf("a %d-day restore expires at %v, ready at %v", days, r.ExpiresAt, r.ReadyAt)
		}
	}
	return info
}

// thawDays is the shortest restore that outlasts MaxRestoreDelay.
const thawDays = int(MaxRestoreDelay/(24*time.Hour)) + 1

func testRestoreReadable(t *testing.T, s store.Store, h Harness) {
	b := data(5, 1000)
	put(t, s, "deep", b, store.PutOptions{StorageClass: store.DeepArchive, SHA256: sum(b)})
	wantFrozen(t, s, "deep")
	thaw(t, s, h, "deep", thawDays)
	if got := get(t, s, "deep", 0, -1); !bytes.Equal(got, b) {
		t.Errorf("Get of the restored object: wrong bytes")
	}
	if got := get(t, s, "deep", 500, 10); !bytes.Equal(got, b[500:510]) {
		t.Errorf("ranged Get of the restored object: wrong bytes")
	}
	if l := list(t, s, "deep"); len(l) != 1 || !l[0].Restore.Requested || l[0].Restore.Ongoing {
		t.Errorf("List of the restored object: %+v", l)
	}
}

func testExpiry(t *testing.T, s store.Store, h Harness) {
	put(t, s, "exp", []byte("expiring"), store.PutOptions{StorageClass: store.DeepArchive})
	info := thaw(t, s, h, "exp", thawDays)
	// The copy was ready by now; S3 rounds expiry up to the next midnight
	// UTC, which a day more covers.
	h.Advance(t, time.Duration(thawDays+1)*24*time.Hour)
	wantFrozen(t, s, "exp")
	if r := head(t, s, "exp").Restore; r.Requested && !r.Ongoing && (r.ExpiresAt.IsZero() || r.ExpiresAt.After(info.Restore.ExpiresAt)) {
		t.Errorf("Head after expiry still shows a readable copy: %+v", r)
	}
	// A new request thaws it again.
	thaw(t, s, h, "exp", thawDays)
	if got := get(t, s, "exp", 0, -1); string(got) != "expiring" {
		t.Errorf("Get after a second restore = %q", got)
	}
}

func testRestoreRestored(t *testing.T, s store.Store, h Harness) {
	put(t, s, "again", []byte("again"), store.PutOptions{StorageClass: store.DeepArchive})
	first := thaw(t, s, h, "again", thawDays)
	restore(t, s, "again", store.RestoreRequest{Days: thawDays + 3})
	r := head(t, s, "again").Restore
	if !r.Requested || r.Ongoing {
		t.Errorf("a new request for a restored copy made it unreadable: %+v", r)
	}
	if r.ExpiresAt.Before(first.Restore.ExpiresAt) {
		t.Errorf("a longer request shortened the restored copy: expires %v, was %v", r.ExpiresAt, first.Restore.ExpiresAt)
	}
	if got := get(t, s, "again", 0, -1); string(got) != "again" {
		t.Errorf("Get = %q", got)
	}
}

// ---- size and concurrency

func testLarge(t *testing.T, s store.Store, _ Harness) {
	const n = 20 << 20
	b := data(6, n)
	info := put(t, s, "large/bag.tar", b, store.PutOptions{StorageClass: store.Standard, SHA256: sum(b)})
	if info.Size != n {
		t.Errorf("Put: size %d", info.Size)
	}
	rc, err := s.Get(context.Background(), "large/bag.tar", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	m, err := io.Copy(h, rc)
	rc.Close()
	if err != nil || m != n || hex.EncodeToString(h.Sum(nil)) != sum(b) {
		t.Errorf("Get: %d bytes, err %v, sha256 match %v", m, err, hex.EncodeToString(h.Sum(nil)) == sum(b))
	}
	off := int64(n - 3<<20 - 17)
	if got := get(t, s, "large/bag.tar", off, 2<<20); !bytes.Equal(got, b[off:off+2<<20]) {
		t.Errorf("ranged Get in the middle: wrong bytes")
	}
	if got := get(t, s, "large/bag.tar", n-5, -1); !bytes.Equal(got, b[n-5:]) {
		t.Errorf("ranged Get of the tail: wrong bytes")
	}
}

// Progress is told every byte of the body once, in pieces as it goes
// (gb-put's bars), for objects stored in one piece and in parts alike.
func testProgress(t *testing.T, s store.Store, _ Harness) {
	for _, n := range []int{100 << 10, 20 << 20} {
		b := data(uint64(n), n)
		var done, calls atomic.Int64
		key := fmt.Sprintf("progress/%d.tar", n)
		put(t, s, key, b, store.PutOptions{StorageClass: store.Standard, SHA256: sum(b),
			Progress: func(k int64) { done.Add(k); calls.Add(1) }})
		if done.Load() != int64(n) {
			t.Errorf("%d bytes: Progress was told %d", n, done.Load())
		}
		if n > 1<<20 && calls.Load() < 2 {
			t.Errorf("%d bytes: Progress was called %d times; want it as the body goes", n, calls.Load())
		}
	}
}

func testConcurrentKeys(t *testing.T, s store.Store, _ Harness) {
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("par/%02d/bag.tar", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := data(uint64(100+i), 64<<10+i)
			_, errs[i] = s.Put(context.Background(), want[i], bytes.NewReader(b), int64(len(b)),
				store.PutOptions{StorageClass: []string{store.Standard, store.DeepArchive}[i%2], SHA256: sum(b)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Put %s: %v", want[i], err)
		}
	}
	if got := keys(t, s, "par/"); !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
	for i := 0; i < n; i += 2 {
		if got := get(t, s, want[i], 0, -1); !bytes.Equal(got, data(uint64(100+i), 64<<10+i)) {
			t.Errorf("Get %s: wrong bytes", want[i])
		}
	}
}

func testConcurrentSameKey(t *testing.T, s store.Store, _ Harness) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	bodies := make([][]byte, n)
	for i := range n {
		bodies[i] = data(uint64(200+i), 256<<10)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Put(context.Background(), "race/bag.tar", bytes.NewReader(bodies[i]), int64(len(bodies[i])),
				store.PutOptions{StorageClass: store.DeepArchive, SHA256: sum(bodies[i]), Metadata: map[string]string{"writer": fmt.Sprint(i)}})
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("two Puts of one key both succeeded (%d and %d)", winner, i)
		case err == nil:
			winner = i
		default:
			wantErr(t, fmt.Sprintf("losing Put %d", i), err, store.ErrExists, "race/bag.tar")
		}
	}
	if winner < 0 {
		t.Fatalf("no Put succeeded")
	}
	h := head(t, s, "race/bag.tar")
	if h.SHA256 != sum(bodies[winner]) || h.Metadata["writer"] != fmt.Sprint(winner) || h.StorageClass != store.DeepArchive {
		t.Errorf("Head describes another writer than the winner %d: %+v", winner, h)
	}
}
