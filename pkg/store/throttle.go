package store

import (
	"context"
	"io"
	"net/http"

	"golang.org/x/time/rate"
)

// throttle limits the bytes every request of one store sends, all parts in
// flight together, at the HTTP transport: that counts what goes on the
// wire once, whereas a limit on the SDK's body would also be charged for
// the SDK's own reads of it (payload signing, retries' rewinds).
type throttle struct {
	base http.RoundTripper
	lim  *rate.Limiter
}

func newThrottledClient(bytesPerSec float64) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if bytesPerSec <= 0 {
		return &http.Client{Transport: tr}
	}
	// Bursts of 256 KiB: small enough that the average holds within a
	// second, large enough that waiting costs nothing at full speed.
	burst := 256 << 10
	return &http.Client{Transport: &throttle{base: tr, lim: rate.NewLimiter(rate.Limit(bytesPerSec), burst)}}
}

func (t *throttle) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return t.base.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.Body = &throttledBody{rc: req.Body, lim: t.lim, ctx: req.Context()}
	return t.base.RoundTrip(r)
}

type throttledBody struct {
	rc  io.ReadCloser
	lim *rate.Limiter
	ctx context.Context
}

func (b *throttledBody) Read(p []byte) (int, error) {
	if len(p) > b.lim.Burst() {
		p = p[:b.lim.Burst()]
	}
	n, err := b.rc.Read(p)
	if n > 0 {
		if werr := b.lim.WaitN(b.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}

func (b *throttledBody) Close() error { return b.rc.Close() }
