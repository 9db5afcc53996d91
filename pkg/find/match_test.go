package find

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
)

func TestMatcher(t *testing.T) {
	type want map[string]bool // path -> matches
	tests := []struct {
		name    string
		pattern string
		regex   bool
		fold    bool
		typ     string // entry type (default "file")
		want    want
	}{
		{name: "base name exact", pattern: "2024.pdf", want: want{
			"/home/me/Taxes/2024.pdf": true, "/2024.pdf": true, "/home/me/Taxes/2024.pdf.bak": false, "/home/me/2024.pdf/x": false, "/home/me/x2024.pdf": false}},
		{name: "base name glob", pattern: "*.pdf", want: want{
			"/home/me/Taxes/2024.pdf": true, "/a/.pdf": true, "/a/b.pdf/c": false, "/a/b.PDF": false}},
		{name: "base name never sees directories", pattern: "Taxes*", want: want{
			"/home/me/Taxes": true, "/home/me/Taxes/2024.pdf": false, "/home/me/Taxes2": true}},
		{name: "? is one character", pattern: "20?4.pdf", want: want{
			"/t/2024.pdf": true, "/t/20ü4.pdf": true, "/t/204.pdf": false, "/t/20224.pdf": false}},
		{name: "classes", pattern: "[0-9][!a-z]x[^b]", want: want{
			"/t/1Axc": true, "/t/1axc": false, "/t/1Axb": false, "/t/aAxc": false}},
		{name: "class with ] first and escapes", pattern: `[]\-]x`, want: want{
			"/t/]x": true, "/t/-x": true, "/t/\\x": false, "/t/ax": false}},
		{name: "unclosed [ is a character", pattern: "a[b", want: want{"/t/a[b": true, "/t/ab": false}},
		{name: "escaped star", pattern: `a\*b`, want: want{"/t/a*b": true, "/t/axb": false}},
		{name: "absolute path: * stops at /", pattern: "/home/*/Taxes/*.pdf", want: want{
			"/home/me/Taxes/2024.pdf": true, "/home/me/x/Taxes/2024.pdf": false, "/home/me/Taxes/old/2024.pdf": false}},
		{name: "absolute path: ** crosses /", pattern: "/home/**/2024.pdf", want: want{
			"/home/me/Taxes/2024.pdf": true, "/home/2024.pdf": true, "/home/me/Taxes/2024.pdf.bak": false, "/homer/2024.pdf": false}},
		{name: "trailing /** is everything below", pattern: "/home/me/**", want: want{
			"/home/me/a": true, "/home/me/a/b/c": true, "/home/me": false, "/home/mee/a": false}},
		{name: "** inside an element crosses /", pattern: "/home/m**.pdf", want: want{
			"/home/me/Taxes/2024.pdf": true, "/home/x.pdf": false}},
		{name: "relative path matches a tail at a boundary", pattern: "Taxes/*.pdf", want: want{
			"/home/me/Taxes/2024.pdf": true, "/Taxes/a.pdf": true, "/home/meTaxes/2024.pdf": false, "/home/me/Taxes/x/2024.pdf": false}},
		{name: "relative ** path", pattern: "me/**/2024.pdf", want: want{
			"/home/me/Taxes/2024.pdf": true, "/home/me/2024.pdf": true, "/home/me2/2024.pdf": false}},
		{name: "trailing / is directories only", pattern: "Taxes/", typ: "dir", want: want{"/home/me/Taxes": true, "/home/me/Taxes/a": false}},
		{name: "trailing / skips files", pattern: "Taxes/", typ: "file", want: want{"/home/me/Taxes": false}},
		{name: "ignore case ASCII", pattern: "*TAXES*.PDF", fold: true, want: want{
			"/a/my taxes 2024.pdf": true, "/a/My Taxes.Pdf": true, "/a/taxe.pdf": false}},
		{name: "ignore case Unicode", pattern: "ÜBER*", fold: true, want: want{
			"/a/über.txt": true, "/a/Über": true, "/a/uber": false}},
		{name: "ignore case Kelvin sign", pattern: "k*", fold: true, want: want{
			"/a/\u212Aelvin": true, "/a/Kelvin": true, "/a/x": false}},
		{name: "ignore case class", pattern: "[a-c]x", fold: true, want: want{"/a/Bx": true, "/a/bX": true, "/a/dx": false}},
		{name: "case matters by default", pattern: "taxes", want: want{"/a/Taxes": false, "/a/taxes": true}},
		{name: "bytes that are not UTF-8: exact", pattern: "bad\xff\xfeutf8", want: want{
			"/d/bad\xff\xfeutf8": true, "/d/bad\xfe\xffutf8": false, "/d/bad\uFFFD\uFFFDutf8": false, "/d/bad\uFFFDutf8": false}},
		{name: "bytes that are not UTF-8: glob", pattern: "bad\xff*", want: want{
			"/d/bad\xff\xfeutf8": true, "/d/bad\xfe\xffutf8": false}},
		{name: "? matches one byte that is not UTF-8", pattern: "bad??utf8", want: want{
			"/d/bad\xff\xfeutf8": true, "/d/badxyutf8": true, "/d/bad\xffutf8": false}},
		{name: "U+FFFD in a pattern is only U+FFFD", pattern: "bad\uFFFD*", want: want{
			"/d/bad\uFFFDx": true, "/d/bad\xffx": false}},
		{name: "names with newline, quote, backslash", pattern: "*\n*", want: want{
			"/d/new\nline": true, "/d/newline": false}},
		{name: "regex searches the whole path", pattern: `Taxes/20[0-9]{2}\.pdf$`, regex: true, want: want{
			"/home/me/Taxes/2024.pdf": true, "/home/me/Taxes/2024.pdf.bak": false, "/home/me/taxes/2024.pdf": false}},
		{name: "regex anchors", pattern: `^/home/[^/]+/2024`, regex: true, want: want{
			"/home/me/2024.pdf": true, "/home/me/x/2024.pdf": false}},
		{name: "regex ignore case", pattern: `taxes/.*\.PDF`, regex: true, fold: true, want: want{
			"/home/me/Taxes/2024.pdf": true, "/home/me/Taxes/2024.txt": false}},
		{name: "regex: a byte that is not UTF-8 reads as U+FFFD", pattern: `bad\x{FFFD}+utf8$`, regex: true, want: want{
			"/d/bad\xff\xfeutf8": true, "/d/badutf8": false}},
		{name: "regex: a pattern byte that is not UTF-8 too", pattern: "bad\xff", regex: true, want: want{
			"/d/bad\xfeutf8": true, "/d/badutf8": false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMatcher(tc.pattern, tc.regex, tc.fold)
			if err != nil {
				t.Fatal(err)
			}
			typ := tc.typ
			if typ == "" {
				typ = "file"
			}
			for p, w := range tc.want {
				if got := m.Match(p, typ); got != w {
					t.Errorf("%q matches %q: %v, want %v", tc.pattern, p, got, w)
				}
				// The prefilter never rules out a matching entry.
				if w {
					line := entryLine(t, p)
					if !m.pre.pass(line) {
						t.Errorf("%q: prefilter (%q) ruled out the line of %q: %s", tc.pattern, m.pre.lit, p, line)
					}
				}
			}
		})
	}
}

