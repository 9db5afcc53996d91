package records_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/records"
)

func parseLine(t testing.TB, raw string) records.Line {
	t.Helper()
	r := records.NewReader(strings.NewReader("\n"+raw+"\n"), "stdin")
	l, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

const (
	atomLine   = `{"kind":"atom","source":"/home/me/Documents","atom":"/home/me/Documents/letters","path":"/home/me/Documents/letters","type":"dir","mode":"MUTABLE","encrypt":false,"files":212,"dirs":14,"bytes":300006123,"hash":"sha256:2b047acf9c0a3e5f7b2d41c8e6f1a9b3d5e7c2a4f6b8d0e1c3a5f7b9d1e3c5a7"}`
	splitLine  = `{"kind":"atom","source":"/tmp/gbdoc/src/photos","atom":"/tmp/gbdoc/src/photos","path":"/tmp/gbdoc/src/photos","type":"tree","mode":"IMMUTABLE","encrypt":true,"keys":"age-x25519:0123456789abcdef","files":4,"dirs":3,"bytes":2300000,"hash":"sha256:b8828420","warnings":2,"parts":[{"from":"/tmp/gbdoc/src/photos/2019/feb.jpg","files":1,"bytes":500000},{"from":"/tmp/gbdoc/src/photos/2019/B\ufffdcher","from_b64":"L3RtcC9nYmRvYy9zcmMvcGhvdG9zLzIwMTkvQvxjaGVy","files":3,"bytes":1800000}],"custom":{"x":[1,2]}}`
	packedLine = `{"kind":"packed","bag":"bag_000002","key":"2026-backup/home-me-Documents_bag_000002.tar.zst","file":"/var/lib/gb/stage/home-me-Documents_bag_000002.tar.zst","bytes":701765,"sha256":"a5fb76a0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8","compress":"zstd","files":6,"content_bytes":700007,"manifest":"/var/lib/gb/manifests/home-me-Documents_bag_000002.manifest.ndjson","manifest_key":"2026-backup/manifests/home-me-Documents_bag_000002.manifest.ndjson","packed_at":"2026-03-01T02:00:00Z"}`
)

// bagLine is a bag of n atoms, as gb-plan writes it.
func bagLine(n int) string {
	var b strings.Builder
	b.WriteString(`{"kind":"bag","id":"bag_000007","key":"2026-backup/home-me-Documents_bag_000007.tar.zst","source":"/home/me/Documents","mode":"MUTABLE","label":"home-me-Documents","compress":"zstd","encrypt":false,"excludes":["*.tmp","cache/"],"files":4240,"bytes":6000120000,"atoms":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"atom":"/home/me/Documents/letters-2019","path":"/home/me/Documents/letters-2019","type":"dir","hash":"sha256:2b047acf9c0a3e5f7b2d41c8e6f1a9b3d5e7c2a4f6b8d0e1c3a5f7b9d1e3c5a7","files":212,"bytes":300006000}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

func TestDecode(t *testing.T) {
	a, err := records.Decode[records.Atom](parseLine(t, splitLine))
	if err != nil {
		t.Fatal(err)
	}
	want := records.Atom{Kind: "atom", Source: "/tmp/gbdoc/src/photos", Key: "/tmp/gbdoc/src/photos", Path: "/tmp/gbdoc/src/photos", Type: "tree", Mode: "IMMUTABLE",
		Encrypt: true, Keys: "age-x25519:0123456789abcdef", Files: 4, Dirs: 3, Bytes: 2300000, Hash: "sha256:b8828420", Warnings: 2,
		Parts: []records.Part{{From: "/tmp/gbdoc/src/photos/2019/feb.jpg", Files: 1, Bytes: 500000},
			{From: "/tmp/gbdoc/src/photos/2019/B\ufffdcher", FromB64: "L3RtcC9nYmRvYy9zcmMvcGhvdG9zLzIwMTkvQvxjaGVy", Files: 3, Bytes: 1800000}}}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("got  %+v\nwant %+v", a, want)
	}
	if from, err := a.Parts[1].ExactFrom(); err != nil || from != "/tmp/gbdoc/src/photos/2019/B\xfccher" {
		t.Errorf("ExactFrom = %q, %v", from, err)
	}
	p, err := records.Decode[records.Packed](parseLine(t, packedLine))
	if err != nil {
		t.Fatal(err)
	}
	if p.Bytes != 701765 || p.PackedAt != time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC) || p.ManifestKey == "" {
		t.Errorf("packed: %+v", p)
	}
	b, err := records.Decode[records.Bag](parseLine(t, bagLine(3)))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Atoms) != 3 || b.Atoms[2].Files != 212 || len(b.Excludes) != 2 {
		t.Errorf("bag: %+v", b)
	}
	// The summary's Outcome fields decode like its own.
	s, err := records.Decode[records.PutSummary](parseLine(t, `{"kind":"put","bags":2,"status":"failed","error":"disk full","upstream":"gb-pack"}`))
	if err != nil || s.Bags != 2 || s.Status != records.StatusFailed || s.Error != "disk full" || s.Upstream != "gb-pack" {
		t.Errorf("put summary: %+v, %v", s, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, raw, want string
		decode          func(records.Line) error
	}{
		{"wrong type", `{"kind":"bag","id":"bag_000001","bytes":"12"}`, `stdin:2: bag record: field "bytes": got string, want an integer`,
			func(l records.Line) error { _, err := records.Decode[records.Bag](l); return err }},
		{"nested", `{"kind":"bag","atoms":[{"atom":"/a","files":1.5}]}`, `stdin:2: bag record: field "atoms.files": got number 1.5, want an integer`,
			func(l records.Line) error { _, err := records.Decode[records.Bag](l); return err }},
		{"object for array", `{"kind":"atom","parts":{}}`, `stdin:2: atom record: field "parts": got object, want array`,
			func(l records.Line) error { _, err := records.Decode[records.Atom](l); return err }},
		{"bad time", `{"kind":"packed","bag":"bag_000001","packed_at":"yesterday"}`, `stdin:2: packed record: field "packed_at": parsing time`,
			func(l records.Line) error { _, err := records.Decode[records.Packed](l); return err }},
		{"bool", `{"kind":"atom","encrypt":"yes"}`, `stdin:2: atom record: field "encrypt": got string, want true or false`,
			func(l records.Line) error {
				var a records.Atom
				return parseLine(t, `{"kind":"atom","encrypt":"yes"}`).Decode(&a)
			}},
		{"outcome", `{"kind":"scan","status":1}`, `stdin:2: scan record: field "status": got number, want string`,
			func(l records.Line) error { _, err := records.Decode[records.ScanSummary](l); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.decode(parseLine(t, tc.raw))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v, want %s…", err, tc.want)
			}
			var le *records.LineError
			if !errors.As(err, &le) || le.Line != 2 || le.Name != "stdin" {
				t.Errorf("not a LineError at stdin:2: %#v", err)
			}
		})
	}
}

// Unknown fields are ignored on decode, and a record passed on is its
// original bytes.
func TestDecodeIgnoresUnknownFields(t *testing.T) {
	raw := `{"kind":"packed","mine":{"deep":[1,"x"]},"bag":"bag_000003","zzz":null}`
	p, err := records.Decode[records.Packed](parseLine(t, raw))
	if err != nil || p.Bag != "bag_000003" {
		t.Fatalf("%+v, %v", p, err)
	}
}
