package store

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

type countingRT struct{ n int64 }

func (c *countingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	n, err := io.Copy(io.Discard, req.Body)
	c.n += n
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, err
}

// Every byte sent passes through the one limiter, and the request the
// caller made is left as it was.
func TestThrottleChargesEveryByte(t *testing.T) {
	c := newThrottledClient(1e12) // no waiting, only accounting
	th := c.Transport.(*throttle)
	base := &countingRT{}
	th.base = base
	body := bytes.Repeat([]byte("x"), 3<<20)
	req, _ := http.NewRequest("PUT", "http://127.0.0.1/b/k", bytes.NewReader(body))
	orig := req.Body
	if _, err := c.Do(req); err != nil {
		t.Fatal(err)
	}
	if base.n != int64(len(body)) {
		t.Fatalf("sent %d bytes, want %d", base.n, len(body))
	}
	if req.Body != orig {
		t.Fatal("the caller's request was changed")
	}
	// The limiter's bucket was drawn on: reads were charged.
	if tok := th.lim.Tokens(); tok > float64(th.lim.Burst()) {
		t.Fatalf("limiter holds %v tokens after sending", tok)
	}
	if newThrottledClient(0).Transport.(*http.Transport) == nil {
		t.Fatal("no limit: a plain transport")
	}
}
