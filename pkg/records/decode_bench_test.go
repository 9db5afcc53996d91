package records_test

import (
	"testing"

	"github.com/gbarchive/gb/pkg/records"
	"github.com/tidwall/gjson"
)

// The reads the stages did before records had types: one gjson lookup per
// field (gb-plan's atoms, gb-pack's bags, gb-put's packed records),
// against decoding into the type. gb-plan reads one atom record per
// directory of a MUTABLE source, so atoms are the hot path.

var sink int64

func BenchmarkDecodeAtom(b *testing.B) {
	for _, c := range []struct{ name, raw string }{{"dir", atomLine}, {"split", splitLine}} {
		l := parseLine(b, c.raw)
		b.Run(c.name+"/gjson", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(l.Raw)))
			for b.Loop() {
				r := gjson.ParseBytes(l.Raw)
				key, _ := records.DecodePath(r.Get("atom").String(), r.Get("atom_b64").String())
				path := r.Get("path").String() + r.Get("path_b64").String()
				s := r.Get("type").String() + r.Get("mode").String() + r.Get("source").String() + r.Get("hash").String() + r.Get("keys").String()
				n := r.Get("files").Int() + r.Get("bytes").Int()
				if r.Get("encrypt").Bool() {
					n++
				}
				r.Get("parts").ForEach(func(_, p gjson.Result) bool {
					from, _ := records.DecodePath(p.Get("from").String(), p.Get("from_b64").String())
					n += p.Get("files").Int() + p.Get("bytes").Int() + int64(len(from))
					return true
				})
				sink += n + int64(len(key)+len(path)+len(s))
			}
		})
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(l.Raw)))
			for b.Loop() {
				a, err := records.Decode[records.Atom](l)
				if err != nil {
					b.Fatal(err)
				}
				sink += a.Files
			}
		})
	}
}

func BenchmarkDecodeBag(b *testing.B) {
	l := parseLine(b, bagLine(50))
	b.Run("gjson", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(l.Raw)))
		for b.Loop() {
			n := int64(len(l.Get("id").String()+l.Get("key").String()+l.Get("source").String()+l.Get("compress").String()+l.Get("keys").String())) + l.Get("bytes").Int()
			for _, x := range l.Get("excludes").Array() {
				n += int64(len(x.String()))
			}
			l.Get("atoms").ForEach(func(_, a gjson.Result) bool {
				k, _ := records.ResultPath(a, "atom")
				p, _ := records.ResultPath(a, "path")
				f, _ := records.ResultPath(a, "from")
				t, _ := records.ResultPath(a, "to")
				n += int64(len(k+p+f+t+a.Get("type").String()+a.Get("hash").String())) + a.Get("files").Int() + a.Get("bytes").Int() + a.Get("part").Int() + a.Get("parts").Int()
				return true
			})
			sink += n
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(l.Raw)))
		for b.Loop() {
			v, err := records.Decode[records.Bag](l)
			if err != nil {
				b.Fatal(err)
			}
			sink += v.Bytes
		}
	})
}

func BenchmarkDecodePacked(b *testing.B) {
	l := parseLine(b, packedLine)
	b.Run("gjson", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(l.Raw)))
		for b.Loop() {
			n := int64(len(l.Get("bag").String()+l.Get("key").String()+l.Get("file").String()+l.Get("sha256").String()+l.Get("manifest").String()+l.Get("manifest_key").String()+l.Get("manifest_upload").String())) + l.Get("bytes").Int()
			if l.Get("encrypt").Bool() {
				n++
			}
			sink += n
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(l.Raw)))
		for b.Loop() {
			v, err := records.Decode[records.Packed](l)
			if err != nil {
				b.Fatal(err)
			}
			sink += v.Bytes
		}
	})
}
