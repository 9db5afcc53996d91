package manifest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// decodeCases are lines Decode must read as encoding/json does: the
// lines gb-pack writes, and lines the fast scanner leaves to
// encoding/json.
var decodeCases = []string{
	`{"kind":"file","path":"/src/docs/a.txt","type":"file","size":12,"mtime":"2024-03-01T12:34:56.1Z","mode":"0644","sha256":"abc","atom":"/src/docs"}`,
	`{"kind":"file","path":"/src/b\ufffdname","path_b64":"L3NyYy9i/25hbWU=","type":"file","size":1,"mtime":"x","mode":"0600","atom":"/src/","changed":true,"sparse":true,"data_bytes":0,"nlink":2,"inode":"1:2"}`,
	`{"kind":"file","path":"/src/l","type":"symlink","size":0,"mtime":"x","mode":"0777","link":"../t","link_b64":"","atom":"/src","sparse":false}`,
	`{"kind":"file","path":"/src/x","type":"file","size":1,"xattrs":["user.a","user.b"]}`,
	`{"kind":"file","path":"tab\there","size":-5}`,
	`{"kind":"file","path":"say \"cheese\"","size":1}`,
	`{"kind":"file","path":"ünïcode ✓","size":1}`,
	` { "kind" : "file" , "path" : "/a" , "size" : 0 } `,
	`{"kind":"manifest_end","files":3,"bytes":10,"bag_sha256":"ab","bag_bytes":99}`,
	`{"kind":"manifest","bag":"bag_000001","key":"k","source":"/s","created_at":"2026-01-01T00:00:00Z","layers":["tar"],"open":"tar x"}`,
	`{"kind":"file","KIND":"other","Path":"/p"}`,
	`{"kind":"file","path":"/a","path":"/b"}`,
	`{"kind":"file","extra":null,"more":{"a":1},"n":1.5,"t":true,"f":false,"s":"x"}`,
	`{}`,
	`{"kind":5}`,
	`{"kind":"file","size":"12"}`,
	`{"kind":"file","size":1.5}`,
	`{"kind":"file","size":1e3}`,
	`{"kind":"file","size":012}`,
	`{"kind":"file","size":99999999999999999999}`,
	`{"kind":"file","nlink":-1}`,
	`{"kind":"file","nlink":18446744073709551615}`,
	`{"kind":"file","changed":tru}`,
	`{"kind":"file","path":null}`,
	"{\"kind\":\"file\",\"path\":\"bad\xff\xfe\"}",
	"{\"kind\":\"file\",\"path\":\"ctl\x01\"}",
	`{"kind":"file",}`,
	`{"kind":"file"} x`,
	`{"kind":"file"`,
	`{"kind"`,
	`[1,2]`,
	`null`,
	`not json`,
	``,
}

func TestDecodeAsEncodingJSON(t *testing.T) {
	for _, line := range decodeCases {
		checkDecode(t, []byte(line))
	}
}

func checkDecode(t *testing.T, raw []byte) {
	t.Helper()
	var want Entry
	werr := json.Unmarshal(raw, &want)
	got := Entry{Kind: "stale", Xattrs: []string{"stale"}} // Decode starts afresh
	gerr := got.Decode(raw)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: error %v, encoding/json %v", raw, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %+v\nwant %+v", raw, got, want)
	}
}

// TestDecodeFastPath: the lines gb-pack writes take the scanner, not
// encoding/json (which would make Decode correct but slow).
func TestDecodeFastPath(t *testing.T) {
	n := int64(7)
	for _, e := range []Entry{
		{Kind: KindFile, Path: "/src/a b/c.txt", Type: "file", Size: 1 << 40, Mtime: "2024-03-01T12:34:56.123456789Z", Mode: "0644", SHA256: "ab12", Atom: "/src/a b"},
		{Kind: KindFile, Path: "/src/ünï", PathB64: "L3Ny", Type: "hardlink", Link: "/src/x", Atom: "/src/", AtomB64: "L3M=", Changed: true, Sparse: true, DataBytes: &n, Nlink: 3, Inode: "2049:77"},
	} {
		raw := e.AppendJSON(nil)
		var got Entry
		if !decodeFlat(raw[:len(raw)-1], &got) {
			t.Errorf("%s: not read by the scanner", raw)
		}
		checkDecode(t, raw)
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, line string) {
		checkDecode(t, []byte(line))
	})
}

func BenchmarkDecode(b *testing.B) {
	e := Entry{Kind: KindFile, Path: "/home/me/Projects/proj-0010/sub-03/file-000123.txt", Type: "file", Size: 4551,
		Mtime: "2026-01-01T00:02:03Z", Mode: "0644", SHA256: fmt.Sprintf("%064x", 974017), Atom: "/home/me/Projects/proj-0010"}
	raw := e.AppendJSON(nil)
	b.Run("Decode", func(b *testing.B) {
		for range b.N {
			var got Entry
			if err := got.Decode(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for range b.N {
			var got Entry
			if err := json.Unmarshal(raw, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
