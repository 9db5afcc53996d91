package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/fault"
	"github.com/gbarchive/gb/pkg/layout"
	"golang.org/x/sync/errgroup"
)

// S3Options configure an S3 store.
type S3Options struct {
	// Endpoint of an S3-compatible service (path-style addressing). Empty:
	// AWS, or AWS_ENDPOINT_URL when set.
	Endpoint string
	Region   string
	// ChecksumWhenRequired turns the SDK's default request checksums off
	// for services that reject them ("when_required").
	ChecksumWhenRequired bool
	// PartSize for multipart uploads; 0 picks one from the object size.
	PartSize int64
	// Parallel parts in flight (default 4).
	Parallel int
	// MaxAttempts per request, retries included (default 10).
	MaxAttempts int
	// LimitBytesPerSec caps the upload rate of all requests together
	// (seed's --limit); 0: no cap.
	LimitBytesPerSec float64
	// Credentials, when set, replace the standard chain (tests).
	Credentials aws.CredentialsProvider
}

// S3 stores objects in a bucket under a prefix. Put checks every part and
// the whole object against SHA-256 on the server and never replaces an
// object (HEAD first, If-None-Match on the write).
type S3 struct {
	client *s3.Client
	bucket string
	prefix string // "" or ends in "/"
	opts   S3Options
}

var _ Store = (*S3)(nil)

const shaMetaKey = "gb-sha256"

// NewS3 connects to bucket with the standard AWS configuration chain
// (environment, AWS_PROFILE, ~/.aws/config and credentials).
func NewS3(ctx context.Context, bucket, prefix string, opts S3Options) (*S3, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	var lo []func(*awsconfig.LoadOptions) error
	if opts.Region != "" {
		lo = append(lo, awsconfig.WithRegion(opts.Region))
	}
	if opts.Credentials != nil {
		lo = append(lo, awsconfig.WithCredentialsProvider(opts.Credentials))
	}
	lo = append(lo, awsconfig.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = opts.MaxAttempts
			o.MaxBackoff = 20 * time.Second
			// The SDK's client-side retry quota gives up after a burst
			// of errors; a multi-day backup would rather keep trying
			// each request up to MaxAttempts.
			o.RateLimiter = ratelimit.None
		})
	}))
	cfg, err := awsconfig.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.HTTPClient = newThrottledClient(opts.LimitBytesPerSec)
		// Multipart objects have no whole-object checksum to validate on
		// GET; gb checks SHA-256 itself, so the SDK's stderr note is noise.
		o.DisableLogOutputChecksumValidationSkipped = true
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		if opts.Endpoint != "" || cfg.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
		if opts.ChecksumWhenRequired {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3{client: client, bucket: bucket, prefix: prefix, opts: opts}, nil
}

func (s *S3) String() string { return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/") }

func (s *S3) full(key string) string { return s.prefix + key }

// classify turns an S3 error into the store's sentinels, once, where it
// arises.
func (s *S3) classify(key string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case code == "NoSuchKey" || code == "NotFound" || (status == http.StatusNotFound && code != "NoSuchBucket"):
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	case code == "InvalidObjectState":
		return fmt.Errorf("%s: %w", key, ErrFrozen)
	case code == "PreconditionFailed" || status == http.StatusPreconditionFailed:
		return fmt.Errorf("%s: %w", key, ErrExists)
	case code == "BadDigest" || code == "XAmzContentSHA256Mismatch" || code == "XAmzContentChecksumMismatch" || code == "InvalidDigest":
		return fmt.Errorf("%s: %w (%s)", key, ErrChecksum, code)
	case code == "NoSuchBucket":
		return fmt.Errorf("bucket %s does not exist (create it, or fix the destination): %w", s.bucket, err)
	case code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "AccessDenied":
		return fmt.Errorf("bucket %s: %s: check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID) and the bucket policy: %w", s.bucket, code, err)
	}
	return fmt.Errorf("%s: %w", key, err)
}

