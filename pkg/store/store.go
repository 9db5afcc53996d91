// Package store is where bags, manifests and system files live: a small
// interface with written contracts, implemented by the local store (a
// directory that behaves like Deep Archive) and, later, S3. Behaviour such
// as retries or dry runs is added by wrappers, never by the callers.
package store

import (
	"context"
	"errors"
	"io"
	"time"
)

// Storage classes gb uses. Bags go to DeepArchive, everything a person needs
// to find files without thawing (manifests, system files) to Standard.
const (
	Standard    = "STANDARD"
	DeepArchive = "DEEP_ARCHIVE"
)

// Restore tiers, as S3 names them.
const (
	TierStandard  = "Standard"
	TierBulk      = "Bulk"
	TierExpedited = "Expedited"
)

var (
	// ErrNotFound: no object at that key. Permanent.
	ErrNotFound = errors.New("object not found")
	// ErrExists: Put refused to replace an object (objects are immutable;
	// replacing a young Deep Archive object is billed as an early delete).
	ErrExists = errors.New("object already exists")
	// ErrFrozen: the object is in a cold class and has no readable restored
	// copy; request a restore and wait.
	ErrFrozen = errors.New("object is frozen in cold storage; request a restore first")
	// ErrChecksum: the bytes stored do not match the checksum given to Put.
	ErrChecksum = errors.New("checksum mismatch")
)

// PutOptions describe the object being stored.
type PutOptions struct {
	StorageClass string            // Standard when empty
	SHA256       string            // hex SHA-256 of the body; when set the store verifies it and keeps it
	Metadata     map[string]string // small user metadata (lowercase keys)
	// Journal, when set, is a local file where a store that uploads in
	// parts keeps what it needs to resume an interrupted upload of the
	// same bytes to the same key (removed once the object is stored).
	// Stores that store in one step ignore it.
	Journal string
	// Sent, when set, is told how many bytes went over the wire (less
	// than the size when an upload resumed).
	Sent *int64
	// Progress, when set, is called as the body is stored, with the
	// bytes done since the last call (parts an interrupted upload left on
	// the server count as done). It may be called from several
	// goroutines at once and must be quick (gb-put's progress bars).
	Progress func(n int64)
}

// RestoreStatus is the state of a restored (thawed) copy of a cold object.
type RestoreStatus struct {
	Requested   bool      // a restore was requested
	Ongoing     bool      // still thawing
	ReadyAt     time.Time // when the copy became (or will become) readable
	ExpiresAt   time.Time // when the restored copy goes away (zero while ongoing)
	Tier        string
	RequestedAt time.Time
}

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key          string
	Size         int64
	StorageClass string
	UploadedAt   time.Time
	SHA256       string // hex, as given to Put ("" when unknown)
	ETag         string
	Metadata     map[string]string
	Restore      RestoreStatus
}

// Readable reports whether Get will return the object's bytes now.
func (o ObjectInfo) Readable(now time.Time) bool {
	if !IsCold(o.StorageClass) {
		return true
	}
	return o.Restore.Requested && !o.Restore.Ongoing && (o.Restore.ExpiresAt.IsZero() || now.Before(o.Restore.ExpiresAt))
}

// IsCold reports whether objects of the class must be restored before reading.
func IsCold(class string) bool {
	return class == DeepArchive || class == "GLACIER"
}

// RestoreRequest asks for a temporary readable copy of a cold object.
type RestoreRequest struct {
	Days int    // how long the restored copy stays readable
	Tier string // TierBulk when empty
}

// Store is the contract every destination keeps. Keys are slash-separated,
// never start with "/", and never contain "." or ".." elements.
//
//   - Put stores size bytes read from body under key, atomically: readers see
//     the whole object or none. It never replaces an existing object
//     (ErrExists). With opts.SHA256 set the stored bytes are verified and a
//     mismatch stores nothing (ErrChecksum).
//   - Head describes an object (ErrNotFound), including restore status.
//   - Get returns length bytes from offset (length < 0: to the end). A cold
//     object without a ready restored copy gives ErrFrozen.
//   - List calls fn for every object whose key starts with prefix, in key
//     order.
//   - Delete removes an object; deleting a missing object is not an error.
//   - Restore requests a restored copy. A request while one is in progress,
//     or for an object already restored, is not an error. Restoring a
//     non-cold object is not an error and changes nothing.
type Store interface {
	Put(ctx context.Context, key string, body io.ReaderAt, size int64, opts PutOptions) (ObjectInfo, error)
	Head(ctx context.Context, key string) (ObjectInfo, error)
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error
	Delete(ctx context.Context, key string) error
	Restore(ctx context.Context, key string, req RestoreRequest) error
	// String names the destination for messages (a URL, no secrets).
	String() string
}

// Checker is a store that can tell, cheaply and before any upload,
// whether it is reachable and the credentials work.
type Checker interface {
	Check(ctx context.Context) error
}
