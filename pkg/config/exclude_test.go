package config_test

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/config"
)

func TestExcluded(t *testing.T) {
	tests := []struct {
		pattern string
		yes     []string
		no      []string
	}{
		{
			pattern: "number/dump",
			yes:     []string{"/number/dump", "/x/number/dump", "/a/b/c/number/dump"},
			no:      []string{"/x/anumber/dump", "/x/number/dumpx", "/x/number/dump2", "/x/number", "/x/dump", "/x/number/sub/dump", "number/dump/"},
		},
		{
			pattern: "dump",
			yes:     []string{"/dump", "/x/dump", "/x/y/dump"},
			no:      []string{"/x/dumpling", "/x/adump", "/x/dump.txt"},
		},
		{
			pattern: "*.o",
			yes:     []string{"/a.o", "/src/x/main.o", "/src/.o"},
			no:      []string{"/src/main.c", "/src/main.o.txt", "/src/maino"},
		},
		{
			// '*' matches '/': a*z matches the tail "a/b/z".
			pattern: "a*z",
			yes:     []string{"/x/a/b/z", "/az", "/x/abcz"},
			no:      []string{"/x/ba/z/y", "/x/za"},
		},
		{
			pattern: "cache/*",
			yes:     []string{"/home/me/cache/x", "/home/me/cache/x/y", "/cache/"},
			no:      []string{"/home/me/cache", "/home/me/xcache/x"},
		},
		{
			// '?' is one byte, '/' included.
			pattern: "a?c",
			yes:     []string{"/x/abc", "/x/a/c", "/a.c"},
			no:      []string{"/x/ac", "/x/abbc"},
		},
		{
			pattern: "file[0-9]",
			yes:     []string{"/d/file0", "/d/file5", "/file9"},
			no:      []string{"/d/filex", "/d/file", "/d/file10"},
		},
		{
			pattern: "[a-z]",
			yes:     []string{"/x/a", "/m", "/Q/z"},
			no:      []string{"/x/A", "/x/0", "/x/ab"},
		},
		{
			pattern: "[!x]y",
			yes:     []string{"/ay", "/d/zy", "/d/.y"},
			no:      []string{"/xy", "/d/xy", "/d/y"},
		},
		{
			pattern: "[^x]y",
			yes:     []string{"/ay"},
			no:      []string{"/xy"},
		},
		{
			// ']' first in a class is literal.
			pattern: "[]a]b",
			yes:     []string{"/]b", "/ab"},
			no:      []string{"/cb"},
		},
		{
			pattern: "[a-cx-z]",
			yes:     []string{"/b", "/y"},
			no:      []string{"/d", "/w"},
		},
		{
			pattern: `a\*b`,
			yes:     []string{"/a*b", "/d/a*b"},
			no:      []string{"/axb", "/a/b"},
		},
		{
			pattern: `\[x\]`,
			yes:     []string{"/[x]"},
			no:      []string{"/x"},
		},
		{
			pattern: `a\[`,
			yes:     []string{"/a["},
			no:      []string{"/a"},
		},
		{
			pattern: `a\b`,
			yes:     []string{"/ab"},
			no:      []string{`/a\b`},
		},
		{
			pattern: "/abs/dir",
			yes:     []string{"/abs/dir"},
			no:      []string{"/x/abs/dir", "/abs/dirx", "/abs"},
		},
		{
			pattern: "/abs/*.tmp",
			yes:     []string{"/abs/a.tmp", "/abs/sub/a.tmp"},
			no:      []string{"/x/abs/a.tmp", "/abs/a.tmpx"},
		},
		{
			// A trailing slash is dropped: the pattern matches files too.
			pattern: "build/",
			yes:     []string{"/src/build"},
			no:      []string{"/src/builder"},
		},
		{
			pattern: "my dir/a b",
			yes:     []string{"/home/my dir/a b"},
			no:      []string{"/home/my dir/a"},
		},
		{
			pattern: "*",
			yes:     []string{"/", "/x", "/a/b"},
		},
		{
			pattern: "caf\xe9",
			yes:     []string{"/d/caf\xe9"},
			no:      []string{"/d/café"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			var ex config.Excluder
			if err := ex.Add(tt.pattern); err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.yes {
				if !ex.Excluded(p) {
					t.Errorf("%q does not exclude %q", tt.pattern, p)
				}
			}
			for _, p := range tt.no {
				if ex.Excluded(p) {
					t.Errorf("%q excludes %q", tt.pattern, p)
				}
			}
		})
	}
}

