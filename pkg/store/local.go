package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gbarchive/gb/pkg/clock"
)

// Local is a directory that behaves like Deep Archive, so a person can
// rehearse a disaster recovery for free and tests need no network.
//
// Layout (plain files, so ls, cat and tar work on it):
//
//	<dir>/<key>                  the object's bytes, read-only
//	<dir>/.gb/meta/<key>.json    its sidecar: storage class, size, sha256,
//	                             uploaded_at, metadata, restore request
//	<dir>/.gb/tmp/               uploads in progress
//	<dir>/.gb/lock               serialises commits between processes
//
// Keys whose first element is ".gb" are refused. Because keys are files, a
// key cannot also be a folder of other keys ("a" and "a/b"); S3 allows that,
// gb never needs it, and Put refuses it with an error.
//
// Crash safety: Put writes the object to .gb/tmp, fsyncs it, writes the
// sidecar, and only then links the object into place, so a kill -9 leaves
// no object, or a whole object with its sidecar. Leftovers are harmless: a
// temp file is never listed (and is removed by NewLocal after a day); a
// sidecar without its object is "not found" and the next Put of that key
// replaces it. Delete removes the object before the sidecar for the same
// reason.
//
// An object file without a sidecar is never left by gb; it is a file a
// person copied in, or one whose sidecar was lost. It is treated as a
// STANDARD object with an unknown checksum (SHA256 "") uploaded at the
// file's mtime: readable, listed, deletable, and Put will not replace it.
// Hiding it instead would make Head say "not found" for a key that Put
// refuses as existing.
//
// Restores: a request records its tier, days, and the times it becomes
// ready (request time + the tier's delay) and expires (ready + days). Both
// are fixed when requested, like S3, so later changes to the configured
// delay do not move a request already made. Once expired the copy is gone:
// Head reports a zero RestoreStatus (Requested false) and a new request is
// needed, as with S3 dropping its x-amz-restore header.
type Local struct {
	dir   string
	now   func() time.Time
	delay map[string]time.Duration
	days  int
	// mu spares the flock round trip between goroutines of one process;
	// flock alone already excludes them.
	mu sync.Mutex
}

var _ Store = (*Local)(nil)

// LocalOptions configure a Local store. The zero value is ready to use.
type LocalOptions struct {
	// Now is the store's clock, asked on every call. Nil: clock.Now, so
	// GB_NOW (re-read each call) moves uploads and restores, falling back
	// to the wall clock when GB_NOW cannot be parsed.
	Now func() time.Time
	// RestoreDelay is how long a restore takes per tier (TierExpedited,
	// TierStandard, TierBulk). Tiers not in the map keep the short
	// defaults: 1m, 2m and 5m, so a rehearsal takes minutes, not days.
	RestoreDelay map[string]time.Duration
	// RestoreDays is how long a restored copy stays readable when a
	// request does not say. Zero means 1 day.
	RestoreDays int
}

// Default restore delays: the order of S3's tiers, scaled from hours to
// minutes.
var defaultRestoreDelay = map[string]time.Duration{
	TierExpedited: time.Minute,
	TierStandard:  2 * time.Minute,
	TierBulk:      5 * time.Minute,
}

// staleTemp is how old an abandoned upload must be before NewLocal removes
// it; an upload still running touches its temp file far more often.
const staleTemp = 24 * time.Hour

const (
	metaDirName = ".gb"
	sidecarExt  = ".json"
)

// NewLocal opens the local store in dir, which must exist. It creates the
// .gb bookkeeping folders and removes uploads abandoned over a day ago.
func NewLocal(dir string, opts LocalOptions) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local store %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("local store %s: not a directory", abs)
	}
	l := &Local{dir: abs, now: opts.Now, days: opts.RestoreDays, delay: map[string]time.Duration{}}
	if l.now == nil {
		l.now = func() time.Time {
			t, err := clock.Now()
			if err != nil {
				return time.Now().UTC()
			}
			return t
		}
	}
	if l.days < 0 {
		return nil, fmt.Errorf("local store %s: restore days %d is negative", abs, l.days)
	}
	if l.days == 0 {
		l.days = 1
	}
	for tier, d := range defaultRestoreDelay {
		l.delay[tier] = d
	}
	for tier, d := range opts.RestoreDelay {
		if _, ok := defaultRestoreDelay[tier]; !ok {
			return nil, fmt.Errorf("local store %s: unknown restore tier %q (use %s, %s or %s)", abs, tier, TierExpedited, TierStandard, TierBulk)
		}
		if d < 0 {
			return nil, fmt.Errorf("local store %s: restore delay %v for tier %s is negative", abs, d, tier)
		}
		l.delay[tier] = d
	}
	for _, d := range []string{l.metaRoot(), l.tmpDir()} {
		if err := mkdirAllSync(d); err != nil {
			return nil, fmt.Errorf("local store %s: %w", abs, err)
		}
	}
	l.removeStaleTemps()
	return l, nil
}

