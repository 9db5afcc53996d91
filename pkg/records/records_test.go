package records_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/gbarchive/gb/pkg/records"
	"github.com/tidwall/gjson"
)

// readAll drains a Reader and returns copies of the raw lines, their kinds
// and numbers, and the first error other than io.EOF.
func readAll(t *testing.T, r *records.Reader) (raws []string, kinds []string, nos []int, err error) {
	t.Helper()
	for {
		l, err := r.Next()
		if err == io.EOF {
			return raws, kinds, nos, nil
		}
		if err != nil {
			return raws, kinds, nos, err
		}
		raws = append(raws, string(l.Raw)) // Raw is only valid until the next call
		kinds = append(kinds, l.Kind)
		nos = append(nos, l.No)
	}
}

// chunkReader returns at most n bytes per Read, cycling through the sizes.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := c.sizes[c.i%len(c.sizes)]
	c.i++
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func longLine(n int) string {
	// A record whose "paths" string makes the line n bytes long.
	prefix := `{"kind":"atom","paths":"`
	suffix := `"}`
	return prefix + strings.Repeat("x", n-len(prefix)-len(suffix)) + suffix
}

func TestReaderLines(t *testing.T) {
	big := longLine(1 << 20)
	justOver := longLine(1<<16 + 1)
	exact := longLine(1 << 16)
	tests := []struct {
		name  string
		in    string
		raws  []string
		kinds []string
		nos   []int
	}{
		{name: "empty", in: ""},
		{name: "only blank lines", in: "\n\n  \n\t\r\n"},
		{
			name:  "simple",
			in:    `{"kind":"a"}` + "\n" + `{"kind":"b","x":1}` + "\n",
			raws:  []string{`{"kind":"a"}`, `{"kind":"b","x":1}`},
			kinds: []string{"a", "b"},
			nos:   []int{1, 2},
		},
		{
			name:  "last line without newline",
			in:    `{"kind":"a"}` + "\n" + `{"kind":"b"}`,
			raws:  []string{`{"kind":"a"}`, `{"kind":"b"}`},
			kinds: []string{"a", "b"},
			nos:   []int{1, 2},
		},
		{
			name:  "CRLF",
			in:    "{\"kind\":\"a\"}\r\n{\"kind\":\"b\"}\r\n",
			raws:  []string{`{"kind":"a"}`, `{"kind":"b"}`},
			kinds: []string{"a", "b"},
			nos:   []int{1, 2},
		},
		{
			name:  "CRLF last line without newline",
			in:    "{\"kind\":\"a\"}\r\n{\"kind\":\"b\"}\r",
			raws:  []string{`{"kind":"a"}`, `{"kind":"b"}`},
			kinds: []string{"a", "b"},
			nos:   []int{1, 2},
		},
		{
			name:  "blank lines are skipped but counted",
			in:    "\n{\"kind\":\"a\"}\n\n   \n\r\n{\"kind\":\"b\"}\n\n",
			raws:  []string{`{"kind":"a"}`, `{"kind":"b"}`},
			kinds: []string{"a", "b"},
			nos:   []int{2, 6},
		},
		{
			name:  "surrounding spaces are valid JSON",
			in:    "  {\"kind\":\"a\"}  \n",
			raws:  []string{`  {"kind":"a"}  `},
			kinds: []string{"a"},
			nos:   []int{1},
		},
		{
			name:  "one MiB line",
			in:    `{"kind":"a"}` + "\n" + big + "\n" + `{"kind":"c"}` + "\n",
			raws:  []string{`{"kind":"a"}`, big, `{"kind":"c"}`},
			kinds: []string{"a", "atom", "c"},
			nos:   []int{1, 2, 3},
		},
		{
			name:  "one MiB line without newline",
			in:    big,
			raws:  []string{big},
			kinds: []string{"atom"},
			nos:   []int{1},
		},
		{
			name:  "lines around the buffer size",
			in:    exact + "\n" + justOver + "\r\n" + exact,
			raws:  []string{exact, justOver, exact},
			kinds: []string{"atom", "atom", "atom"},
			nos:   []int{1, 2, 3},
		},
		{
			name:  "unknown kinds pass",
			in:    `{"kind":"my-own-stage","nested":{"kind":"x"}}` + "\n",
			raws:  []string{`{"kind":"my-own-stage","nested":{"kind":"x"}}`},
			kinds: []string{"my-own-stage"},
			nos:   []int{1},
		},
	}
	readers := []struct {
		name string
		wrap func([]byte) io.Reader
	}{
		{"whole", func(b []byte) io.Reader { return bytes.NewReader(b) }},
		{"one byte", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
		{"half", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
		{"data with EOF", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
		{"chunks 3", func(b []byte) io.Reader { return &chunkReader{data: b, sizes: []int{3}} }},
		{"chunks 7", func(b []byte) io.Reader { return &chunkReader{data: b, sizes: []int{7}} }},
		{"chunks 1,3,7", func(b []byte) io.Reader { return &chunkReader{data: b, sizes: []int{1, 3, 7}} }},
		{"chunks odd large", func(b []byte) io.Reader { return &chunkReader{data: b, sizes: []int{65535, 1, 65537, 13}} }},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			if rd.name == "one byte" && len(tt.in) > 1<<18 {
				continue // correct but slow under -race; the other chunkers cover it
			}
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				r := records.NewReader(rd.wrap([]byte(tt.in)), "in")
				raws, kinds, nos, err := readAll(t, r)
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if len(raws) != len(tt.raws) {
					t.Fatalf("got %d records, want %d", len(raws), len(tt.raws))
				}
				for i := range raws {
					if raws[i] != tt.raws[i] {
						t.Errorf("record %d: raw differs (len %d, want %d)", i, len(raws[i]), len(tt.raws[i]))
					}
					if kinds[i] != tt.kinds[i] {
						t.Errorf("record %d: kind %q, want %q", i, kinds[i], tt.kinds[i])
					}
					if nos[i] != tt.nos[i] {
						t.Errorf("record %d: line %d, want %d", i, nos[i], tt.nos[i])
					}
				}
				// EOF is sticky.
				if _, err := r.Next(); err != io.EOF {
					t.Errorf("after the end: %v, want io.EOF", err)
				}
			})
		}
	}
}

