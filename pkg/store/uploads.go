package store

import (
	"context"
	"time"
)

// Upload is an upload that was started and neither completed nor aborted:
// an S3 multipart upload whose parts are billed until it is aborted.
type Upload struct {
	Key          string // the key it would complete to
	ID           string // the store's upload id
	Initiated    time.Time
	StorageClass string
	Parts        int   // parts stored so far
	Size         int64 // bytes in those parts
}

// UploadLister is a store that keeps incomplete uploads, which cost money
// until they are aborted (S3's multipart uploads). gb-put leaves one open
// when it is interrupted, so the next run can resume it; gb-prune aborts
// the ones older than abort_uploads_after and gb-audit reports them.
//
//   - ListUploads calls fn for every incomplete upload whose key starts
//     with prefix, in key order, then by initiation time.
//   - AbortUpload aborts one and frees its parts. Aborting an upload that
//     is gone (completed or aborted already) is not an error.
//
// The local store does not implement it: an upload there is one temp file
// under .gb/tmp, removed by the store itself once abandoned for a day.
type UploadLister interface {
	ListUploads(ctx context.Context, prefix string, fn func(Upload) error) error
	AbortUpload(ctx context.Context, key, id string) error
}