// Check makes sure the bucket is there and the credentials work, so a run
// fails with one clear line before it packs and uploads anything.
func (s *S3) Check(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket})
	if err == nil {
		return nil
	}
	var re *smithyhttp.ResponseError
	status := 0
	region := ""
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
		if re.Response != nil {
			region = re.Response.Header.Get("X-Amz-Bucket-Region")
		}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role") || strings.Contains(msg, "static credentials are empty"):
		return fmt.Errorf("bucket %s: no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", s.bucket)
	case status == http.StatusNotFound:
		return fmt.Errorf("bucket %s does not exist at %s; create it or fix the destination", s.bucket, s.where())
	case status == http.StatusForbidden:
		return fmt.Errorf("bucket %s: access denied; check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID) and that the policy allows s3:ListBucket on it", s.bucket)
	case region != "" && (status == http.StatusMovedPermanently || status == http.StatusBadRequest || status == http.StatusForbidden):
		return fmt.Errorf("bucket %s is in region %s; set s3_region = %s (or AWS_REGION)", s.bucket, region, region)
	case status == http.StatusMovedPermanently || status == http.StatusBadRequest && strings.Contains(msg, "region"):
		return fmt.Errorf("bucket %s is in another region; set s3_region (or AWS_REGION) to the bucket's region", s.bucket)
	}
	return fmt.Errorf("bucket %s at %s: %w", s.bucket, s.where(), err)
}

func (s *S3) where() string {
	if s.opts.Endpoint != "" {
		return s.opts.Endpoint
	}
	return "AWS"
}

// Head describes an object.
func (s *S3) Head(ctx context.Context, key string) (ObjectInfo, error) {
	if err := CheckKey(key); err != nil {
		return ObjectInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(s.full(key))})
	if err != nil {
		return ObjectInfo{}, s.classify(key, err)
	}
	info := ObjectInfo{Key: key, Size: aws.ToInt64(out.ContentLength), StorageClass: class(string(out.StorageClass)),
		UploadedAt: aws.ToTime(out.LastModified).UTC(), ETag: strings.Trim(aws.ToString(out.ETag), `"`), Metadata: out.Metadata}
	info.SHA256 = out.Metadata[shaMetaKey]
	if out.Restore != nil {
		info.Restore = parseRestore(*out.Restore)
	}
	return info, nil
}

func class(c string) string {
	if c == "" {
		return Standard
	}
	return c
}

var (
	restoreOngoing = regexp.MustCompile(`ongoing-request="(true|false)"`)
	restoreExpiry  = regexp.MustCompile(`expiry-date="([^"]+)"`)
)

// parseRestore reads x-amz-restore: ongoing-request="false",
// expiry-date="Fri, 21 Dec 2012 00:00:00 GMT".
func parseRestore(h string) RestoreStatus {
	var rs RestoreStatus
	m := restoreOngoing.FindStringSubmatch(h)
	if m == nil {
		return rs
	}
	rs.Requested = true
	rs.Ongoing = m[1] == "true"
	if e := restoreExpiry.FindStringSubmatch(h); e != nil {
		if t, err := http.ParseTime(e[1]); err == nil {
			rs.ExpiresAt = t.UTC()
		}
	}
	return rs
}

// Get reads length bytes from offset.
func (s *S3) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("%s: negative offset %d", key, offset)
	}
	info, err := s.Head(ctx, key)
	if err != nil {
		return nil, err
	}
	if offset > info.Size || (offset == info.Size && length != 0 && info.Size > 0) {
		return nil, fmt.Errorf("%s: offset %d is past the end (%d bytes)", key, offset, info.Size)
	}
	if length == 0 || info.Size == 0 {
		if IsCold(info.StorageClass) && !info.Readable(time.Now()) {
			return nil, fmt.Errorf("%s: %w", key, ErrFrozen)
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.full(key))}
	end := info.Size - 1
	if length > 0 && offset+length-1 < end {
		end = offset + length - 1
	}
	in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, end))
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, s.classify(key, err)
	}
	return out.Body, nil
}

// List calls fn for every object under prefix, in key order.
func (s *S3) List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.full(prefix)),
		OptionalObjectAttributes: []types.OptionalObjectAttributes{types.OptionalObjectAttributesRestoreStatus}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return s.classify(prefix, err)
		}
		objs := page.Contents
		sort.Slice(objs, func(i, j int) bool { return aws.ToString(objs[i].Key) < aws.ToString(objs[j].Key) })
		for _, o := range objs {
			k := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if CheckKey(k) != nil {
				continue
			}
			info := ObjectInfo{Key: k, Size: aws.ToInt64(o.Size), StorageClass: class(string(o.StorageClass)), UploadedAt: aws.ToTime(o.LastModified).UTC(),
				ETag: strings.Trim(aws.ToString(o.ETag), `"`)}
			if rs := o.RestoreStatus; rs != nil {
				info.Restore = RestoreStatus{Requested: true, Ongoing: aws.ToBool(rs.IsRestoreInProgress), ExpiresAt: aws.ToTime(rs.RestoreExpiryDate).UTC()}
			}
			if err := fn(info); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete removes an object; a missing one is not an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.full(key))})
	if err = s.classify(key, err); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Restore asks for a readable copy of a cold object.
