package s3test

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Cold is an in-process proxy in front of versitygw that adds what the
// server lacks: Deep Archive. Objects stored with a cold class are
// reported with it (HEAD, ListObjectsV2), a GET of one without a ready
// restored copy answers 403 InvalidObjectState, RestoreObject answers 202,
// 409 RestoreAlreadyInProgress or 200 as S3 does, and HEAD carries
// x-amz-restore. Its clock moves only by Advance.
type Cold struct {
	URL   string
	Delay time.Duration // restore delay, every tier

	mu    sync.Mutex
	now   time.Time
	state map[string]*coldObject // "bucket/key"
	srv   *httptest.Server
}

type coldObject struct {
	class       string
	requestedAt time.Time
	days        int
}

// NewCold starts the proxy for the test (closed at its end).
func NewCold(t testing.TB, delay time.Duration) *Cold {
	target, err := url.Parse(Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	c := &Cold{Delay: delay, now: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), state: map[string]*coldObject{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = c.modify
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { c.serve(w, r, rp) }))
	t.Cleanup(c.srv.Close)
	c.URL = c.srv.URL
	return c
}

// Advance moves the proxy's clock.
func (c *Cold) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func objectName(r *http.Request) (string, bool) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	b, k, ok := strings.Cut(p, "/")
	return b + "/" + k, ok && k != ""
}

// ready reports whether a restored copy is readable, and its expiry.
func (c *Cold) ready(o *coldObject) (requested, ongoing bool, expiry time.Time) {
	if o.requestedAt.IsZero() {
		return false, false, time.Time{}
	}
	readyAt := o.requestedAt.Add(c.Delay)
	expiry = readyAt.Add(time.Duration(o.days) * 24 * time.Hour)
	if !c.now.Before(expiry) {
		o.requestedAt = time.Time{} // expired: frozen again
		return false, false, time.Time{}
	}
	return true, c.now.Before(readyAt), expiry
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

func (c *Cold) serve(w http.ResponseWriter, r *http.Request, rp *httputil.ReverseProxy) {
	name, isObject := objectName(r)
	q := r.URL.Query()
	c.mu.Lock()
	o := c.state[name]
	c.mu.Unlock()
	switch {
	case isObject && r.Method == http.MethodPost && q.Has("restore"):
		if o == nil {
			// Not cold (or missing): let the server answer for missing
			// keys by a HEAD; a STANDARD object is an error in S3.
			s3Error(w, http.StatusForbidden, "InvalidObjectState", "restore is not allowed for the object's storage class")
			return
		}
		body, _ := io.ReadAll(r.Body)
		days := 1
		if m := regexp.MustCompile(`<Days>(\d+)</Days>`).FindSubmatch(body); m != nil {
			days, _ = strconv.Atoi(string(m[1]))
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		requested, ongoing, _ := c.ready(o)
		switch {
		case requested && ongoing:
			s3Error(w, http.StatusConflict, "RestoreAlreadyInProgress", "Object restore is already in progress")
		case requested:
			o.days = days
			w.WriteHeader(http.StatusOK)
		default:
			o.requestedAt, o.days = c.now, days
			w.WriteHeader(http.StatusAccepted)
		}
		return
	case isObject && r.Method == http.MethodGet && o != nil && !q.Has("uploadId") && !q.Has("tagging") && !q.Has("acl"):
		c.mu.Lock()
		requested, ongoing, _ := c.ready(o)
		c.mu.Unlock()
		if !requested || ongoing {
			s3Error(w, http.StatusForbidden, "InvalidObjectState", "The operation is not valid for the object's storage class")
			return
		}
	}
	rp.ServeHTTP(w, r)
}

var contentsRE = regexp.MustCompile(`(?s)<Contents>.*?</Contents>`)
var keyRE = regexp.MustCompile(`<Key>(.*?)</Key>`)
var classRE = regexp.MustCompile(`<StorageClass>.*?</StorageClass>`)

func (c *Cold) modify(resp *http.Response) error {
	r := resp.Request
	name, isObject := objectName(r)
	q := r.URL.Query()
	ok := resp.StatusCode/100 == 2
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case isObject && ok && r.Method == http.MethodPut && !q.Has("partNumber"):
		if cl := r.Header.Get("X-Amz-Storage-Class"); cl != "" && cl != "STANDARD" {
			c.state[name] = &coldObject{class: cl}
		}
	case isObject && ok && r.Method == http.MethodPost && q.Has("uploads"):
		if cl := r.Header.Get("X-Amz-Storage-Class"); cl != "" && cl != "STANDARD" {
			c.state["pending:"+name] = &coldObject{class: cl}
		}
	case isObject && ok && r.Method == http.MethodPost && q.Has("uploadId"):
		if o := c.state["pending:"+name]; o != nil {
			c.state[name] = o
			delete(c.state, "pending:"+name)
		}
	case isObject && ok && r.Method == http.MethodDelete:
		delete(c.state, name)
	case isObject && ok && r.Method == http.MethodHead:
		if o := c.state[name]; o != nil {
			resp.Header.Set("X-Amz-Storage-Class", o.class)
			if requested, ongoing, expiry := c.ready(o); requested {
				if ongoing {
					resp.Header.Set("X-Amz-Restore", `ongoing-request="true"`)
				} else {
					resp.Header.Set("X-Amz-Restore", fmt.Sprintf(`ongoing-request="false", expiry-date="%s"`, expiry.Format(http.TimeFormat)))
				}
			}
		}
	case !isObject && ok && r.Method == http.MethodGet && q.Get("list-type") == "2":
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		bucket := strings.Trim(r.URL.Path, "/")
		body = contentsRE.ReplaceAllFunc(body, func(block []byte) []byte {
			m := keyRE.FindSubmatch(block)
			if m == nil {
				return block
			}
			o := c.state[bucket+"/"+html.UnescapeString(string(m[1]))]
			if o == nil {
				return block
			}
			block = classRE.ReplaceAll(block, []byte("<StorageClass>"+o.class+"</StorageClass>"))
			if requested, ongoing, expiry := c.ready(o); requested {
				rs := fmt.Sprintf("<RestoreStatus><IsRestoreInProgress>%v</IsRestoreInProgress>", ongoing)
				if !ongoing {
					rs += "<RestoreExpiryDate>" + expiry.Format(time.RFC3339) + "</RestoreExpiryDate>"
				}
				rs += "</RestoreStatus>"
				block = bytes.Replace(block, []byte("</Contents>"), []byte(rs+"</Contents>"), 1)
			}
			return block
		})
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return nil
}