func TestReaderLineErrors(t *testing.T) {
	ok := `{"kind":"a"}` + "\n"
	tests := []struct {
		name    string
		in      string
		good    int // records read before the error
		line    int
		msg     string
		hasHint bool
	}{
		{name: "invalid JSON", in: ok + "{\"kind\":\"a\"\n", good: 1, line: 2, msg: "not valid JSON", hasHint: true},
		{name: "truncated last line", in: ok + ok + `{"kind":"a","x":`, good: 2, line: 3, msg: "not valid JSON", hasHint: true},
		{name: "garbage", in: "hello\n", line: 1, msg: "not valid JSON", hasHint: true},
		{name: "two objects on a line", in: ok + `{"kind":"a"}{"kind":"b"}` + "\n", good: 1, line: 2, msg: "not valid JSON", hasHint: true},
		{name: "array", in: "\n\n[1,2]\n", line: 3, msg: "not a JSON object"},
		{name: "number", in: ok + "42\n", good: 1, line: 2, msg: "not a JSON object"},
		{name: "string", in: `"kind"` + "\n", line: 1, msg: "not a JSON object"},
		{name: "null", in: "null\n", line: 1, msg: "not a JSON object"},
		{name: "missing kind", in: ok + "\r\n" + `{"x":1}` + "\r\n", good: 1, line: 3, msg: `record has no string "kind" field`},
		{name: "numeric kind", in: `{"kind":1}`, line: 1, msg: `record has no string "kind" field`},
		{name: "empty kind", in: `{"kind":""}`, line: 1, msg: `record has no string "kind" field`},
		{name: "null kind", in: `{"kind":null}`, line: 1, msg: `record has no string "kind" field`},
		{name: "nested kind only", in: `{"x":{"kind":"a"}}`, line: 1, msg: `record has no string "kind" field`},
		{name: "after a long line", in: longLine(1<<20) + "\n" + ok + "nope\n", good: 2, line: 3, msg: "not valid JSON", hasHint: true},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1 << 20, 1, 3, 7} {
			t.Run(fmt.Sprintf("%s/chunk%d", tt.name, chunk), func(t *testing.T) {
				r := records.NewReader(&chunkReader{data: []byte(tt.in), sizes: []int{chunk}}, "scan.ndjson")
				raws, _, _, err := readAll(t, r)
				if len(raws) != tt.good {
					t.Errorf("read %d good records before the error, want %d", len(raws), tt.good)
				}
				var le *records.LineError
				if !errors.As(err, &le) {
					t.Fatalf("error %v (%T), want *records.LineError", err, err)
				}
				if le.Name != "scan.ndjson" || le.Line != tt.line || le.Msg != tt.msg {
					t.Errorf("got %+v, want name scan.ndjson line %d msg %q", le, tt.line, tt.msg)
				}
				want := fmt.Sprintf("scan.ndjson:%d: %s", tt.line, tt.msg)
				if le.Error() != want {
					t.Errorf("Error() = %q, want %q", le.Error(), want)
				}
				if (le.HintText() != "") != tt.hasHint {
					t.Errorf("HintText() = %q, want hint: %v", le.HintText(), tt.hasHint)
				}
			})
		}
	}
}

