package store

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

var _ UploadLister = (*S3)(nil)

// ListUploads calls fn for every incomplete multipart upload under prefix
// (ListMultipartUploads), with the parts it holds (ListParts).
func (s *S3) ListUploads(ctx context.Context, prefix string, fn func(Upload) error) error {
	in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: aws.String(s.full(prefix))}
	for {
		page, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil && in.UploadIdMarker != nil && apiCode(err) == "InvalidArgument" {
			// versitygw (1.8) takes the upload-id-marker as an id of the
			// key after key-marker, not of key-marker itself, and refuses
			// the markers it hands out. Key-marker alone lists the keys
			// after it, which is what it then returns anyway.
			in.UploadIdMarker = nil
			page, err = s.client.ListMultipartUploads(ctx, in)
		}
		if err != nil {
			return s.classify(prefix, err)
		}
		ups := page.Uploads
		sort.SliceStable(ups, func(i, j int) bool {
			ki, kj := aws.ToString(ups[i].Key), aws.ToString(ups[j].Key)
			if ki != kj {
				return ki < kj
			}
			return aws.ToTime(ups[i].Initiated).Before(aws.ToTime(ups[j].Initiated))
		})
		for _, u := range ups {
			up := Upload{Key: strings.TrimPrefix(aws.ToString(u.Key), s.prefix), ID: aws.ToString(u.UploadId),
				Initiated: aws.ToTime(u.Initiated).UTC(), StorageClass: class(string(u.StorageClass))}
			parts, err := s.listParts(ctx, up.Key, up.ID)
			switch {
			case isNoSuchUpload(err) || errors.Is(err, ErrNotFound):
				continue // completed or aborted since the listing
			case err != nil:
				return err
			}
			for _, p := range parts {
				up.Parts++
				up.Size += aws.ToInt64(p.Size)
			}
			if err := fn(up); err != nil {
				return err
			}
		}
		if !aws.ToBool(page.IsTruncated) || (page.NextKeyMarker == nil && page.NextUploadIdMarker == nil) {
			return nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}

// AbortUpload aborts one multipart upload; one already gone is not an
// error.
func (s *S3) AbortUpload(ctx context.Context, key, id string) error {
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: aws.String(s.full(key)), UploadId: aws.String(id)})
	if err == nil || isNoSuchUpload(err) {
		return nil
	}
	return s.classify(key, err)
}

func isNoSuchUpload(err error) bool { return apiCode(err) == "NoSuchUpload" }

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