func (s *S3) Restore(ctx context.Context, key string, req RestoreRequest) error {
	info, err := s.Head(ctx, key)
	if err != nil {
		return err
	}
	if !IsCold(info.StorageClass) {
		return nil
	}
	if req.Days <= 0 {
		req.Days = 1
	}
	if req.Tier == "" {
		req.Tier = TierBulk
	}
	_, err = s.client.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: &s.bucket, Key: aws.String(s.full(key)),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(int32(req.Days)), GlacierJobParameters: &types.GlacierJobParameters{Tier: types.Tier(req.Tier)}}})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "RestoreAlreadyInProgress" {
		return nil
	}
	return s.classify(key, err)
}

// Put stores size bytes of body under key: one PUT up to the part size,
// else a multipart upload with parts in parallel. Every request carries a
// SHA-256 the server checks; the whole object's SHA-256 is checked while
// the parts are read and kept as metadata.
func (s *S3) Put(ctx context.Context, key string, body io.ReaderAt, size int64, opts PutOptions) (ObjectInfo, error) {
	if err := CheckKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if _, err := s.Head(ctx, key); err == nil {
		return ObjectInfo{}, fmt.Errorf("%s: %w", key, ErrExists)
	} else if !errors.Is(err, ErrNotFound) {
		return ObjectInfo{}, err
	}
	if opts.StorageClass == "" {
		opts.StorageClass = Standard
	}
	meta := map[string]string{}
	for k, v := range opts.Metadata {
		meta[strings.ToLower(k)] = v
	}
	partSize := s.opts.PartSize
	if partSize <= 0 {
		partSize = cost.PartSize(size)
	}
	var err error
	if size <= partSize {
		err = s.putSingle(ctx, key, body, size, opts, meta)
		if err == nil && opts.Sent != nil {
			*opts.Sent = size
		}
	} else {
		err = s.putMultipart(ctx, key, body, size, partSize, opts, meta)
	}
	if err != nil {
		return ObjectInfo{}, err
	}
	info, err := s.Head(ctx, key)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("check after upload: %w", err)
	}
	if info.Size != size || (opts.SHA256 != "" && info.SHA256 != opts.SHA256) {
		return ObjectInfo{}, fmt.Errorf("%s: stored object has size %d and sha256 %q, want %d and %q", key, info.Size, info.SHA256, size, opts.SHA256)
	}
	return info, nil
}

// unsignedPayload skips the SDK's own SHA-256 of every body for the
// request signature: each body already carries gb's SHA-256 checksum,
// which the server verifies, so a second pass over every byte would only
// cost a core.
var unsignedPayload = s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c is S3's CRC32C checksum header value: base64 of the big-endian sum.
func crc32c(b []byte) string {
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], crc32.Checksum(b, castagnoli))
	return base64.StdEncoding.EncodeToString(v[:])
}

func b64(sum []byte) *string { return aws.String(base64.StdEncoding.EncodeToString(sum)) }

func (s *S3) putSingle(ctx context.Context, key string, body io.ReaderAt, size int64, opts PutOptions, meta map[string]string) error {
	buf := make([]byte, size)
	if n, err := body.ReadAt(buf, 0); int64(n) != size {
		return fmt.Errorf("%s: read %d of %d bytes: %v", key, n, size, err)
	}
	sum := sha256.Sum256(buf)
	if opts.SHA256 != "" && hex.EncodeToString(sum[:]) != opts.SHA256 {
		return fmt.Errorf("%s: %w: body has sha256 %x, want %s", key, ErrChecksum, sum, opts.SHA256)
	}
	meta[shaMetaKey] = hex.EncodeToString(sum[:])
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String(s.full(key)), Body: sendBody(buf, opts.Progress),
		ContentLength: aws.Int64(size), StorageClass: types.StorageClass(opts.StorageClass), Metadata: meta,
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: b64(sum[:]), IfNoneMatch: aws.String("*")}, unsignedPayload)
	return s.classify(key, err)
}

