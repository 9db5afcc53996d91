package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gbarchive/gb/pkg/store"
)

// startUpload begins a multipart upload of key (under the store's
// "archive/" prefix) as an interrupted gb-put leaves one, with parts of
// the given sizes.
func startUpload(t *testing.T, s *store.S3, bucket, key string, parts ...int) string {
	t.Helper()
	ctx := context.Background()
	c := s.Client()
	out, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("archive/" + key)})
	if err != nil {
		t.Fatalf("create multipart upload: %v", err)
	}
	for i, n := range parts {
		if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("archive/" + key), UploadId: out.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(make([]byte, n)), ContentLength: aws.Int64(int64(n))}); err != nil {
			t.Fatalf("upload part: %v", err)
		}
	}
	return aws.ToString(out.UploadId)
}

func listUploads(t *testing.T, s store.UploadLister, prefix string) []store.Upload {
	t.Helper()
	var ups []store.Upload
	if err := s.ListUploads(context.Background(), prefix, func(u store.Upload) error {
		ups = append(ups, u)
		return nil
	}); err != nil {
		t.Fatalf("ListUploads(%q): %v", prefix, err)
	}
	return ups
}

func TestS3UploadsVersity(t *testing.T) {
	s := newVersity(t, store.S3Options{PartSize: 5 << 20})
	bucket := bucketOf(s)
	var lister store.UploadLister = s // the S3 store keeps incomplete uploads
	if got := listUploads(t, lister, ""); len(got) != 0 {
		t.Fatalf("fresh bucket has uploads: %+v", got)
	}
	before := time.Now().Add(-time.Minute)
	idB := startUpload(t, s, bucket, "2026-backup/b_bag_000002.tar.zst", 5<<20, 1000)
	idA := startUpload(t, s, bucket, "2026-backup/a_bag_000001.tar.zst")
	startUpload(t, s, bucket, "2027-backup/c_bag_000003.tar.zst", 10)

	ups := listUploads(t, lister, "2026-backup/")
	if len(ups) != 2 {
		t.Fatalf("ListUploads(2026-backup/) = %+v, want 2 uploads", ups)
	}
	a, b := ups[0], ups[1]
	if a.Key != "2026-backup/a_bag_000001.tar.zst" || a.ID != idA || a.Parts != 0 || a.Size != 0 {
		t.Errorf("first upload = %+v, want key a_bag_000001 (prefix stripped), id %s, no parts", a, idA)
	}
	if b.Key != "2026-backup/b_bag_000002.tar.zst" || b.ID != idB || b.Parts != 2 || b.Size != 5<<20+1000 {
		t.Errorf("second upload = %+v, want b_bag_000002, id %s, 2 parts of %d bytes", b, idB, 5<<20+1000)
	}
	if b.Initiated.Before(before) || b.Initiated.After(time.Now().Add(time.Minute)) {
		t.Errorf("Initiated = %v, want about now", b.Initiated)
	}
	if b.StorageClass == "" {
		t.Errorf("StorageClass is empty")
	}
	if got := listUploads(t, lister, ""); len(got) != 3 {
		t.Errorf("ListUploads(\"\") found %d uploads, want 3", len(got))
	}

	if err := lister.AbortUpload(context.Background(), b.Key, b.ID); err != nil {
		t.Fatalf("AbortUpload: %v", err)
	}
	if err := lister.AbortUpload(context.Background(), b.Key, b.ID); err != nil {
		t.Errorf("AbortUpload of an aborted upload: %v, want nil", err)
	}
	if ups := listUploads(t, lister, "2026-backup/"); len(ups) != 1 || ups[0].ID != idA {
		t.Errorf("after abort: %+v, want only %s", ups, idA)
	}

	// fn's error stops the listing and comes back.
	stop := errors.New("stop")
	if err := lister.ListUploads(context.Background(), "", func(store.Upload) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("ListUploads with a failing callback = %v, want %v", err, stop)
	}
}

// Paging: more uploads than one ListMultipartUploads page returns.
func TestS3UploadsPaging(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 1,010 uploads")
	}
	s := newVersity(t, store.S3Options{})
	bucket := bucketOf(s)
	const n = 1010 // S3 returns at most 1,000 uploads per page
	for i := range n {
		startUpload(t, s, bucket, "k/"+string(rune('a'+i%26))+"/"+time.Duration(i).String())
	}
	if got := listUploads(t, s, ""); len(got) != n {
		t.Errorf("ListUploads found %d uploads, want %d", len(got), n)
	}
}

func bucketOf(s *store.S3) string {
	// String is s3://bucket/prefix.
	u := s.String()[len("s3://"):]
	for i := range len(u) {
		if u[i] == '/' {
			return u[:i]
		}
	}
	return u
}