// String names the store as a file URL.
func (l *Local) String() string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(l.dir)}).String()
}

// Dir is the directory holding the store.
func (l *Local) Dir() string { return l.dir }

func (l *Local) metaRoot() string { return filepath.Join(l.dir, metaDirName, "meta") }
func (l *Local) tmpDir() string   { return filepath.Join(l.dir, metaDirName, "tmp") }
func (l *Local) lockPath() string { return filepath.Join(l.dir, metaDirName, "lock") }
func (l *Local) objPath(key string) string {
	return filepath.Join(l.dir, filepath.FromSlash(key))
}
func (l *Local) metaPath(key string) string {
	return filepath.Join(l.metaRoot(), filepath.FromSlash(key)+sidecarExt)
}

func (l *Local) checkKey(key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if key == metaDirName || strings.HasPrefix(key, metaDirName+"/") {
		return fmt.Errorf("key %q: %q is reserved for the local store's own files: %w", key, metaDirName+"/", ErrInvalidKey)
	}
	return nil
}

// sidecar is the JSON kept beside each object. Field names are a format
// people may read with jq; add fields, never rename them.
type sidecar struct {
	Format       int               `json:"format"`
	StorageClass string            `json:"storage_class"`
	Size         int64             `json:"size"`
	SHA256       string            `json:"sha256"`
	ETag         string            `json:"etag,omitempty"`
	UploadedAt   time.Time         `json:"uploaded_at"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	Restore      *restoreRecord    `json:"restore,omitempty"`
}

type restoreRecord struct {
	RequestedAt time.Time `json:"requested_at"`
	Tier        string    `json:"tier"`
	Days        int       `json:"days"`
	ReadyAt     time.Time `json:"ready_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func (r *restoreRecord) status(now time.Time) RestoreStatus {
	if r == nil || !now.Before(r.ExpiresAt) {
		return RestoreStatus{}
	}
	st := RestoreStatus{Requested: true, Tier: r.Tier, RequestedAt: r.RequestedAt, ReadyAt: r.ReadyAt}
	if now.Before(r.ReadyAt) {
		st.Ongoing = true
	} else {
		st.ExpiresAt = r.ExpiresAt
	}
	return st
}

// info describes the object; size comes from the file, not the sidecar,
// so a file damaged by hand shows up as a size mismatch in an audit.
func (sc *sidecar) info(key string, size int64, now time.Time) ObjectInfo {
	return ObjectInfo{
		Key:          key,
		Size:         size,
		StorageClass: sc.StorageClass,
		UploadedAt:   sc.UploadedAt,
		SHA256:       sc.SHA256,
		ETag:         sc.ETag,
		Metadata:     copyMap(sc.Metadata),
		Restore:      sc.Restore.status(now),
	}
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Storage classes S3 accepts on upload; anything else is a typo that the
// rehearsal should catch rather than the real upload.
var knownClasses = map[string]bool{
	Standard: true, DeepArchive: true, "GLACIER": true, "GLACIER_IR": true,
	"STANDARD_IA": true, "ONEZONE_IA": true, "INTELLIGENT_TIERING": true,
	"REDUCED_REDUNDANCY": true,
}

// S3 caps user metadata at 2 KB of US-ASCII, keys plus values.
const maxMetadataBytes = 2048

func checkMetadata(key string, m map[string]string) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	total := 0
	for k, v := range m {
		lk := strings.ToLower(k)
		if lk == "" || strings.ContainsFunc(lk, func(r rune) bool {
			return r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r)
		}) {
			return nil, fmt.Errorf("put %q: metadata key %q is not an HTTP header name", key, k)
		}
		if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r >= 0x7f }) {
			return nil, fmt.Errorf("put %q: metadata %q value %q is not printable US-ASCII, which S3 requires", key, k, v)
		}
		if _, dup := out[lk]; dup {
			return nil, fmt.Errorf("put %q: metadata key %q given twice (keys are case-insensitive)", key, lk)
		}
		out[lk] = v
		total += len(lk) + len(v)
	}
	if total > maxMetadataBytes {
		return nil, fmt.Errorf("put %q: metadata is %d bytes, over S3's limit of %d", key, total, maxMetadataBytes)
	}
	return out, nil
}