func (s *S3) putMultipart(ctx context.Context, key string, body io.ReaderAt, size, partSize int64, opts PutOptions, meta map[string]string) error {
	// The whole object's SHA-256 goes into the metadata at create time,
	// so the body is hashed first when the caller did not say.
	whole := opts.SHA256
	if whole == "" {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(body, 0, size)); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		whole = hex.EncodeToString(h.Sum(nil))
	}
	meta[shaMetaKey] = whole
	up, err := s.startUpload(ctx, key, size, partSize, whole, opts, meta)
	if err != nil {
		return err
	}
	parts, sum, err := up.sendParts(ctx, body, size, partSize)
	if err == nil && hex.EncodeToString(sum) != whole {
		err = fmt.Errorf("%s: %w: body has sha256 %x, want %s", key, ErrChecksum, sum, whole)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		up.abort(ctx)
		return err
	}
	if opts.Sent != nil {
		*opts.Sent = up.sent.Load()
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: aws.String(s.full(key)), UploadId: up.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, IfNoneMatch: aws.String("*")})
	if err != nil {
		up.abort(ctx)
		return s.classify(key, err)
	}
	if opts.Journal != "" {
		os.Remove(opts.Journal)
	}
	return nil
}

// upload is one multipart upload under way.
type upload struct {
	s    *S3
	key  string
	id   *string
	done map[int32]types.Part // parts the server already holds, by number
	opts PutOptions
	sent atomic.Int64 // bytes sent, parts the server held not counted
}

// startUpload resumes the upload that opts.Journal names when it is of the
// same bytes (size, SHA-256, part size) to the same key, keeping the parts
// an earlier run left; else it creates one, and journals it when asked.
func (s *S3) startUpload(ctx context.Context, key string, size, partSize int64, whole string, opts PutOptions, meta map[string]string) (*upload, error) {
	up := &upload{s: s, key: key, done: map[int32]types.Part{}, opts: opts}
	if j, ok := readJournal(opts.Journal); ok {
		if j.Bucket == s.bucket && j.Key == s.full(key) && j.Size == size && j.SHA256 == whole && j.PartSize == partSize {
			if parts, err := s.listParts(ctx, key, j.UploadID); err == nil {
				up.id = aws.String(j.UploadID)
				up.done = parts
				return up, nil
			}
		} else if j.Bucket == s.bucket {
			// Other bytes now: the old parts can never be used.
			s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: aws.String(j.Key), UploadId: aws.String(j.UploadID)})
		}
	}
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: aws.String(s.full(key)),
		StorageClass: types.StorageClass(opts.StorageClass), Metadata: meta, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	if err != nil {
		return nil, s.classify(key, err)
	}
	up.id = created.UploadId
	if opts.Journal != "" {
		if err := writeJournal(opts.Journal, journal{Bucket: s.bucket, Key: s.full(key), UploadID: *up.id, Size: size, SHA256: whole, PartSize: partSize}); err != nil {
			return nil, fmt.Errorf("%s: upload journal: %w", key, err)
		}
	}
	return up, nil
}

// abort gives the upload up, unless it was interrupted (ctx canceled) and
// journaled: then its parts are kept for the next run.
func (up *upload) abort(ctx context.Context) {
	if up.opts.Journal != "" && ctx.Err() != nil {
		return
	}
	s := up.s
	// A fresh context: the caller's may be what was canceled.
	actx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: aws.String(s.full(up.key)), UploadId: up.id})
}

// sendParts reads the body part by part, in order, hashing it whole as it
// goes, and sends the parts on s.opts.Parallel goroutines. It returns the
// completed parts and the body's SHA-256, or the first error.
func (up *upload) sendParts(ctx context.Context, body io.ReaderAt, size, partSize int64) ([]types.CompletedPart, []byte, error) {
	nparts := int((size + partSize - 1) / partSize)
	parts := make([]types.CompletedPart, nparts)
	h := sha256.New()
	parallel := up.s.opts.Parallel
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	var readErr error
	// Part buffers are reused: memory stays at (parallel + 1) parts
	// whatever the object's size.
	bufs := make(chan []byte, parallel+1)
	for range parallel + 1 {
		bufs <- make([]byte, partSize)
	}
	for i := 0; i < nparts; i++ {
		off := int64(i) * partSize
		n := min(partSize, size-off)
		var buf []byte
		select {
		case buf = <-bufs:
		case <-gctx.Done():
		}
		if buf == nil {
			break
		}
		buf = buf[:n]
		if k, err := body.ReadAt(buf, off); int64(k) != n {
			readErr = fmt.Errorf("%s: read part %d: %d of %d bytes: %v", up.key, i+1, k, n, err)
			break
		}
		h.Write(buf)
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			defer func() { bufs <- buf[:cap(buf)] }()
			p, err := up.sendPart(gctx, int32(i+1), buf)
			parts[i] = p
			return err
		})
	}
	err := g.Wait()
	if err == nil {
		err = readErr
	}
	return parts, h.Sum(nil), err
}

