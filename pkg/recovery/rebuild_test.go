package recovery

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/store"
)

func TestParseManifest(t *testing.T) {
	const key = "2026-backup/encrypted_bag_000002.tar.zst.age"
	hdr := `{"kind":"manifest","bag":"bag_000002","key":"` + key + `","source":"/home/ann","created_at":"2026-01-15T02:00:00.5Z","layers":["tar","zstd","age"],"open":"x",` +
		`"encryption":{"scheme":"age-x25519","recipients":["age1b","age1a"],"keys":"age-x25519:00bb"},` +
		`"atoms":[{"atom":"/home/ann/a","type":"dir","hash":"sha256:aa","files":2,"bytes":10,"part":1,"parts":2}],"future":1}`
	file := `{"kind":"file","path":"/home/ann/a/x","type":"file","size":5,"mtime":"2026-01-01T00:00:00Z","mode":"0644","atom":"/home/ann/a"}`
	end := `{"kind":"manifest_end","files":2,"bytes":10,"bag_sha256":"abc","bag_bytes":99}`
	for _, tc := range []struct {
		name, text, err string
	}{
		{"complete", hdr + "\n" + file + "\n" + end + "\n", ""},
		{"no end line", hdr + "\n" + file + "\n", "no header or end line"},
		{"one line", hdr + "\n", "not a complete manifest"},
		{"another bag", strings.Replace(hdr, "bag_000002", "bag_000003", 1) + "\n" + end, "describes bag_000003"},
		{"no atoms", strings.Replace(hdr, `"atoms":`, `"atomz":`, 1) + "\n" + end, "lists no atoms"},
		{"not JSON", "{\n" + end, "header line"},
	} {
		b := &storedBag{id: "bag_000002", info: store.ObjectInfo{Key: key}, manifest: []byte(tc.text)}
		err := parseManifest(b)
		if tc.err == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			want := manifest.Header{Kind: "manifest", Bag: "bag_000002", Key: key, Source: "/home/ann", CreatedAt: b.hdr.CreatedAt, Layers: []string{"tar", "zstd", "age"}, Open: "x",
				Encryption: &manifest.Encryption{Scheme: "age-x25519", Recipients: []string{"age1b", "age1a"}, Keys: "age-x25519:00bb"},
				Atoms:      []manifest.Atom{{Atom: "/home/ann/a", Type: "dir", Hash: "sha256:aa", Files: 2, Bytes: 10, Part: 1, Parts: 2}}}
			if !reflect.DeepEqual(b.hdr, want) || b.hdr.CreatedAt.Nanosecond() != 5e8 {
				t.Errorf("%s: header %+v", tc.name, b.hdr)
			}
			if b.end.BagSHA != "abc" || b.end.BagLen != 99 {
				t.Errorf("%s: end %+v", tc.name, b.end)
			}
			if got := headerRecipients(b.manifest); !reflect.DeepEqual(got, []string{"age1a", "age1b"}) {
				t.Errorf("recipients %v", got)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestNewestComplete(t *testing.T) {
	bag := func(id string) *storedBag { return &storedBag{id: id} }
	b1, b2, b3, b4 := bag("bag_000001"), bag("bag_000002"), bag("bag_000003"), bag("bag_000004")
	at := func(hash string, part, parts int) manifest.Atom {
		return manifest.Atom{Hash: hash, Part: part, Parts: parts}
	}
	ids := func(ps []part) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.bag.id)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		parts []part
		want  []string
	}{
		{"one bag", []part{{b1, at("h1", 0, 0)}}, []string{"bag_000001"}},
		{"the newer packing wins", []part{{b1, at("h1", 0, 0)}, {b3, at("h2", 0, 0)}}, []string{"bag_000003"}},
		{"split over two bags", []part{{b1, at("h1", 1, 2)}, {b2, at("h1", 2, 2)}}, []string{"bag_000001", "bag_000002"}},
		{"newer packing incomplete: the older complete one", []part{{b1, at("h1", 1, 2)}, {b2, at("h1", 2, 2)}, {b4, at("h2", 1, 2)}}, []string{"bag_000001", "bag_000002"}},
		{"no complete set", []part{{b1, at("h1", 1, 3)}, {b3, at("h1", 3, 3)}}, nil},
	} {
		if got := ids(newestComplete(tc.parts)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
