package s3test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// A Quirk makes the proxy behave like an S3-compatible server that lacks a
// behaviour of AWS S3 or has one of its own (no checksum verification, no
// ListMultipartUploads, no RestoreObject, another storage class...). The
// server under the tests (versitygw) has only its own quirks; these stand in
// for the others so each can be tested on every run.
type Quirk struct {
	// Doc says in one line what the quirk imitates.
	Doc string
	// Request, when set, sees every request first. It may answer it itself
	// (and return true), or change it before it goes on to the server.
	Request func(w http.ResponseWriter, r *http.Request) bool
	// Response, when set, may change the server's answer.
	Response func(resp *http.Response) error
}

var (
	quirksMu sync.Mutex
	quirks   = map[string]Quirk{}
)

// RegisterQuirk names a quirk for NewQuirky; files that add quirks call it
// from init.
func RegisterQuirk(name string, q Quirk) {
	quirksMu.Lock()
	defer quirksMu.Unlock()
	if _, dup := quirks[name]; dup {
		panic("s3test: quirk " + name + " registered twice")
	}
	quirks[name] = q
}

// QuirkNames lists the registered quirks.
func QuirkNames() []string {
	quirksMu.Lock()
	defer quirksMu.Unlock()
	var names []string
	for n := range quirks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Quirky is a proxy in front of an S3 endpoint that applies the named
// quirks in order.
type Quirky struct {
	URL string
	srv *httptest.Server
}

// Close stops the proxy.
func (q *Quirky) Close() { q.srv.Close() }

// NewQuirky starts a proxy in front of target with the named quirks.
func NewQuirky(target string, names ...string) (*Quirky, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	var qs []Quirk
	quirksMu.Lock()
	for _, n := range names {
		q, ok := quirks[n]
		if !ok {
			quirksMu.Unlock()
			return nil, fmt.Errorf("no quirk %q (known: %s)", n, strings.Join(QuirkNames(), ", "))
		}
		qs = append(qs, q)
	}
	quirksMu.Unlock()
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		for _, q := range qs {
			if q.Response != nil {
				if err := q.Response(resp); err != nil {
					return err
				}
			}
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, q := range qs {
			if q.Request != nil && q.Request(w, r) {
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	return &Quirky{URL: srv.URL, srv: srv}, nil
}

// NotImplemented answers as a server that lacks the operation.
func NotImplemented(w http.ResponseWriter) {
	s3Error(w, http.StatusNotImplemented, "NotImplemented", "A header you provided implies functionality that is not implemented.")
}

func init() {
	RegisterQuirk("no-list-uploads", Quirk{
		Doc: "ListMultipartUploads answers 501 NotImplemented (as on several S3-compatible servers)",
		Request: func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodGet && r.URL.Query().Has("uploads") {
				NotImplemented(w)
				return true
			}
			return false
		},
	})
}