func checkSHA256(key, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("put %q: %q is not a hex SHA-256", key, s)
	}
	return hex.EncodeToString(b), nil
}

// Put stores the object; see Store. The body is copied to a temp file
// first, so a mismatched checksum or a short body stores nothing.
func (l *Local) Put(ctx context.Context, key string, body io.ReaderAt, size int64, opts PutOptions) (ObjectInfo, error) {
	if err := l.checkKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if size < 0 {
		return ObjectInfo{}, fmt.Errorf("put %q: negative size %d", key, size)
	}
	class := opts.StorageClass
	if class == "" {
		class = Standard
	}
	if !knownClasses[class] {
		return ObjectInfo{}, fmt.Errorf("put %q: unknown storage class %q (gb uses %s and %s)", key, class, Standard, DeepArchive)
	}
	want, err := checkSHA256(key, opts.SHA256)
	if err != nil {
		return ObjectInfo{}, err
	}
	meta, err := checkMetadata(key, opts.Metadata)
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	// Refuse early, before copying tens of gigabytes; the commit checks
	// again under the lock.
	if err := l.checkFree(key); err != nil {
		return ObjectInfo{}, err
	}

	tmp, err := os.CreateTemp(l.tmpDir(), "put-*")
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a link the object has its own name
	closed := false
	defer func() {
		if !closed {
			tmp.Close()
		}
	}()

	h := sha256.New()
	buf := make([]byte, 1<<20)
	n, err := io.CopyBuffer(io.MultiWriter(tmp, h), &ctxReader{ctx: ctx, r: io.NewSectionReader(body, 0, size), progress: opts.Progress}, buf)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	if n != size {
		return ObjectInfo{}, fmt.Errorf("put %q: body ended after %d of %d bytes; nothing stored", key, n, size)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if want != "" && sum != want {
		return ObjectInfo{}, fmt.Errorf("put %q: body has SHA-256 %s, expected %s; nothing stored: %w", key, sum, want, ErrChecksum)
	}
	// Objects are immutable; read-only keeps a stray cp from changing one.
	if err := tmp.Chmod(0o400); err != nil {
		return ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	closed = true
	if err := tmp.Close(); err != nil {
		return ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}

	now := l.now().UTC()
	sc := &sidecar{Format: 1, StorageClass: class, Size: size, SHA256: sum, ETag: sum[:32], UploadedAt: now, Metadata: meta}
	if err := l.commit(ctx, key, tmpName, sc); err != nil {
		return ObjectInfo{}, err
	}
	return sc.info(key, size, now), nil
}

// commit makes the uploaded temp file the object at key, never replacing
// one. It runs under the store lock, so the existence check, the sidecar
// and the link are one step for every gb process.
func (l *Local) commit(ctx context.Context, key, tmpName string, sc *sidecar) error {
	unlock, err := l.lock()
	if err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	defer unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	if err := l.checkFree(key); err != nil {
		return err
	}
	obj := l.objPath(key)
	if err := mkdirAllSync(filepath.Dir(obj)); err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("put %q: a parent of this key is itself an object, and a local store cannot keep a key that is also a folder", key)
		}
		return fmt.Errorf("put %q: %w", key, err)
	}
	// Any sidecar here is left by a Put that died before its link, so
	// replacing it is right.
	if err := l.writeSidecar(key, sc); err != nil {
		return err
	}
	err = os.Link(tmpName, obj)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		// Someone outside gb made the file since the check; the sidecar
		// just written describes other bytes, so take it back.
		os.Remove(l.metaPath(key))
		return fmt.Errorf("put %q: %w", key, ErrExists)
	default:
		// Filesystems without hard links (exFAT on a USB disk) still
		// rename; the lock and the check above stand in for link's
		// refusal to replace.
		if rerr := os.Rename(tmpName, obj); rerr != nil {
			os.Remove(l.metaPath(key))
			return fmt.Errorf("put %q: %w", key, rerr)
		}
	}
	if err := syncDir(filepath.Dir(obj)); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	return nil
}

