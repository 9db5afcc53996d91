package s3test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Faulty is a loopback proxy in front of the test server that misbehaves
// the way networks and S3 do: 503 SlowDown and 500 InternalError answers,
// connections reset in the middle of a part's upload, and stalls. Faults
// are drawn from a seeded generator, so a run is repeatable.
type Faulty struct {
	URL string
	// Counts of what was injected.
	SlowDowns, InternalErrors, Resets, Stalls atomic.Int64

	mu  sync.Mutex
	rnd *rand.Rand
}

// NewFaulty starts the proxy for t. Rates are per request.
func NewFaulty(t testing.TB, seed uint64) *Faulty {
	target, err := url.Parse(Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	f := &Faulty{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serve(w, r, rp) }))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *Faulty) draw() float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rnd.Float64()
}

func (f *Faulty) serve(w http.ResponseWriter, r *http.Request, rp *httputil.ReverseProxy) {
	x := f.draw()
	switch {
	case x < 0.08:
		f.SlowDowns.Add(1)
		io.Copy(io.Discard, r.Body)
		s3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return
	case x < 0.13:
		f.InternalErrors.Add(1)
		io.Copy(io.Discard, r.Body)
		s3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	case x < 0.18 && r.Method == http.MethodPut && r.ContentLength > 1<<20:
		// Take half the part, then drop the connection.
		f.Resets.Add(1)
		io.CopyN(io.Discard, r.Body, r.ContentLength/2)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case x < 0.28:
		f.Stalls.Add(1)
		time.Sleep(time.Second)
	}
	rp.ServeHTTP(w, r)
}

// String summarizes the injected faults.
func (f *Faulty) String() string {
	return fmt.Sprintf("%d SlowDown, %d InternalError, %d resets mid-part, %d stalls",
		f.SlowDowns.Load(), f.InternalErrors.Load(), f.Resets.Load(), f.Stalls.Load())
}

// NewOtherRegion starts a server that answers every request as S3 does for
// a bucket in another region (301 with x-amz-bucket-region).
func NewOtherRegion(t testing.TB, region string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Amz-Bucket-Region", region)
		s3Error(w, http.StatusMovedPermanently, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint.")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