func TestExcluderSeveralPatterns(t *testing.T) {
	var ex config.Excluder
	for _, p := range []string{"*.tmp", "/srv/scratch", "node_modules"} {
		if err := ex.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	for p, want := range map[string]bool{
		"/home/x.tmp":              true,
		"/srv/scratch":             true,
		"/home/srv/scratch":        false,
		"/home/app/node_modules":   true,
		"/home/app/node_modules.x": false,
		"/home/app/main.go":        false,
	} {
		if got := ex.Excluded(p); got != want {
			t.Errorf("Excluded(%q) = %v, want %v", p, got, want)
		}
	}
	if ex.Empty() {
		t.Error("Empty() with patterns")
	}
}

func TestExcluderEmpty(t *testing.T) {
	var nilEx *config.Excluder
	if !nilEx.Empty() || nilEx.Excluded("/x") {
		t.Error("a nil Excluder excludes something")
	}
	var ex config.Excluder
	if !ex.Empty() || ex.Excluded("/x") || len(ex.Patterns()) != 0 {
		t.Error("an empty Excluder excludes something")
	}
}

func TestExcluderAddErrors(t *testing.T) {
	for _, p := range []string{"", "/", "[abc", "a[", "[!", "a\\", "x/[]"} {
		var ex config.Excluder
		if err := ex.Add(p); err == nil {
			t.Errorf("Add(%q) accepted a bad pattern", p)
		}
		if !ex.Empty() {
			t.Errorf("Add(%q) kept a bad pattern", p)
		}
	}
}

func TestParseExclude(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "exclude.txt", "# caches\n\n*.tmp\r\n  \nnumber/dump\n# x\nbuild/\n/abs/path\nlast")
	ex, err := config.ParseExclude(p, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"*.tmp", "number/dump", "build", "/abs/path", "last"}
	if got := ex.Patterns(); !slices.Equal(got, want) {
		t.Errorf("Patterns() = %q, want %q", got, want)
	}
	if !ex.Excluded("/x/a.tmp") || !ex.Excluded("/y/number/dump") || ex.Excluded("/x/a.txt") {
		t.Error("patterns from the file do not apply")
	}
}

func TestParseExcludeMissing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "exclude.txt")
	ex, err := config.ParseExclude(p, false)
	if err != nil || !ex.Empty() {
		t.Fatalf("missing optional file: %v, %v", ex, err)
	}
	ex, err = config.ParseExclude("", true)
	if err != nil || !ex.Empty() {
		t.Fatalf("no path: %v, %v", ex, err)
	}
	_, err = config.ParseExclude(p, true)
	var ce *config.Error
	if !errors.As(err, &ce) || ce.File != p || !strings.Contains(ce.Msg, "cannot read exclude file") {
		t.Fatalf("missing required file: %#v", err)
	}
}

func TestParseExcludeBadPattern(t *testing.T) {
	p := writeFile(t, t.TempDir(), "exclude.txt", "*.tmp\n\n# c\nfoo[bar\n")
	_, err := config.ParseExclude(p, false)
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want *config.Error", err)
	}
	if ce.File != p || ce.Line != 4 || !strings.Contains(ce.Msg, "unterminated [") {
		t.Errorf("error %#v", ce)
	}
}
