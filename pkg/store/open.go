package store

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// RestoreDelayEnv sets the local store's restore delay, for every tier (a
// Go duration such as "30s" or "0s") or per tier ("Bulk=2m,Standard=30s",
// see ParseRestoreDelay), when the caller gives none.
const RestoreDelayEnv = "GB_LOCAL_RESTORE_DELAY"

const acceptedForms = "use file:///absolute/dir or s3://bucket/prefix"

// OpenOptions configure the store Open makes.
type OpenOptions struct {
	Local LocalOptions
	S3    S3Options
}

// Open returns the store a destination URL names:
//
//	file:///abs/dir       a Local store in dir, created when missing
//	s3://bucket/prefix    an S3 bucket (prefix optional)
//
// For a local store, opts.Local.RestoreDelay falls back to RestoreDelayEnv.
func Open(ctx context.Context, rawURL string, oo OpenOptions) (Store, error) {
	opts := oo.Local
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("destination %q is not a URL; %s", rawURL, acceptedForms)
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		return openFile(rawURL, u, opts)
	case "s3":
		if u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("destination %q: an S3 destination is s3://bucket or s3://bucket/prefix", rawURL)
		}
		return NewS3(ctx, u.Host, u.Path, oo.S3)
	}
	return nil, fmt.Errorf("destination %q: unknown scheme %q; %s", rawURL, u.Scheme, acceptedForms)
}

func openFile(rawURL string, u *url.URL, opts LocalOptions) (Store, error) {
	switch {
	case u.Opaque != "":
		return nil, fmt.Errorf("destination %q: a file URL needs an absolute path, as in file:///absolute/dir", rawURL)
	case u.Host != "" && u.Host != "localhost":
		return nil, fmt.Errorf("destination %q: a file URL needs an absolute path and three slashes, as in file:///%s%s", rawURL, u.Host, u.Path)
	case u.Path == "" || !strings.HasPrefix(u.Path, "/"):
		return nil, fmt.Errorf("destination %q: a file URL needs an absolute path, as in file:///absolute/dir", rawURL)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("destination %q: a file URL takes no query or fragment (escape ? as %%3F and # as %%23)", rawURL)
	}
	if opts.RestoreDelay == nil {
		if v := os.Getenv(RestoreDelayEnv); v != "" {
			d, err := ParseRestoreDelay(v)
			if err != nil {
				return nil, err
			}
			opts.RestoreDelay = d
		}
	}
	dir := filepath.FromSlash(u.Path)
	if err := mkdirAllSync(dir); err != nil {
		return nil, fmt.Errorf("destination %q: %w", rawURL, err)
	}
	return NewLocal(dir, opts)
}