// checkFree returns ErrExists when an object (or a folder of them) is at key.
func (l *Local) checkFree(key string) error {
	fi, err := os.Lstat(l.objPath(key))
	switch {
	case isNotExist(err):
		return nil
	case err != nil:
		return fmt.Errorf("put %q: %w", key, err)
	case fi.IsDir():
		return fmt.Errorf("put %q: a folder of other objects has this name, and a local store cannot keep a key that is also a folder", key)
	}
	return fmt.Errorf("put %q: %w", key, ErrExists)
}

func (l *Local) writeSidecar(key string, sc *sidecar) error {
	b, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return fmt.Errorf("%q: sidecar: %w", key, err)
	}
	b = append(b, '\n')
	path := l.metaPath(key)
	if err := mkdirAllSync(filepath.Dir(path)); err != nil {
		return fmt.Errorf("%q: sidecar: %w", key, err)
	}
	f, err := os.CreateTemp(l.tmpDir(), "meta-*")
	if err != nil {
		return fmt.Errorf("%q: sidecar: %w", key, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("%q: sidecar: %w", key, err)
	}
	return nil
}

// readSidecar returns fs.ErrNotExist (wrapped) when there is none.
func (l *Local) readSidecar(key string) (*sidecar, error) {
	b, err := os.ReadFile(l.metaPath(key))
	if err != nil {
		if isNotExist(err) {
			return nil, fs.ErrNotExist
		}
		return nil, fmt.Errorf("%q: sidecar: %w", key, err)
	}
	sc := new(sidecar)
	if err := json.Unmarshal(b, sc); err != nil {
		return nil, fmt.Errorf("%q: sidecar %s is damaged (%v); restore it from a backup of the store or delete the object", key, l.metaPath(key), err)
	}
	if sc.StorageClass == "" {
		sc.StorageClass = Standard
	}
	return sc, nil
}

// load finds the object's description and, when open is set, opens it.
// The sidecar is read before the object is looked at: Put writes the
// sidecar first and Delete removes it last, so an object seen after a
// missing sidecar is either adopted (no sidecar at all) or appeared in
// between, which a second read of the sidecar tells apart.
func (l *Local) load(op, key string, open bool) (*sidecar, *os.File, fs.FileInfo, error) {
	sc, err := l.readSidecar(key)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("%s %w", op, err)
	}
	var f *os.File
	var fi fs.FileInfo
	path := l.objPath(key)
	if open {
		f, err = os.Open(path)
		if err == nil {
			fi, err = f.Stat()
		}
	} else {
		fi, err = os.Lstat(path)
	}
	fail := func(err error) (*sidecar, *os.File, fs.FileInfo, error) {
		if f != nil {
			f.Close()
		}
		return nil, nil, nil, err
	}
	switch {
	case isNotExist(err) || errors.Is(err, syscall.EISDIR):
		return fail(fmt.Errorf("%s %q: %w", op, key, ErrNotFound))
	case err != nil:
		return fail(fmt.Errorf("%s %q: %w", op, key, err))
	case fi.IsDir():
		// A folder of other keys, not an object (as S3 has no folders).
		return fail(fmt.Errorf("%s %q: %w", op, key, ErrNotFound))
	case !fi.Mode().IsRegular():
		return fail(fmt.Errorf("%s %q: %s is not a regular file; a local store holds only files", op, key, path))
	}
	if sc == nil {
		sc, err = l.readSidecar(key)
		if errors.Is(err, fs.ErrNotExist) {
			sc, err = &sidecar{Format: 1, StorageClass: Standard, Size: fi.Size(), UploadedAt: fi.ModTime().UTC()}, nil
		}
		if err != nil {
			return fail(fmt.Errorf("%s %w", op, err))
		}
	}
	return sc, f, fi, nil
}