func TestMatcherErrors(t *testing.T) {
	if _, err := NewMatcher("", false, false); err == nil {
		t.Error("empty pattern accepted")
	}
	_, err := NewMatcher("a(b", true, false)
	if err == nil || !strings.Contains(err.Error(), "missing closing )") {
		t.Errorf("bad regex: %v", err)
	}
}

// entryLine is the manifest line gb-pack writes for a file at p.
func entryLine(t testing.TB, p string) []byte {
	d, b := records.EncodePath(p)
	e := manifest.Entry{Kind: manifest.KindFile, Path: d, PathB64: b, Type: "file", Size: 1, Mtime: "2024-03-01T12:34:56.1Z", Mode: "0644", Atom: "/a"}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		t.Fatal(err)
	}
	return []byte(strings.TrimSuffix(sb.String(), "\n"))
}

// The prefilter is exact where it matters: for many pattern and name
// pairs, a line it rules out never holds a match.
func TestPrefilterNeverHidesAMatch(t *testing.T) {
	names := []string{"Taxes 2024.pdf", "über", "ÜBER", "a\"quote", `back\slash`, "new\nline", "tab\tx", "bad\xff\xfeutf8",
		"\u212Aelvin", "long\u017Fs", "a<b>&c", "\u2028sep", "x/y", "caf\u00e9", "cafe\u0301", "\x01ctl"}
	pats := []string{"*2024*", "*taxes*", "*über*", "*ÜBER*", `*"quote`, `back\\slash`, "new?line", "*\t*", "bad*utf8", "*kelvin",
		"long*s", "*<b>&*", "\u2028*", "x/y", "café", "*\u0301", "\x01*", "*elvin", "LONG*S"}
	for _, pat := range pats {
		for _, fold := range []bool{false, true} {
			for _, regex := range []bool{false, true} {
				rp := pat
				if regex {
					rp = strings.NewReplacer("*", ".*", "?", ".", `\\`, `\\`, "(", `\(`).Replace(pat)
				}
				m, err := NewMatcher(rp, regex, fold)
				if err != nil {
					continue
				}
				for _, n := range names {
					p := "/d/" + n
					if !m.Match(p, "file") {
						continue
					}
					if !m.pre.pass(entryLine(t, p)) {
						t.Errorf("pattern %q (regex %v, fold %v) matches %q but the prefilter (%q) rules its line out", rp, regex, fold, p, m.pre.lit)
					}
				}
			}
		}
	}
}

