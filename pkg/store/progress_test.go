package store

import (
	"bytes"
	"io"
	"testing"
)

// A request body read, rewound for a retry and read again reports each
// byte once; without a callback the body is a plain bytes.Reader.
func TestProgressBodyCountsOnce(t *testing.T) {
	if _, ok := sendBody([]byte("x"), nil).(*bytes.Reader); !ok {
		t.Fatal("no callback: not a plain bytes.Reader")
	}
	b := bytes.Repeat([]byte("p"), 100<<10)
	var done int64
	body := sendBody(b, func(n int64) { done += n })
	buf := make([]byte, 30<<10)
	if _, err := io.ReadFull(body, buf); err != nil {
		t.Fatal(err)
	}
	if done != 30<<10 {
		t.Fatalf("after 30 KiB: %d", done)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, body)
	if err != nil || n != int64(len(b)) {
		t.Fatalf("resend: %d bytes, %v", n, err)
	}
	if done != int64(len(b)) {
		t.Fatalf("after a retry: told %d bytes, want %d", done, len(b))
	}
	if l, ok := body.(interface{ Len() int }); !ok || l.Len() != 0 {
		t.Fatal("Len does not say what is left")
	}
}