// Head describes the object; see Store.
func (l *Local) Head(ctx context.Context, key string) (ObjectInfo, error) {
	if err := l.checkKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, fmt.Errorf("head %q: %w", key, err)
	}
	sc, _, fi, err := l.load("head", key, false)
	if err != nil {
		return ObjectInfo{}, err
	}
	return sc.info(key, fi.Size(), l.now()), nil
}

// frozenError reads better than ErrFrozen's text when a restore is
// already on its way.
type frozenError struct{ msg string }

func (e *frozenError) Error() string { return e.msg }
func (e *frozenError) Unwrap() error { return ErrFrozen }

// Get reads length bytes from offset; see Store. A range running past the
// end is cut at the end, as S3 does; an offset past the end is an error.
func (l *Local) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := l.checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get %q: %w", key, err)
	}
	sc, f, fi, err := l.load("get", key, true)
	if err != nil {
		return nil, err
	}
	now := l.now()
	if IsCold(sc.StorageClass) {
		st := sc.Restore.status(now)
		switch {
		case st.Ongoing:
			f.Close()
			return nil, &frozenError{fmt.Sprintf("get %q: %s object is still being restored; readable from %s (%s from now)",
				key, sc.StorageClass, st.ReadyAt.Format(time.RFC3339), st.ReadyAt.Sub(now).Round(time.Second))}
		case !st.Requested:
			f.Close()
			return nil, fmt.Errorf("get %q: %s: %w", key, sc.StorageClass, ErrFrozen)
		}
	}
	size := fi.Size()
	if offset < 0 || offset > size {
		f.Close()
		return nil, fmt.Errorf("get %q: offset %d is outside the object's %d bytes", key, offset, size)
	}
	if length < 0 || length > size-offset {
		length = size - offset
	}
	return &sectionFile{SectionReader: io.NewSectionReader(f, offset, length), f: f}, nil
}

type sectionFile struct {
	*io.SectionReader
	f *os.File
}

func (s *sectionFile) Close() error { return s.f.Close() }

// List calls fn for every object under prefix in key order; see Store.
// Directories are read one at a time, so memory grows with the widest
// folder, not with the store.
func (l *Local) List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	return l.walk(ctx, l.dir, "", prefix, fn)
}

func (l *Local) walk(ctx context.Context, dir, keyDir, prefix string, fn func(ObjectInfo) error) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if isNotExist(err) && keyDir != "" {
			return nil // removed by a concurrent Delete
		}
		return fmt.Errorf("list %q: %w", prefix, err)
	}
	// Key order is byte order of the whole key, so a folder sorts as its
	// name followed by "/": "a-b" comes before "a/b".
	sortName := func(e fs.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	sort.Slice(ents, func(i, j int) bool { return sortName(ents[i]) < sortName(ents[j]) })
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %q: %w", prefix, err)
		}
		key := keyDir + e.Name()
		if keyDir == "" && e.Name() == metaDirName {
			continue
		}
		if e.IsDir() {
			k := key + "/"
			if strings.HasPrefix(k, prefix) || strings.HasPrefix(prefix, k) {
				if err := l.walk(ctx, filepath.Join(dir, e.Name()), k, prefix, fn); err != nil {
					return err
				}
			}
			continue
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(key, prefix) || CheckKey(key) != nil {
			continue
		}
		sc, _, fi, err := l.load("list", key, false)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the folder was read
		}
		if err != nil {
			return err
		}
		if err := fn(sc.info(key, fi.Size(), l.now())); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes the object and its sidecar; see Store.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := l.checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	unlock, err := l.lock()
	if err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	defer unlock()
	obj := l.objPath(key)
	if fi, err := os.Lstat(obj); err == nil && !fi.IsDir() {
		// The object goes first: a crash then leaves a sidecar alone,
		// which reads as "not found", never an object without one.
		if err := os.Remove(obj); err != nil && !isNotExist(err) {
			return fmt.Errorf("delete %q: %w", key, err)
		}
		if err := syncDir(filepath.Dir(obj)); err != nil {
			return fmt.Errorf("delete %q: %w", key, err)
		}
	} else if err != nil && !isNotExist(err) {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	meta := l.metaPath(key)
	if err := os.Remove(meta); err != nil && !isNotExist(err) {
		return fmt.Errorf("delete %q: sidecar: %w", key, err)
	}
	// Empty folders would show in ls as if something were there.
	removeEmptyParents(filepath.Dir(obj), l.dir)
	removeEmptyParents(filepath.Dir(meta), l.metaRoot())
	return nil
}