func TestRawArg(t *testing.T) {
	bad := "bad\xff*"
	mangled := string([]rune(bad))
	for _, tc := range []struct {
		args         []string
		parsed, want string
	}{
		{[]string{"-c", "x.cfg", bad}, mangled, bad},
		{[]string{"plain"}, "plain", "plain"},
		{[]string{"bad\xff*", "bad\xfe*"}, mangled, mangled}, // ambiguous: left as parsed
		{[]string{"bad\xff*", "bad\xff*"}, mangled, bad},
		{[]string{mangled}, mangled, mangled}, // a real U+FFFD
	} {
		if got := RawArg(tc.args, tc.parsed); got != tc.want {
			t.Errorf("RawArg(%q, %q) = %q, want %q", tc.args, tc.parsed, got, tc.want)
		}
	}
}

func TestAppendQuoted(t *testing.T) {
	for in, want := range map[string]string{
		"/home/me/Taxes 2024.pdf": "/home/me/Taxes 2024.pdf",
		"/d/ünïcödé":              "/d/ünïcödé",
		"/d/bad\xff\xfeutf8":      `$'/d/bad\xff\xfeutf8'`,
		"/d/new\nline":            `$'/d/new\nline'`,
		"/d/it's\tx\\y":           `$'/d/it\'s\tx\\y'`,
		"/d/\x01\x7f":             `$'/d/\x01\x7f'`,
		"/d/\u2028":               `$'/d/\xe2\x80\xa8'`,
	} {
		if got := string(AppendQuoted(nil, in)); got != want {
			t.Errorf("AppendQuoted(%q) = %s, want %s", in, got, want)
		}
	}
}

func ExampleAppendText() {
	m := &records.Match{Path: "/home/me/Taxes/2024.pdf", Type: "file", Size: 1234567, Mtime: "2024-03-01T12:34:56.789Z",
		Bag: "bag_000042", Key: "2024-backup/encrypted_bag_000042.tar.zst.age", Current: true}
	fmt.Println(string(AppendText(nil, m, time.UTC)))
	m.Current, m.Reason = false, ReasonRetired
	m.Type, m.Link, m.Path = "symlink", "../2023.pdf", "/home/me/Taxes/last"
	fmt.Println(string(AppendText(nil, m, time.UTC)))
	// Output:
	// 2024-03-01 12:34    1.2 MB  /home/me/Taxes/2024.pdf  [bag_000042 encrypted_bag_000042.tar.zst.age]
	// 2024-03-01 12:34   symlink  /home/me/Taxes/last -> ../2023.pdf  [bag_000042 encrypted_bag_000042.tar.zst.age] (retired)
}

// With case folding the prefilter finds the literal exactly where
// lowering the line and searching would.
func TestPrefilterFold(t *testing.T) {
	lines := []string{"", "x", "Tax-Return-2024.PDF", "tax-return-2024.pdf", "TAX RETURN", "-2024.", "aXa xAx XX",
		"qqqQQQzzz", `{"kind":"file","path":"/home/me/TAXES/2024.Pdf"}`, "ab-2024.pdfab-2024.PDX", "taxtaxtaX"}
	for _, lit := range []string{"tax-return-2024.pdf", "-2024.pdf", "taxe", "x", "q", "2024", "..", "ax", "b-2024.pdx", "xta"} {
		p := newPrefilter(lit, true)
		for _, l := range lines {
			want := strings.Contains(strings.ToLower(l), lit)
			if got := p.holds([]byte(l)); got != want {
				t.Errorf("literal %q (anchor %q, letter %d) in %q: %v, want %v", lit, p.anchor, p.letterAt, l, got, want)
			}
		}
	}
}

func TestPrefilterExact(t *testing.T) {
	lines := []string{"", "x", "Tax-Return-2024.PDF", "tax-return-2024.pdf", "xtax-return-2024.pdf", "ax-return-2024.pdf", "tax-return-2024.pd",
		"QQQ-2024.pdf", "ab-2024.pdfab-2024.PDX", "x-return-2024.pdftax-return-2024.pdf", "ax-return-2024.pdf tax-return-2024.pd"}
	for _, lit := range []string{"tax-return-2024.pdf", "-2024.pdf", "taxe", "x", "Q", "2024", "..", "ax", "xta", "\"cheese\""} {
		p := newPrefilter(lit, false)
		for _, l := range lines {
			if got, want := p.holds([]byte(l)), strings.Contains(l, lit); got != want {
				t.Errorf("literal %q (anchor %q) in %q: %v, want %v", lit, p.anchor, l, got, want)
			}
		}
	}
}

func TestRarity(t *testing.T) {
	for _, pair := range []string{"x0", "xe", "qa", "Q\"", "\xc3z", "zt"} {
		if rarity(pair[0]) <= rarity(pair[1]) {
			t.Errorf("%q is not rarer than %q", pair[0], pair[1])
		}
	}
	if p := newPrefilter("tax-return-2024.pdf", false); p.lit[p.anchorAt] != 'x' {
		t.Errorf("starts at %q", p.lit[p.anchorAt])
	}
}