func TestReaderContinuesAfterLineError(t *testing.T) {
	r := records.NewReader(strings.NewReader("bad\n{\"kind\":\"a\"}\n"), "in")
	if _, err := r.Next(); err == nil {
		t.Fatal("no error for a bad line")
	}
	l, err := r.Next()
	if err != nil || l.Kind != "a" || l.No != 2 {
		t.Fatalf("Next after an error = %+v, %v; want kind a on line 2", l, err)
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) > 0 {
		n := copy(p, f.data)
		f.data = f.data[n:]
		return n, nil
	}
	return 0, f.err
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		r    io.Reader
		good int
	}{
		{"immediately", iotest.ErrReader(boom), 0},
		{"after a record", &failingReader{data: []byte(`{"kind":"a"}` + "\n"), err: boom}, 1},
		{"mid line", &failingReader{data: []byte(`{"kind":"a"}` + "\n" + `{"kind":`), err: boom}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := records.NewReader(tt.r, "stdin")
			raws, _, _, err := readAll(t, r)
			if len(raws) != tt.good {
				t.Errorf("read %d records, want %d", len(raws), tt.good)
			}
			if !errors.Is(err, boom) {
				t.Fatalf("error %v, want it to wrap boom", err)
			}
			if !strings.HasPrefix(err.Error(), "stdin: ") {
				t.Errorf("error %q does not name the input", err)
			}
			var le *records.LineError
			if errors.As(err, &le) {
				t.Errorf("a read error is not a LineError: %v", err)
			}
		})
	}
}

func TestLineAccessors(t *testing.T) {
	raw := `{"kind":"atom","n":3,"path":"/a b","bad":"/x` + "\uFFFD" + `","bad_b64":"L3j/","parts":[{"from":"p","from_b64":""},{"from":"q` + "\uFFFD" + `","from_b64":"cf4="}],"broken":"x","broken_b64":"!!"}`
	r := records.NewReader(strings.NewReader("\n"+raw+"\n"), "plan")
	l, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Get("n").Int(); got != 3 {
		t.Errorf("Get(n) = %d", got)
	}
	tests := []struct {
		field   string
		want    string
		wantErr bool
	}{
		{"path", "/a b", false},
		{"bad", "/x\xff", false},
		{"missing", "", false},
		{"broken", "", true},
	}
	for _, tt := range tests {
		got, err := l.PathField(tt.field)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("PathField(%q) = %q, %v; want %q, error %v", tt.field, got, err, tt.want, tt.wantErr)
		}
	}
	var parts []string
	l.Get("parts").ForEach(func(_, p gjson.Result) bool {
		s, err := records.ResultPath(p, "from")
		if err != nil {
			t.Errorf("ResultPath: %v", err)
		}
		parts = append(parts, s)
		return true
	})
	if len(parts) != 2 || parts[0] != "p" || parts[1] != "q\xfe" {
		t.Errorf("ResultPath gave %q", parts)
	}

	err = l.Errorf("plan", "atom %s is %d bytes", "x", 5)
	var le *records.LineError
	if !errors.As(err, &le) || le.Line != 2 || le.Name != "plan" {
		t.Fatalf("Errorf = %#v", err)
	}
	if err.Error() != "plan:2: atom x is 5 bytes" {
		t.Errorf("Errorf message %q", err.Error())
	}
}

// recorder records every Write call separately.
type recorder struct {
	calls [][]byte
	fail  error // returned from the failAt-th call on
	at    int
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.fail != nil && len(r.calls) >= r.at {
		r.calls = append(r.calls, nil)
		return 0, r.fail
	}
	r.calls = append(r.calls, bytes.Clone(p))
	return len(p), nil
}