// Restore requests a restored copy; see Store and Local.
func (l *Local) Restore(ctx context.Context, key string, req RestoreRequest) error {
	if err := l.checkKey(key); err != nil {
		return err
	}
	tier := req.Tier
	if tier == "" {
		tier = TierBulk
	}
	delay, ok := l.delay[tier]
	if !ok {
		return fmt.Errorf("restore %q: unknown tier %q (use %s or %s)", key, req.Tier, TierBulk, TierStandard)
	}
	days := req.Days
	if days < 0 {
		return fmt.Errorf("restore %q: negative days %d", key, days)
	}
	if days == 0 {
		days = l.days
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("restore %q: %w", key, err)
	}
	unlock, err := l.lock()
	if err != nil {
		return fmt.Errorf("restore %q: %w", key, err)
	}
	defer unlock()
	sc, _, _, err := l.load("restore", key, false)
	if err != nil {
		return err
	}
	if !IsCold(sc.StorageClass) {
		return nil
	}
	if tier == TierExpedited && sc.StorageClass == DeepArchive {
		return fmt.Errorf("restore %q: %s has no %s tier; use %s or %s", key, DeepArchive, TierExpedited, TierStandard, TierBulk)
	}
	now := l.now().UTC()
	st := sc.Restore.status(now)
	switch {
	case st.Ongoing:
		return nil
	case st.Requested:
		// Like S3, a new request extends a restored copy; unlike S3 it
		// never shortens one, so a stray short request cannot pull a copy
		// from under a download.
		exp := now.Add(time.Duration(days) * 24 * time.Hour)
		if !exp.After(sc.Restore.ExpiresAt) {
			return nil
		}
		sc.Restore.ExpiresAt, sc.Restore.Days = exp, days
	default:
		ready := now.Add(delay)
		sc.Restore = &restoreRecord{RequestedAt: now, Tier: tier, Days: days, ReadyAt: ready,
			ExpiresAt: ready.Add(time.Duration(days) * 24 * time.Hour)}
	}
	return l.writeSidecar(key, sc)
}

type ctxReader struct {
	ctx      context.Context
	r        io.Reader
	progress func(int64) // PutOptions.Progress, per chunk read
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if n > 0 && c.progress != nil {
		c.progress(int64(n))
	}
	return n, err
}

// lock serialises commits, deletes and restore requests across every
// goroutine and process using the store.
func (l *Local) lock() (func(), error) {
	l.mu.Lock()
	f, err := os.OpenFile(l.lockPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		l.mu.Unlock()
		return nil, err
	}
	if err := flock(f); err != nil {
		f.Close()
		l.mu.Unlock()
		return nil, fmt.Errorf("lock %s: %w", l.lockPath(), err)
	}
	return func() {
		f.Close() // releases the flock
		l.mu.Unlock()
	}, nil
}

// removeStaleTemps clears uploads abandoned by a killed process. Age is
// judged by the wall clock because mtimes are wall-clock times, whatever
// GB_NOW says.
func (l *Local) removeStaleTemps() {
	ents, err := os.ReadDir(l.tmpDir())
	if err != nil {
		return
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > staleTemp {
			os.Remove(filepath.Join(l.tmpDir(), e.Name()))
		}
	}
}

func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// mkdirAllSync is os.MkdirAll that also fsyncs the parent of every folder
// it creates, so a new object's folder survives a power cut.
func mkdirAllSync(path string) error {
	fi, err := os.Stat(path)
	if err == nil {
		if !fi.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: path, Err: syscall.ENOTDIR}
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(path)
	if parent == path {
		return err
	}
	if err := mkdirAllSync(parent); err != nil {
		return err
	}
	if err := os.Mkdir(path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some filesystems (FUSE, SMB) cannot fsync a folder; their files are
	// as durable as they get.
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}

func removeEmptyParents(dir, root string) {
	for dir != root && strings.HasPrefix(dir, root+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		syncDir(filepath.Dir(dir))
		dir = filepath.Dir(dir)
	}
}
