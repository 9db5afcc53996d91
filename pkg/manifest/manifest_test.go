package manifest

import (
	"bytes"
	"encoding/json"
	"testing"
)

// AppendJSON writes what encoding/json writes, for every field and for
// strings that need escaping.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	n := int64(4096)
	odd := []string{"", "plain/path.txt", "a \"quoted\" name", `back\slash`, "new\nline\ttab\rcr\bbs\fff\x01\x1f",
		"Bücher", "bad\xffutf8", "<html>&amp;", "line\u2028sep\u2029", "emoji 😀", "\x7f del"}
	var entries []Entry
	for _, s := range odd {
		entries = append(entries, Entry{Kind: KindFile, Path: "/src/" + s, Type: "file", Size: 3, Mtime: "2026-01-02T03:04:05.123456789Z", Mode: "0644", Atom: "/src/" + s})
	}
	entries = append(entries,
		Entry{Kind: KindFile, Path: "/a", PathB64: "L2E=", Type: "hardlink", Size: 0, Mtime: "1971-01-01T00:00:00Z", Mode: "0755",
			SHA256: "ab12", Link: "/b", LinkB64: "L2I=", Atom: "/a", AtomB64: "L2E=", Changed: true, Sparse: true, DataBytes: &n,
			Xattrs: []string{"user.a", "system.posix_acl_access"}, Nlink: 2, Inode: "64768:1234"},
		Entry{Kind: KindFile, Path: "fox:/srv/x", Type: "dir", Size: -1, Mtime: "", Mode: "", Atom: "", DataBytes: new(int64), Xattrs: []string{}},
	)
	for _, e := range entries {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&e); err != nil {
			t.Fatal(err)
		}
		if got := e.AppendJSON(nil); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("AppendJSON:\n got %s\nwant %s", got, want.Bytes())
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a", "\"", "\\", "\n", "\xff", "\u2028", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// As json.Marshal, less its HTML escaping (manifest lines have none).
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}
