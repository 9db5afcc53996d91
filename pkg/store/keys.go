package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrInvalidKey: the key breaks the rules every store keeps (see Store).
// Permanent: retrying cannot help.
var ErrInvalidKey = errors.New("invalid key")

// MaxKeyLen is S3's limit, kept by every store so a key that works in a
// rehearsal also works in the bucket.
const MaxKeyLen = 1024

// CheckKey reports whether key is one every store accepts: non-empty, at
// most MaxKeyLen bytes of UTF-8, slash-separated, not starting with "/",
// with no empty, "." or ".." element and no NUL byte. S3 itself would take most of
// these; they are refused so that a key means the same thing as a local
// path and as an S3 key.
func CheckKey(key string) error {
	bad := func(why string) error {
		return fmt.Errorf("key %q %s: %w", key, why, ErrInvalidKey)
	}
	switch {
	case key == "":
		return fmt.Errorf("empty key: %w", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return bad(fmt.Sprintf("is %d bytes, over the limit of %d", len(key), MaxKeyLen))
	case strings.IndexByte(key, 0) >= 0:
		return bad("contains a NUL byte")
	case !utf8.ValidString(key):
		return bad("is not valid UTF-8, which S3 requires")
	case strings.HasPrefix(key, "/"):
		return bad("starts with \"/\"")
	}
	for _, el := range strings.Split(key, "/") {
		switch el {
		case "":
			return bad("has an empty element (\"//\" or a trailing \"/\")")
		case ".", "..":
			return bad("has a \".\" or \"..\" element")
		}
	}
	return nil
}