// sendPart uploads part number num, unless the server holds it already
// with the same checksum.
func (up *upload) sendPart(ctx context.Context, num int32, buf []byte) (types.CompletedPart, error) {
	s, n := up.s, int64(len(buf))
	// CRC32C per part: the server checks it at a fraction of the cost of
	// a SHA-256 (on a small server that is the bottleneck), and the whole
	// object's SHA-256 is checked as parts are read.
	sum := crc32c(buf)
	if have, ok := up.done[num]; ok && aws.ToString(have.ChecksumCRC32C) == sum {
		if up.opts.Progress != nil {
			up.opts.Progress(n)
		}
		return types.CompletedPart{PartNumber: aws.Int32(num), ChecksumCRC32C: have.ChecksumCRC32C, ETag: have.ETag}, nil
	}
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &s.bucket, Key: aws.String(s.full(up.key)), UploadId: up.id,
		PartNumber: aws.Int32(num), Body: sendBody(buf, up.opts.Progress), ContentLength: aws.Int64(n),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumCRC32C: aws.String(sum)}, unsignedPayload)
	if err != nil {
		return types.CompletedPart{}, s.classify(up.key, err)
	}
	p := types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32C: out.ChecksumCRC32C}
	if p.ChecksumCRC32C == nil {
		p.ChecksumCRC32C = aws.String(sum)
	}
	up.sent.Add(n)
	fault.Point("s3.part")
	return p, nil
}

// sendBody is a request body of b; with progress set, it reports bytes as
// the HTTP client reads them to send.
func sendBody(b []byte, progress func(int64)) io.ReadSeeker {
	if progress == nil {
		return bytes.NewReader(b)
	}
	return &progressBody{r: bytes.NewReader(b), progress: progress}
}

// progressBody reports how far a request body has been read. A retry
// rewinds it and sends it again; only bytes past the furthest point read
// before are reported, so a part sent twice counts once.
type progressBody struct {
	r        *bytes.Reader
	high     int64
	progress func(int64)
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if pos := b.r.Size() - int64(b.r.Len()); pos > b.high {
		b.progress(pos - b.high)
		b.high = pos
	}
	return n, err
}

func (b *progressBody) Seek(offset int64, whence int) (int64, error) {
	return b.r.Seek(offset, whence)
}

func (b *progressBody) Len() int { return b.r.Len() }

// journal is what resuming an upload needs; the parts themselves are asked
// of the server (ListParts), which is the only authority on them.
type journal struct {
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	UploadID string `json:"upload_id"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	PartSize int64  `json:"part_size"`
}

func readJournal(p string) (journal, bool) {
	var j journal
	if p == "" {
		return j, false
	}
	b, err := os.ReadFile(p)
	if err != nil || json.Unmarshal(b, &j) != nil || j.UploadID == "" {
		return j, false
	}
	return j, true
}

func writeJournal(p string, j journal) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	tmp := layout.Partial(p)
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// listParts returns the parts the server holds for an upload, by number.
func (s *S3) listParts(ctx context.Context, key, uploadID string) (map[int32]types.Part, error) {
	out := map[int32]types.Part{}
	p := s3.NewListPartsPaginator(s.client, &s3.ListPartsInput{Bucket: &s.bucket, Key: aws.String(s.full(key)), UploadId: aws.String(uploadID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.classify(key, err)
		}
		for _, part := range page.Parts {
			out[aws.ToInt32(part.PartNumber)] = part
		}
	}
	return out, nil
}

// Client is the SDK client (tests create buckets with it).
func (s *S3) Client() *s3.Client { return s.client }
