package config_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/config"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		name string
		list string
		want []config.Source
	}{
		{
			name: "seed style",
			list: "/home/greenc/Books ::MUTABLE\n/home/greenc/Photos ::IMMUTABLE\n",
			want: []config.Source{
				{Location: "/home/greenc/Books", Path: "/home/greenc/Books", Mode: config.Mutable, Line: 1},
				{Location: "/home/greenc/Photos", Path: "/home/greenc/Photos", Mode: config.Immutable, Line: 2},
			},
		},
		{
			name: "spaces in locations",
			list: "/home/me/My Books ::MUTABLE\n/home/me/a  b   c\t::IMMUTABLE\n  /home/me/ lead ::MUTABLE  \n",
			want: []config.Source{
				{Location: "/home/me/My Books", Path: "/home/me/My Books", Mode: config.Mutable, Line: 1},
				{Location: "/home/me/a  b   c", Path: "/home/me/a  b   c", Mode: config.Immutable, Line: 2},
				{Location: "/home/me/ lead", Path: "/home/me/ lead", Mode: config.Mutable, Line: 3},
			},
		},
		{
			name: "remote sources, seed style",
			list: "greenc@fox:/home/greenc/Books ::MUTABLE\nfox:/srv//photos/ ::IMMUTABLE ::ENCRYPT\n/home/greenc/Books ::MUTABLE\n",
			want: []config.Source{
				{Location: "greenc@fox:/home/greenc/Books", Remote: true, Mode: config.Mutable, Line: 1},
				{Location: "fox:/srv/photos", Remote: true, Mode: config.Immutable, Encrypt: true, Line: 2},
				{Location: "/home/greenc/Books", Path: "/home/greenc/Books", Mode: config.Mutable, Line: 3},
			},
		},
		{
			name: "tags in any case",
			list: "/a ::mutable\n/b ::Immutable\n/c ::MuTaBlE\n",
			want: []config.Source{
				{Location: "/a", Path: "/a", Mode: config.Mutable, Line: 1},
				{Location: "/b", Path: "/b", Mode: config.Immutable, Line: 2},
				{Location: "/c", Path: "/c", Mode: config.Mutable, Line: 3},
			},
		},
		{
			name: "encrypt, in any case and order",
			list: "/a ::MUTABLE ::ENCRYPT\n/b ::encrypt ::IMMUTABLE\n",
			want: []config.Source{
				{Location: "/a", Path: "/a", Mode: config.Mutable, Encrypt: true, Line: 1},
				{Location: "/b", Path: "/b", Mode: config.Immutable, Encrypt: true, Line: 2},
			},
		},
		{
			name: "repeated same tag",
			list: "/a ::MUTABLE ::mutable\n",
			want: []config.Source{{Location: "/a", Path: "/a", Mode: config.Mutable, Line: 1}},
		},
		{
			name: "'::' inside a location is not a tag",
			list: "/data/a::b ::MUTABLE\n/data/x ::y/z w ::IMMUTABLE\n",
			want: []config.Source{
				{Location: "/data/a::b", Path: "/data/a::b", Mode: config.Mutable, Line: 1},
				{Location: "/data/x ::y/z w", Path: "/data/x ::y/z w", Mode: config.Immutable, Line: 2},
			},
		},
		{
			name: "blank and comment lines keep line numbers",
			list: "# my sources\n\n   \n  # indented comment\n/a ::MUTABLE\r\n\r\n/b ::IMMUTABLE",
			want: []config.Source{
				{Location: "/a", Path: "/a", Mode: config.Mutable, Line: 5},
				{Location: "/b", Path: "/b", Mode: config.Immutable, Line: 7},
			},
		},
		{
			name: "paths are cleaned",
			list: "/a/ ::MUTABLE\n/b//c/./d/.. ::MUTABLE\n",
			want: []config.Source{
				{Location: "/a", Path: "/a", Mode: config.Mutable, Line: 1},
				{Location: "/b/c", Path: "/b/c", Mode: config.Mutable, Line: 2},
			},
		},
		{
			name: "siblings sharing a name prefix do not overlap",
			list: "/data ::MUTABLE\n/data2 ::MUTABLE\n/data-x ::IMMUTABLE\n",
			want: []config.Source{
				{Location: "/data", Path: "/data", Mode: config.Mutable, Line: 1},
				{Location: "/data2", Path: "/data2", Mode: config.Mutable, Line: 2},
				{Location: "/data-x", Path: "/data-x", Mode: config.Immutable, Line: 3},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "list.txt", tt.list)
			got, err := config.ParseList(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("source %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct {
		name string
		list string
		line int
		msg  string
	}{
		{"unknown tag", "/a ::MUTABLE ::FAST\n", 1, "unknown tag ::FAST"},
		{"trailing word starting with '::' is a tag", "/data/x ::y ::IMMUTABLE\n", 1, "unknown tag ::y"},
		{"missing mode", "\n/a\n", 2, "has no ::MUTABLE or ::IMMUTABLE tag"},
		{"missing mode with encrypt", "/a ::ENCRYPT\n", 1, "has no ::MUTABLE or ::IMMUTABLE tag"},
		{"both modes", "/a ::MUTABLE ::IMMUTABLE\n", 1, "not both"},
		{"no location", "::MUTABLE\n", 1, "no location before the tags"},
		{"duplicate", "/a ::MUTABLE\n# x\n/a ::IMMUTABLE\n", 3, "/a is listed twice (first on line 1)"},
		{"duplicate after cleaning", "/a/b ::MUTABLE\n/a//b/ ::MUTABLE\n", 2, "listed twice"},
		{"inner source", "/data ::MUTABLE\n/data/sub ::MUTABLE\n", 2, "/data/sub overlaps /data on line 1"},
		{"outer source", "/data/sub ::MUTABLE\n\n/data ::IMMUTABLE\n", 3, "/data overlaps /data/sub on line 1"},
		{"root overlaps everything", "/x ::MUTABLE\n/ ::MUTABLE\n", 2, "overlaps"},
		{"remote relative path", "greenc@fox:Books ::MUTABLE\n", 1, "the remote path must be absolute"},
		{"remote empty user", "@fox:/srv ::IMMUTABLE\n", 1, "empty user name"},
		{"remote duplicate", "fox:/srv ::MUTABLE\nfox:/srv/ ::MUTABLE\n", 2, "listed twice"},
		{"remote overlap", "me@fox:/srv ::MUTABLE\nme@fox:/srv/a ::MUTABLE\n", 2, "overlaps"},
		{"relative path", "/a ::MUTABLE\nBooks ::MUTABLE\n", 2, "Books is not an absolute path"},
		{"dot relative path", "./Books ::MUTABLE\n", 1, "not an absolute path"},
		{"relative with colon", "a/b:/c ::MUTABLE\n", 1, "not an absolute path"},
		{"home path", "~/Books ::MUTABLE\n", 1, "not an absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "list.txt", tt.list)
			got, err := config.ParseList(p)
			if err == nil {
				t.Fatalf("no error; got %+v", got)
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want *config.Error", err, err)
			}
			if ce.File != p || ce.Line != tt.line {
				t.Errorf("error at %s:%d, want %s:%d (%v)", ce.File, ce.Line, p, tt.line, err)
			}
			if !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("message %q does not contain %q", ce.Msg, tt.msg)
			}
			if ce.Msg == "" || ce.Error() == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestParseListEmpty(t *testing.T) {
	for name, content := range map[string]string{
		"empty":         "",
		"blank":         "\n\n  \n",
		"only comments": "# /a ::MUTABLE\n#\n",
	} {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "list.txt", content)
			_, err := config.ParseList(p)
			var ce *config.Error
			if !errors.As(err, &ce) || ce.File != p || ce.Line != 0 || !strings.Contains(ce.Msg, "no sources listed") {
				t.Fatalf("error %#v", err)
			}
			if ce.Hint == "" {
				t.Error("no hint")
			}
		})
	}
}

func TestParseListMissing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "list.txt")
	_, err := config.ParseList(p)
	var ce *config.Error
	if !errors.As(err, &ce) || ce.File != p || !strings.Contains(ce.Msg, "cannot read source list") {
		t.Fatalf("error %#v", err)
	}
}

func ptr(s string) *string { return &s }
