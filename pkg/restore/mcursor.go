package restore

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
)

// maxRescans bounds how often a cursor reads its manifest again from the
// start for an entry it did not find ahead: a manifest that does not
// follow its bag's order would otherwise cost a pass per entry.
const maxRescans = 8

// manifestCursor walks a bag's manifest alongside the bag's tar stream.
// Both are in the same order (one manifest line per tar entry), so it
// finds each entry by reading ahead, and memory stays one line whatever
// the bag holds.
type manifestCursor struct {
	path    string
	f       *os.File
	r       *records.Reader
	rescans int
	source  string // the header's: a remote one ([user@]host:/path) names members differently
}

// openManifest opens a manifest and checks that its header names key.
func openManifest(path, key string) (*manifestCursor, error) {
	m := &manifestCursor{path: path}
	if err := m.reset(); err != nil {
		return nil, err
	}
	l, err := m.r.Next()
	var hdr manifest.Header
	if err == nil && l.Kind == manifest.KindHeader {
		err = json.Unmarshal(l.Raw, &hdr)
	}
	if err != nil || l.Kind != manifest.KindHeader {
		m.Close()
		return nil, fmt.Errorf("%s: no manifest header", path)
	}
	if hdr.Key != key {
		m.Close()
		return nil, fmt.Errorf("%s: the manifest of %s, not of %s", path, hdr.Key, key)
	}
	m.source = hdr.Source
	return m, nil
}

func (m *manifestCursor) reset() error {
	if m.f != nil {
		m.f.Close()
	}
	f, err := os.Open(m.path)
	if err != nil {
		return err
	}
	m.f, m.r = f, records.NewReader(f, m.path)
	return nil
}

func (m *manifestCursor) Close() {
	if m.f != nil {
		m.f.Close()
		m.f = nil
	}
}

// next returns the next file entry and its exact path, or io.EOF.
func (m *manifestCursor) next() (string, *manifest.Entry, error) {
	for {
		l, err := m.r.Next()
		if err != nil {
			return "", nil, err
		}
		if l.Kind != manifest.KindFile {
			continue
		}
		e, p, err := decodeEntry(l)
		if err != nil {
			return "", nil, fmt.Errorf("%s:%d: %w", m.path, l.No, err)
		}
		return p, e, nil
	}
}

// decodeEntry decodes a manifest file line and its exact path.
func decodeEntry(l records.Line) (*manifest.Entry, string, error) {
	e := new(manifest.Entry)
	if err := e.Decode(l.Raw); err != nil {
		return nil, "", err
	}
	p, err := records.DecodePath(e.Path, e.PathB64)
	if err != nil {
		return nil, "", err
	}
	return e, p, nil
}

// find returns the manifest entry for path p, or nil when the manifest
// does not list it.
func (m *manifestCursor) find(p string) (*manifest.Entry, error) {
	scan := func() (*manifest.Entry, error) {
		for {
			q, e, err := m.next()
			if err == io.EOF {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			if q == p {
				return e, nil
			}
		}
	}
	e, err := scan()
	if e != nil || err != nil || m.rescans >= maxRescans {
		return e, err
	}
	m.rescans++
	if err := m.reset(); err != nil {
		return nil, err
	}
	return scan()
}

// eachEntry calls fn for every file entry of the manifest at path.
func eachEntry(path string, fn func(p string, e *manifest.Entry) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := records.NewReader(f, path)
	return r.Each(func(l records.Line) error {
		if l.Kind != manifest.KindFile {
			return nil
		}
		e, p, err := decodeEntry(l)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, l.No, err)
		}
		return fn(p, e)
	})
}
