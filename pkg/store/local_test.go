package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/store"
	"github.com/gbarchive/gb/pkg/store/storetest"
)

var t0 = time.Date(2027, 1, 15, 2, 0, 0, 0, time.UTC)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newLocal(t *testing.T, opts store.LocalOptions) (*store.Local, *fakeClock) {
	t.Helper()
	c := &fakeClock{t: t0}
	if opts.Now == nil {
		opts.Now = c.Now
	}
	l, err := store.NewLocal(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

func TestLocalConformance(t *testing.T) {
	var clocks sync.Map // *testing.T → *fakeClock
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			l, c := newLocal(t, store.LocalOptions{})
			clocks.Store(t, c)
			return l
		},
		Advance: func(t *testing.T, d time.Duration) {
			c, ok := clocks.Load(t)
			if !ok {
				t.Fatal("Advance for a test that made no store")
			}
			c.(*fakeClock).Advance(d)
		},
	})
}

// The suite also runs where the clock cannot move.
func TestLocalConformanceFixedClock(t *testing.T) {
	storetest.Run(t, storetest.Harness{New: func(t *testing.T) store.Store {
		l, _ := newLocal(t, store.LocalOptions{})
		return l
	}})
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func data(key string, n int) []byte {
	var seed [32]byte
	copy(seed[:], key)
	b := make([]byte, n)
	rand.NewChaCha8(seed).Read(b)
	return b
}

func mustPut(t *testing.T, s store.Store, key string, b []byte, opts store.PutOptions) store.ObjectInfo {
	t.Helper()
	info, err := s.Put(context.Background(), key, bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func readAll(s store.Store, key string) ([]byte, error) {
	rc, err := s.Get(context.Background(), key, 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func listKeys(t *testing.T, s store.Store) []string {
	t.Helper()
	var ks []string
	if err := s.List(context.Background(), "", func(o store.ObjectInfo) error {
		ks = append(ks, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestLocalLayout(t *testing.T) {
	l, _ := newLocal(t, store.LocalOptions{})
	b := []byte("tar bytes")
	key := "gb/2027-backup/books_bag_000001.tar.zst"
	mustPut(t, l, key, b, store.PutOptions{StorageClass: store.DeepArchive, SHA256: sum(b), Metadata: map[string]string{"gb-bag": "bag_000001"}})

	// A person sees the object where the key says, with its bytes.
	got, err := os.ReadFile(filepath.Join(l.Dir(), "gb", "2027-backup", "books_bag_000001.tar.zst"))
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("object file: %q, %v", got, err)
	}
	fi, _ := os.Stat(filepath.Join(l.Dir(), filepath.FromSlash(key)))
	if fi.Mode().Perm()&0o222 != 0 {
		t.Errorf("object file is writable: %v", fi.Mode())
	}
	ents, _ := os.ReadDir(l.Dir())
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{".gb", "gb"}) {
		t.Errorf("store folder holds %q", names)
	}

	// The sidecar is JSON a person can read with jq.
	raw, err := os.ReadFile(filepath.Join(l.Dir(), ".gb", "meta", filepath.FromSlash(key)+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var sc map[string]any
	if err := json.Unmarshal(raw, &sc); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]any{"storage_class": "DEEP_ARCHIVE", "size": float64(len(b)), "sha256": sum(b),
		"uploaded_at": t0.Format(time.RFC3339), "metadata": map[string]any{"gb-bag": "bag_000001"}} {
		if fmt.Sprint(sc[field]) != fmt.Sprint(want) {
			t.Errorf("sidecar %s = %v, want %v", field, sc[field], want)
		}
	}
	if err := l.Restore(context.Background(), key, store.RestoreRequest{Days: 2, Tier: store.TierStandard}); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(filepath.Join(l.Dir(), ".gb", "meta", filepath.FromSlash(key)+".json"))
	if !bytes.Contains(raw, []byte(`"tier": "Standard"`)) || !bytes.Contains(raw, []byte(`"days": 2`)) ||
		!bytes.Contains(raw, []byte(`"requested_at": "2027-01-15T02:00:00Z"`)) {
		t.Errorf("sidecar after a restore request:\n%s", raw)
	}

	// Deleting the last object leaves no empty folders behind.
	if err := l.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{l.Dir(), filepath.Join(l.Dir(), ".gb", "meta")} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if e.Name() != ".gb" {
				t.Errorf("%s still holds %s after Delete", d, e.Name())
			}
		}
	}
	if l.String() != "file://"+l.Dir() {
		t.Errorf("String() = %q", l.String())
	}
}

func TestLocalLeftoversAreNotObjects(t *testing.T) {
	l, _ := newLocal(t, store.LocalOptions{})
	ctx := context.Background()
	// A Put killed while copying leaves a temp file; one killed after
	// writing the sidecar leaves a sidecar without its object.
	if err := os.WriteFile(filepath.Join(l.Dir(), ".gb", "tmp", "put-123"), []byte("half a bag"), 0o600); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(l.Dir(), ".gb", "meta", "2027-backup", "bag.tar.json")
	os.MkdirAll(filepath.Dir(meta), 0o755)
	if err := os.WriteFile(meta, []byte(`{"format":1,"storage_class":"DEEP_ARCHIVE","size":5,"sha256":"00"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if ks := listKeys(t, l); len(ks) != 0 {
		t.Errorf("List shows leftovers: %q", ks)
	}
	if _, err := l.Head(ctx, "2027-backup/bag.tar"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Head of a sidecar without object: %v", err)
	}
	if err := l.Restore(ctx, "2027-backup/bag.tar", store.RestoreRequest{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Restore of a sidecar without object: %v", err)
	}
	// The retry replaces the stale sidecar.
	b := []byte("the whole bag")
	mustPut(t, l, "2027-backup/bag.tar", b, store.PutOptions{SHA256: sum(b)})
	h, err := l.Head(ctx, "2027-backup/bag.tar")
	if err != nil || h.SHA256 != sum(b) || h.StorageClass != store.Standard || h.Size != int64(len(b)) {
		t.Errorf("Head after retry: %+v, %v", h, err)
	}
}

func TestLocalObjectWithoutSidecar(t *testing.T) {
	l, _ := newLocal(t, store.LocalOptions{})
	ctx := context.Background()
	path := filepath.Join(l.Dir(), "dropped", "by hand.txt")
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2020, 5, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(path, mtime, mtime)
	h, err := l.Head(ctx, "dropped/by hand.txt")
	if err != nil {
		t.Fatal(err)
	}
	if h.StorageClass != store.Standard || h.Size != 5 || h.SHA256 != "" || !h.UploadedAt.Equal(mtime) {
		t.Errorf("Head of an adopted file: %+v", h)
	}
	if got, err := readAll(l, "dropped/by hand.txt"); err != nil || string(got) != "hello" {
		t.Errorf("Get = %q, %v", got, err)
	}
	if ks := listKeys(t, l); !slices.Equal(ks, []string{"dropped/by hand.txt"}) {
		t.Errorf("List = %q", ks)
	}
	if _, err := l.Put(ctx, "dropped/by hand.txt", strings.NewReader("x"), 1, store.PutOptions{}); !errors.Is(err, store.ErrExists) {
		t.Errorf("Put over an adopted file: %v", err)
	}
	if err := l.Restore(ctx, "dropped/by hand.txt", store.RestoreRequest{}); err != nil {
		t.Errorf("Restore of an adopted file: %v", err)
	}
	if err := l.Delete(ctx, "dropped/by hand.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file still there after Delete: %v", err)
	}
}

func TestLocalRestoreTiming(t *testing.T) {
	l, c := newLocal(t, store.LocalOptions{})
	ctx := context.Background()
	key := "2027-backup/x.tar"
	mustPut(t, l, key, []byte("x"), store.PutOptions{StorageClass: store.DeepArchive})
	_, err := readAll(l, key)
	if !errors.Is(err, store.ErrFrozen) || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "request a restore first") {
		t.Errorf("Get of a frozen object: %v", err)
	}
	c.Advance(time.Hour)
	requested := c.Now()
	if err := l.Restore(ctx, key, store.RestoreRequest{}); err != nil {
		t.Fatal(err)
	}
	ready := requested.Add(5 * time.Minute) // Bulk by default
	want := store.RestoreStatus{Requested: true, Ongoing: true, ReadyAt: ready, Tier: store.TierBulk, RequestedAt: requested}
	c.Advance(5*time.Minute - time.Second)
	if h, _ := l.Head(ctx, key); h.Restore != want {
		t.Errorf("Head while thawing: %+v, want %+v", h.Restore, want)
	}
	_, err = readAll(l, key)
	if !errors.Is(err, store.ErrFrozen) || !strings.Contains(err.Error(), "still being restored") || !strings.Contains(err.Error(), key) {
		t.Errorf("Get while thawing: %v", err)
	}
	// A second request, even a faster tier, does not restart or speed it.
	if err := l.Restore(ctx, key, store.RestoreRequest{Tier: store.TierStandard, Days: 9}); err != nil {
		t.Fatal(err)
	}
	if h, _ := l.Head(ctx, key); h.Restore != want {
		t.Errorf("Head after a second request: %+v, want %+v", h.Restore, want)
	}
	c.Advance(time.Second)
	want.Ongoing, want.ExpiresAt = false, ready.Add(24*time.Hour) // 1 day by default
	h, _ := l.Head(ctx, key)
	if h.Restore != want || !h.Readable(c.Now()) {
		t.Errorf("Head once ready: %+v, want %+v", h.Restore, want)
	}
	if got, err := readAll(l, key); err != nil || string(got) != "x" {
		t.Errorf("Get once ready: %q, %v", got, err)
	}
	c.Advance(24*time.Hour - time.Second)
	if _, err := readAll(l, key); err != nil {
		t.Errorf("Get a second before expiry: %v", err)
	}
	c.Advance(time.Second)
	h, _ = l.Head(ctx, key)
	if h.Restore != (store.RestoreStatus{}) || h.Readable(c.Now()) {
		t.Errorf("Head at expiry: %+v", h.Restore)
	}
	if _, err := readAll(l, key); !errors.Is(err, store.ErrFrozen) {
		t.Errorf("Get at expiry: %v", err)
	}
	// Expired means a new request, with a new wait.
	if err := l.Restore(ctx, key, store.RestoreRequest{Tier: store.TierStandard, Days: 3}); err != nil {
		t.Fatal(err)
	}
	if h, _ := l.Head(ctx, key); !h.Restore.Ongoing || !h.Restore.ReadyAt.Equal(c.Now().Add(2*time.Minute)) {
		t.Errorf("Head after a new request: %+v", h.Restore)
	}
}

func TestLocalRestoreExtends(t *testing.T) {
	l, c := newLocal(t, store.LocalOptions{RestoreDelay: map[string]time.Duration{store.TierBulk: 0}, RestoreDays: 2})
	ctx := context.Background()
	mustPut(t, l, "k", []byte("k"), store.PutOptions{StorageClass: store.DeepArchive})
	if err := l.Restore(ctx, "k", store.RestoreRequest{}); err != nil {
		t.Fatal(err)
	}
	h, _ := l.Head(ctx, "k")
	if h.Restore.Ongoing || !h.Restore.ExpiresAt.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("zero-delay restore with RestoreDays 2: %+v", h.Restore)
	}
	c.Advance(24 * time.Hour)
	if err := l.Restore(ctx, "k", store.RestoreRequest{Days: 3}); err != nil {
		t.Fatal(err)
	}
	h, _ = l.Head(ctx, "k")
	if !h.Restore.ExpiresAt.Equal(c.Now().Add(72 * time.Hour)) {
		t.Errorf("extended expiry %v, want %v", h.Restore.ExpiresAt, c.Now().Add(72*time.Hour))
	}
	// A shorter request never shortens it.
	if err := l.Restore(ctx, "k", store.RestoreRequest{Days: 1}); err != nil {
		t.Fatal(err)
	}
	if h2, _ := l.Head(ctx, "k"); !h2.Restore.ExpiresAt.Equal(h.Restore.ExpiresAt) {
		t.Errorf("shorter request moved expiry to %v", h2.Restore.ExpiresAt)
	}
}

func TestLocalRestoreTiers(t *testing.T) {
	l, c := newLocal(t, store.LocalOptions{RestoreDelay: map[string]time.Duration{store.TierStandard: 12 * time.Hour}})
	ctx := context.Background()
	mustPut(t, l, "deep", []byte("d"), store.PutOptions{StorageClass: store.DeepArchive})
	mustPut(t, l, "glacier", []byte("g"), store.PutOptions{StorageClass: "GLACIER"})
	err := l.Restore(ctx, "deep", store.RestoreRequest{Tier: store.TierExpedited})
	if err == nil || !strings.Contains(err.Error(), "deep") {
		t.Errorf("Expedited restore of DEEP_ARCHIVE: %v", err)
	}
	if err := l.Restore(ctx, "deep", store.RestoreRequest{Tier: "Fast"}); err == nil {
		t.Errorf("restore in an unknown tier: no error")
	}
	if err := l.Restore(ctx, "deep", store.RestoreRequest{Tier: store.TierStandard}); err != nil {
		t.Fatal(err)
	}
	if err := l.Restore(ctx, "glacier", store.RestoreRequest{Tier: store.TierExpedited}); err != nil {
		t.Fatal(err)
	}
	for key, delay := range map[string]time.Duration{"deep": 12 * time.Hour, "glacier": time.Minute} {
		if h, _ := l.Head(ctx, key); !h.Restore.ReadyAt.Equal(c.Now().Add(delay)) {
			t.Errorf("%s: ready at %v, want %v later", key, h.Restore.ReadyAt, delay)
		}
	}
	for _, opts := range []store.LocalOptions{
		{RestoreDelay: map[string]time.Duration{"Quick": time.Second}},
		{RestoreDelay: map[string]time.Duration{store.TierBulk: -time.Second}},
		{RestoreDays: -1},
	} {
		if _, err := store.NewLocal(t.TempDir(), opts); err == nil {
			t.Errorf("NewLocal(%+v): no error", opts)
		}
	}
}

func TestLocalPutChecks(t *testing.T) {
	l, _ := newLocal(t, store.LocalOptions{})
	ctx := context.Background()
	put := func(key string, opts store.PutOptions) error {
		_, err := l.Put(ctx, key, strings.NewReader("x"), 1, opts)
		return err
	}
	for _, c := range []struct {
		key  string
		opts store.PutOptions
	}{
		{"class", store.PutOptions{StorageClass: "DEEP_ARCHIV"}},
		{"sha", store.PutOptions{SHA256: "abc"}},
		{"big-meta", store.PutOptions{Metadata: map[string]string{"k": strings.Repeat("v", 2048)}}},
		{"utf8-meta", store.PutOptions{Metadata: map[string]string{"source": "/home/greenc/Bücher"}}},
		{"bad-meta-key", store.PutOptions{Metadata: map[string]string{"a b": "v"}}},
		{"dup-meta-key", store.PutOptions{Metadata: map[string]string{"A": "1", "a": "2"}}},
	} {
		err := put(c.key, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("Put %+v: %v", c.opts, err)
		}
		if _, err := l.Head(ctx, c.key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Head after refused Put %s: %v", c.key, err)
		}
	}
	// Uppercase checksums are the same checksum; metadata keys fold to
	// lowercase, as S3 folds them.
	info, err := l.Put(ctx, "ok", strings.NewReader("x"), 1, store.PutOptions{SHA256: strings.ToUpper(sum([]byte("x"))), Metadata: map[string]string{"Gb-Bag": "b"}})
	if err != nil || info.SHA256 != sum([]byte("x")) || info.Metadata["gb-bag"] != "b" {
		t.Errorf("Put: %+v, %v", info, err)
	}
	for _, key := range []string{".gb", ".gb/meta/x", ".gb/tmp"} {
		if err := put(key, store.PutOptions{}); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Put(%q) into the store's own files: %v", key, err)
		}
	}
	if err := put("x/.gb", store.PutOptions{}); err != nil {
		t.Errorf(".gb below the top is an ordinary name: %v", err)
	}
}

func TestLocalKeyThatIsAFolder(t *testing.T) {
	l, _ := newLocal(t, store.LocalOptions{})
	ctx := context.Background()
	mustPut(t, l, "a", []byte("a"), store.PutOptions{})
	mustPut(t, l, "b/c", []byte("c"), store.PutOptions{})
	for _, key := range []string{"a/b", "b"} {
		_, err := l.Put(ctx, key, strings.NewReader("x"), 1, store.PutOptions{})
		if err == nil || errors.Is(err, store.ErrExists) || !strings.Contains(err.Error(), "folder") {
			t.Errorf("Put(%q) beside another key's folder: %v", key, err)
		}
	}
	if ks := listKeys(t, l); !slices.Equal(ks, []string{"a", "b/c"}) {
		t.Errorf("List = %q", ks)
	}
	if err := l.Delete(ctx, "b"); err != nil {
		t.Errorf("Delete of a folder name: %v", err)
	}
	if ks := listKeys(t, l); !slices.Equal(ks, []string{"a", "b/c"}) {
		t.Errorf("List after Delete of a folder name = %q", ks)
	}
}

func TestLocalClockFromGBNow(t *testing.T) {
	t.Setenv("GB_NOW", "2027-01-15T02:00:00Z")
	l, err := store.NewLocal(t.TempDir(), store.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	info := mustPut(t, l, "k", []byte("k"), store.PutOptions{StorageClass: store.DeepArchive})
	if !info.UploadedAt.Equal(t0) {
		t.Errorf("UploadedAt = %v, want GB_NOW %v", info.UploadedAt, t0)
	}
	if err := l.Restore(ctx, "k", store.RestoreRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(l, "k"); !errors.Is(err, store.ErrFrozen) {
		t.Errorf("Get right after the request: %v", err)
	}
	// A later run, with a later GB_NOW, finds the restore done.
	t.Setenv("GB_NOW", "2027-01-15T02:05:00Z")
	if _, err := readAll(l, "k"); err != nil {
		t.Errorf("Get after GB_NOW moved past the delay: %v", err)
	}
}

func TestLocalRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	if _, err := store.NewLocal(dir, store.LocalOptions{}); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".gb", "tmp", "put-stale")
	fresh := filepath.Join(dir, ".gb", "tmp", "put-fresh")
	os.WriteFile(stale, []byte("x"), 0o600)
	os.WriteFile(fresh, []byte("x"), 0o600)
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(stale, old, old)
	if _, err := store.NewLocal(dir, store.LocalOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temp file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file (maybe a running upload) removed: %v", err)
	}
}

func TestNewLocalNeedsADirectory(t *testing.T) {
	dir := t.TempDir()
	if _, err := store.NewLocal(filepath.Join(dir, "missing"), store.LocalOptions{}); err == nil {
		t.Errorf("NewLocal of a missing folder: no error")
	}
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0o600)
	if _, err := store.NewLocal(f, store.LocalOptions{}); err == nil {
		t.Errorf("NewLocal of a file: no error")
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "new", "store")
	s, err := store.Open(context.Background(), "file://"+target, store.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != "file://"+target {
		t.Errorf("String() = %q", s.String())
	}
	if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
		t.Errorf("Open did not create %s: %v", target, err)
	}
	if _, err := store.Open(context.Background(), "file://localhost"+target, store.OpenOptions{}); err != nil {
		t.Errorf("file://localhost/...: %v", err)
	}
	spaced := filepath.Join(dir, "my backup")
	s, err = store.Open(context.Background(), "file://"+spaced, store.OpenOptions{})
	if err != nil {
		t.Fatalf("path with a space: %v", err)
	}
	if s2, err := store.Open(context.Background(), s.String(), store.OpenOptions{}); err != nil || s2.(*store.Local).Dir() != spaced {
		t.Errorf("String() %q does not open the same folder: %v", s.String(), err)
	}
	for _, c := range []struct{ url, want string }{
		{"s3://", "s3://bucket or s3://bucket/prefix"},
		{"s3://bucket/p?x=1", "s3://bucket or s3://bucket/prefix"},
		{"file://relative/dir", "file:///relative/dir"},
		{"file:relative", "absolute path"},
		{"ftp://host/dir", "file:///absolute/dir or s3://bucket/prefix"},
		{"/plain/path", "file:///absolute/dir or s3://bucket/prefix"},
		{"", "file:///absolute/dir"},
		{"file:///tmp/x?y", "no query"},
	} {
		_, err := store.Open(context.Background(), c.url, store.OpenOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), fmt.Sprintf("%q", c.url)) && c.url != "" {
			t.Errorf("Open(%q): %v; want an error naming it and saying %q", c.url, err, c.want)
		}
	}
}

func TestOpenRestoreDelayEnv(t *testing.T) {
	t.Setenv("GB_NOW", "2027-01-15T02:00:00Z")
	t.Setenv(store.RestoreDelayEnv, "0s")
	s, err := store.Open(context.Background(), "file://"+t.TempDir(), store.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "k", []byte("k"), store.PutOptions{StorageClass: store.DeepArchive})
	if err := s.Restore(context.Background(), "k", store.RestoreRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(s, "k"); err != nil {
		t.Errorf("Get right after a zero-delay restore: %v", err)
	}
	// Options given by the caller win over the environment.
	s, err = store.Open(context.Background(), "file://"+t.TempDir(), store.OpenOptions{Local: store.LocalOptions{RestoreDelay: map[string]time.Duration{}}})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "k", []byte("k"), store.PutOptions{StorageClass: store.DeepArchive})
	s.Restore(context.Background(), "k", store.RestoreRequest{})
	if _, err := readAll(s, "k"); !errors.Is(err, store.ErrFrozen) {
		t.Errorf("caller's delays ignored: %v", err)
	}
	for _, v := range []string{"soon", "-1m"} {
		t.Setenv(store.RestoreDelayEnv, v)
		if _, err := store.Open(context.Background(), "file://"+t.TempDir(), store.OpenOptions{}); err == nil || !strings.Contains(err.Error(), store.RestoreDelayEnv) {
			t.Errorf("%s=%s: %v", store.RestoreDelayEnv, v, err)
		}
	}
}

// ---- kill -9

const killEnv = "GB_STORE_KILL_DIR"

func killObject(key string) []byte { return data(key, 1<<20+len(key)*4099) }

// TestLocalKillHelper is the process TestLocalKill9 kills: it stores
// objects one after another until killed.
func TestLocalKillHelper(t *testing.T) {
	dir := os.Getenv(killEnv)
	if dir == "" {
		t.Skip("run by TestLocalKill9")
	}
	l, err := store.NewLocal(dir, store.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		key := fmt.Sprintf("2027-backup/bag_%06d.tar", i)
		if _, err := l.Head(ctx, key); err == nil {
			continue
		}
		b := killObject(key)
		if _, err := l.Put(ctx, key, bytes.NewReader(b), int64(len(b)), store.PutOptions{StorageClass: store.DeepArchive, SHA256: sum(b)}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLocalKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 9))
	for round := range 12 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLocalKillHelper$")
		cmd.Env = append(os.Environ(), killEnv+"="+dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.IntN(400)) * time.Millisecond)
		cmd.Process.Kill() // SIGKILL
		if err := cmd.Wait(); err == nil || strings.Contains(out.String(), "FAIL:") {
			t.Fatalf("round %d: helper did not die by the kill (%v):\n%s", round, err, out.String())
		}
	}
	l, err := store.NewLocal(dir, store.LocalOptions{RestoreDelay: map[string]time.Duration{store.TierBulk: 0}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keys := listKeys(t, l)
	t.Logf("%d objects stored across 12 kills", len(keys))
	for i, key := range keys {
		if want := fmt.Sprintf("2027-backup/bag_%06d.tar", i); key != want {
			t.Fatalf("object %d is %q, want %q: a gap means a Put was lost", i, key, want)
		}
		want := killObject(key)
		h, err := l.Head(ctx, key)
		if err != nil || h.StorageClass != store.DeepArchive || h.SHA256 != sum(want) || h.Size != int64(len(want)) {
			t.Fatalf("Head(%q) = %+v, %v: an object without its own sidecar", key, h, err)
		}
		if err := l.Restore(ctx, key, store.RestoreRequest{}); err != nil {
			t.Fatal(err)
		}
		if got, err := readAll(l, key); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Get(%q): %d bytes, %v", key, len(got), err)
		}
	}
	// Whatever the last kill interrupted does not block its retry.
	next := fmt.Sprintf("2027-backup/bag_%06d.tar", len(keys))
	b := killObject(next)
	mustPut(t, l, next, b, store.PutOptions{StorageClass: store.DeepArchive, SHA256: sum(b)})
}
