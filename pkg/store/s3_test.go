package store_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gbarchive/gb/internal/s3test"
	"github.com/gbarchive/gb/pkg/store"
	"github.com/gbarchive/gb/pkg/store/storetest"
)

var bucketSeq atomic.Int64

func TestMain(m *testing.M) {
	code := m.Run()
	s3test.Stop()
	os.Exit(code)
}

// newVersity returns an S3 store on a fresh bucket of the shared versitygw.
func newVersity(t *testing.T, opts store.S3Options) *store.S3 {
	t.Helper()
	return newS3At(t, s3test.Endpoint(t), opts)
}

func newS3At(t *testing.T, ep string, opts store.S3Options) *store.S3 {
	t.Helper()
	opts.Endpoint = ep
	opts.Region = "us-east-1"
	opts.Credentials = credentials.NewStaticCredentialsProvider(s3test.Access, s3test.Secret, "")
	bucket := fmt.Sprintf("gb-test-%d", bucketSeq.Add(1))
	s, err := store.NewS3(context.Background(), bucket, "archive", opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil && !strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
		t.Fatalf("create bucket: %v", err)
	}
	return s
}

func TestS3ConformanceVersity(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New:           func(t *testing.T) store.Store { return newVersity(t, store.S3Options{PartSize: 5 << 20}) },
		NoColdStorage: "versitygw keeps every object STANDARD and has no RestoreObject",
	})
}

// The S3 store's Deep Archive paths (frozen GET, restore, x-amz-restore,
// listing with restore status) against versitygw behind a proxy that adds
// Deep Archive, with a clock the suite can move.
func TestS3ConformanceColdFake(t *testing.T) {
	var cold *s3test.Cold
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			cold = s3test.NewCold(t, time.Hour)
			return newS3At(t, cold.URL, store.S3Options{PartSize: 5 << 20})
		},
		Advance: func(t *testing.T, d time.Duration) { cold.Advance(d) },
	})
}

// Real AWS, only when asked: GB_TEST_S3_BUCKET (and optionally
// GB_TEST_S3_REGION, GB_TEST_S3_PREFIX) with credentials from the standard
// chain. Objects go under a fresh prefix per subtest and are deleted after.
// Deep Archive restores take hours, so the timed subtests are skipped.
func TestS3ConformanceAWS(t *testing.T) {
	bucket := os.Getenv("GB_TEST_S3_BUCKET")
	if bucket == "" {
		t.Skip("set GB_TEST_S3_BUCKET (and AWS credentials) to run the suite against real S3")
	}
	var seq atomic.Int64
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			prefix := fmt.Sprintf("%s/gb-test-%d-%d", os.Getenv("GB_TEST_S3_PREFIX"), time.Now().UnixNano(), seq.Add(1))
			s, err := store.NewS3(context.Background(), bucket, prefix, store.S3Options{Region: os.Getenv("GB_TEST_S3_REGION"), PartSize: 5 << 20})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				s.List(context.Background(), "", func(o store.ObjectInfo) error { return s.Delete(context.Background(), o.Key) })
			})
			return s
		},
	})
}