func TestWriterOneWritePerRecord(t *testing.T) {
	type rec struct {
		Kind string `json:"kind"`
		Path string `json:"path"`
		N    int    `json:"n"`
	}
	long := strings.Repeat("y", 1<<20)
	values := []any{
		rec{Kind: "atom", Path: "/a\nb", N: 1},
		rec{Kind: "atom", Path: long, N: 2},
		map[string]any{"kind": "scan", "html": "<&>"},
		rec{Kind: "bag", Path: "short", N: 3},
	}
	rw := &recorder{}
	w := records.NewWriter(rw)
	for _, v := range values {
		if err := w.Write(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteRaw([]byte(`{"kind":"passthrough","x":[1,2]}`)); err != nil {
		t.Fatal(err)
	}
	if w.Err() != nil {
		t.Fatal(w.Err())
	}
	if len(rw.calls) != len(values)+1 {
		t.Fatalf("%d Write calls for %d records", len(rw.calls), len(values)+1)
	}
	var all []byte
	for i, c := range rw.calls {
		if bytes.Count(c, []byte("\n")) != 1 || c[len(c)-1] != '\n' {
			t.Errorf("call %d is not exactly one line: %q", i, c[:min(len(c), 80)])
		}
		if !gjson.ValidBytes(c[:len(c)-1]) {
			t.Errorf("call %d is not a whole JSON record", i)
		}
		all = append(all, c...)
	}
	// What the writer wrote reads back as the same records.
	r := records.NewReader(bytes.NewReader(all), "out")
	raws, kinds, _, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	wantKinds := []string{"atom", "atom", "scan", "bag", "passthrough"}
	if fmt.Sprint(kinds) != fmt.Sprint(wantKinds) {
		t.Errorf("kinds %v, want %v", kinds, wantKinds)
	}
	if got := gjson.Get(raws[0], "path").String(); got != "/a\nb" {
		t.Errorf("path with a newline came back as %q", got)
	}
	if got := gjson.Get(raws[1], "path").String(); got != long {
		t.Errorf("long path came back with length %d", len(got))
	}
	if got := gjson.Get(raws[2], "html").String(); got != "<&>" {
		t.Errorf("html came back as %q", got)
	}
}

func TestWriterRemembersFirstError(t *testing.T) {
	first := errors.New("disk full")
	rw := &recorder{fail: first, at: 1}
	w := records.NewWriter(rw)
	if err := w.Write(map[string]string{"kind": "a"}); err != nil {
		t.Fatalf("first write: %v", err)
	}
	err := w.Write(map[string]string{"kind": "b"})
	if !errors.Is(err, first) {
		t.Fatalf("second write: %v, want disk full", err)
	}
	rw.fail = errors.New("other")
	for i, f := range []func() error{
		func() error { return w.Write(map[string]string{"kind": "c"}) },
		func() error { return w.WriteRaw([]byte(`{"kind":"d"}`)) },
		w.Err,
	} {
		if err := f(); !errors.Is(err, first) {
			t.Errorf("call %d after the failure: %v, want the first error", i, err)
		}
	}
	if len(rw.calls) != 2 {
		t.Errorf("%d writes reached the writer, want 2 (nothing after the failure)", len(rw.calls))
	}
}

func TestWriterEncodeErrorIsNotSticky(t *testing.T) {
	rw := &recorder{}
	w := records.NewWriter(rw)
	if err := w.Write(map[string]any{"kind": "a", "c": make(chan int)}); err == nil {
		t.Fatal("no error for a value JSON cannot encode")
	}
	if len(rw.calls) != 0 {
		t.Fatalf("a failed encode wrote %q", rw.calls)
	}
	if w.Err() != nil {
		t.Errorf("Err() = %v after an encode error; only write errors are remembered", w.Err())
	}
	if err := w.Write(map[string]string{"kind": "b"}); err != nil {
		t.Errorf("write after an encode error: %v", err)
	}
}

func TestWriterDoesNotKeepCallerBytes(t *testing.T) {
	var out bytes.Buffer
	w := records.NewWriter(&out)
	raw := []byte(`{"kind":"a"}`)
	if err := w.WriteRaw(raw); err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"kind":"a"}` {
		t.Errorf("WriteRaw changed its argument to %q", raw)
	}
	if err := w.WriteRaw([]byte(`{"kind":"bb"}`)); err != nil {
		t.Fatal(err)
	}
	if out.String() != "{\"kind\":\"a\"}\n{\"kind\":\"bb\"}\n" {
		t.Errorf("output %q", out.String())
	}
}

func TestEncodeDecodePath(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		display string
		hasB64  bool
	}{
		{"plain", "/home/me/Books", "/home/me/Books", false},
		{"empty", "", "", false},
		{"space and newline", "/a b\nc", "/a b\nc", false},
		{"tab and backslash", "/a\tb\\c", "/a\tb\\c", false},
		{"quote", `/a"b`, `/a"b`, false},
		{"utf-8", "/Bücher/日本", "/Bücher/日本", false},
		{"replacement char itself", "/a\uFFFD", "/a\uFFFD", false},
		{"latin-1", "/B\xfccher", "/B\uFFFDcher", true},
		{"lone 0xff", "\xff", "\uFFFD", true},
		{"run of bad bytes", "/a\xff\xfe\xfdb", "/a\uFFFDb", true},
		{"truncated utf-8", "/a\xe6\x97", "/a\uFFFD", true},
		{"surrogate encoding", "/\xed\xa0\x80", "/\uFFFD", true},
		{"control bytes", "/\x01\x7f\x1b", "/\x01\x7f\x1b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, b := records.EncodePath(tt.path)
			if d != tt.display {
				t.Errorf("display %q, want %q", d, tt.display)
			}
			if (b != "") != tt.hasB64 {
				t.Errorf("b64 %q, want present: %v", b, tt.hasB64)
			}
			if !utf8.ValidString(d) {
				t.Errorf("display form %q is not UTF-8", d)
			}
			got, err := records.DecodePath(d, b)
			if err != nil || got != tt.path {
				t.Errorf("DecodePath = %q, %v; want %q", got, err, tt.path)
			}
		})
	}
}

func TestDecodePathErrors(t *testing.T) {
	for _, b64 := range []string{"!!", "L3j", "L3j/=", "a b"} {
		if _, err := records.DecodePath("x", b64); err == nil {
			t.Errorf("DecodePath(%q) accepted bad base64", b64)
		}
	}
	// The base64 form wins over the display form.
	if got, err := records.DecodePath("/display", "L3j/"); err != nil || got != "/x\xff" {
		t.Errorf("DecodePath = %q, %v", got, err)
	}
}

func TestNewWarning(t *testing.T) {
	w := records.NewWarning("scan", "/a\xffb", errors.New("permission denied"))
	if w.Kind != records.KindWarning || w.Stage != "scan" || w.Error != "permission denied" {
		t.Errorf("warning %+v", w)
	}
	if got, err := records.DecodePath(w.Path, w.PathB64); err != nil || got != "/a\xffb" {
		t.Errorf("warning path = %q, %v", got, err)
	}
	w = records.NewWarning("pack", "/ok", errors.New("changed"))
	if w.Path != "/ok" || w.PathB64 != "" {
		t.Errorf("warning %+v", w)
	}
}

// FuzzPathRoundTrip checks that any file name survives EncodePath, a
// record written by Writer and read back by Reader, and DecodePath.
func FuzzPathRoundTrip(f *testing.F) {
	for _, s := range []string{
		"", "/", "/home/me/Books", "/a b\nc", "/a\tb\\c\r", "/B\xfccher", "\xff", "/a\xff\xfe",
		"/Bücher/日本", "/a\uFFFD", "/\xed\xa0\x80", "/\u2028\u2029", `/"quoted"`, "/<&>", "/\x01\x1f\x7f",
		"/x\xc0\xaf", strings.Repeat("/deep", 800),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if strings.IndexByte(p, 0) >= 0 {
			t.Skip("Linux names cannot hold NUL")
		}
		d, b := records.EncodePath(p)
		if !utf8.ValidString(d) {
			t.Fatalf("display %q is not UTF-8", d)
		}
		if (b == "") != utf8.ValidString(p) {
			t.Fatalf("b64 %q for %q: want it exactly when the name is not UTF-8", b, p)
		}
		got, err := records.DecodePath(d, b)
		if err != nil || got != p {
			t.Fatalf("DecodePath(EncodePath(%q)) = %q, %v", p, got, err)
		}

		var buf bytes.Buffer
		w := records.NewWriter(&buf)
		rec := struct {
			Kind    string `json:"kind"`
			Path    string `json:"path"`
			PathB64 string `json:"path_b64,omitempty"`
		}{"atom", d, b}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		l, err := records.NewReader(&buf, "fuzz").Next()
		if err != nil {
			t.Fatalf("reading the record back: %v", err)
		}
		got, err = l.PathField("path")
		if err != nil || got != p {
			t.Fatalf("record round trip of %q gave %q, %v", p, got, err)
		}
	})
}

// A caller appending to a line never changes the lines after it.
func TestNextRawAppendIsSafe(t *testing.T) {
	r := records.NewReader(strings.NewReader("{\"kind\":\"a\"}\r\n{\"kind\":\"b\"}\n"), "in")
	l, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	_ = append(l.Raw, "XYZ"...)
	l, err = r.Next()
	if err != nil || string(l.Raw) != `{"kind":"b"}` {
		t.Fatalf("%q %v", l.Raw, err)
	}
}
