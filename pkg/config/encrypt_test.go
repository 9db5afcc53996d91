package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/config"
)

func TestParseEncryptFile(t *testing.T) {
	tests := []struct {
		name    string
		content *string
		want    []config.EncryptEntry
		errLine int
		errMsg  string
	}{
		{name: "missing", content: nil},
		{name: "empty", content: ptr("")},
		{name: "blank and comments", content: ptr("\n  \n# /a/b\n\t# c\n")},
		{name: "atoms", content: ptr("# c\n\n/home/me/Private\n/home/me/Taxes/\n"), want: []config.EncryptEntry{{Path: "/home/me/Private", Line: 3}, {Path: "/home/me/Taxes", Line: 4}}},
		{name: "no final newline, CRLF", content: ptr("/x\r\n/y/../z"), want: []config.EncryptEntry{{Path: "/x", Line: 1}, {Path: "/z", Line: 2}}},
		{name: "spaces kept inside", content: ptr("  /home/me/My Files  \n"), want: []config.EncryptEntry{{Path: "/home/me/My Files", Line: 1}}},
		{name: "relative", content: ptr("/ok\nPrivate\n"), errLine: 2, errMsg: "Private is not an absolute path"},
		{name: "remote atoms", content: ptr("me@fox:/srv/Taxes/\nfox:/srv//x\n"), want: []config.EncryptEntry{{Path: "me@fox:/srv/Taxes", Line: 1}, {Path: "fox:/srv/x", Line: 2}}},
		{name: "remote relative", content: ptr("/ok\nfox:srv\n"), errLine: 2, errMsg: "must be absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "encrypt.txt")
			if tt.content != nil {
				writeFile(t, filepath.Dir(p), "encrypt.txt", *tt.content)
			}
			l, err := config.ParseEncryptFile(p)
			if tt.errLine > 0 {
				var ce *config.Error
				if !errors.As(err, &ce) || ce.File != p || ce.Line != tt.errLine || !strings.Contains(ce.Msg, tt.errMsg) {
					t.Fatalf("error %#v, want line %d %q", err, tt.errLine, tt.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Entries) != len(tt.want) {
				t.Fatalf("entries %+v, want %+v", l.Entries, tt.want)
			}
			for i := range tt.want {
				if l.Entries[i] != tt.want[i] {
					t.Errorf("entry %d: %+v, want %+v", i, l.Entries[i], tt.want[i])
				}
			}
		})
	}
}

func TestEncryptCovers(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "home")
	for _, d := range []string{"Taxes/2024", "Music"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, src, "diary.txt", "x")
	mut := config.Source{Location: src, Path: src, Mode: config.Mutable}
	imm := config.Source{Location: filepath.Join(root, "vault"), Path: filepath.Join(root, "vault"), Mode: config.Immutable}
	tagged := mut
	tagged.Encrypt = true
	remoteSrc := config.Source{Location: "me@fox:/srv", Remote: true, Mode: config.Mutable}
	tests := []struct {
		name  string
		lines []string
		src   config.Source
		atom  string
		kind  string
		want  bool
	}{
		{"tagged source", nil, tagged, src + "/Music", "dir", true},
		{"nothing listed", nil, mut, src + "/Taxes", "dir", false},
		{"the atom", []string{src + "/Taxes"}, mut, src + "/Taxes", "dir", true},
		{"inside the atom encrypts all of it", []string{src + "/Taxes/2024"}, mut, src + "/Taxes", "dir", true},
		{"another atom", []string{src + "/Taxes"}, mut, src + "/Music", "dir", false},
		{"prefix is not a parent", []string{src + "/Tax"}, mut, src + "/Taxes", "dir", false},
		{"the source covers every atom", []string{src}, mut, src + "/Music", "dir", true},
		{"the source covers loose files", []string{src}, mut, src, "loose", true},
		{"a loose file", []string{src + "/diary.txt"}, mut, src, "loose", true},
		{"a loose file does not cover dirs", []string{src + "/diary.txt"}, mut, src + "/Music", "dir", false},
		{"a dir atom does not cover loose files", []string{src + "/Music"}, mut, src, "loose", false},
		{"a deep path is not loose", []string{src + "/Taxes/2024"}, mut, src, "loose", false},
		{"a missing top-level name counts as loose", []string{src + "/gone.txt"}, mut, src, "loose", true},
		{"immutable source by its path", []string{imm.Path}, imm, imm.Path, "tree", true},
		{"immutable source by a path inside", []string{imm.Path + "/a/b"}, imm, imm.Path, "tree", true},
		{"above the source", []string{root}, imm, imm.Path, "tree", true},
		{"remote atom by its location", []string{"me@fox:/srv/Taxes"}, remoteSrc, "me@fox:/srv/Taxes", "dir", true},
		{"remote: inside the atom", []string{"me@fox:/srv/Taxes/2024"}, remoteSrc, "me@fox:/srv/Taxes", "dir", true},
		{"remote: another atom", []string{"me@fox:/srv/Taxes"}, remoteSrc, "me@fox:/srv/Music", "dir", false},
		{"remote: the source", []string{"me@fox:/srv"}, remoteSrc, "me@fox:/srv/Music", "dir", true},
		{"remote: a loose name encrypts the loose atom (it cannot be checked here)", []string{"me@fox:/srv/diary.txt"}, remoteSrc, "me@fox:/srv", "loose", true},
		{"remote: the same path on this machine is not the remote one", []string{"/srv/Taxes"}, remoteSrc, "me@fox:/srv/Taxes", "dir", false},
		{"remote: another host", []string{"me@owl:/srv/Taxes"}, remoteSrc, "me@fox:/srv/Taxes", "dir", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &config.EncryptList{}
			for i, p := range tt.lines {
				l.Entries = append(l.Entries, config.EncryptEntry{Path: p, Line: i + 1})
			}
			if got := l.Covers(tt.src, tt.atom, tt.kind); got != tt.want {
				t.Errorf("Covers = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEncryptCheck(t *testing.T) {
	srcs := []config.Source{{Location: "/home/me", Path: "/home/me", Mode: config.Mutable}}
	l := &config.EncryptList{File: "encrypt.txt", Entries: []config.EncryptEntry{{Path: "/home/me/Taxes", Line: 1}, {Path: "/home", Line: 2}, {Path: "/home/you/Taxes", Line: 3}}}
	err := l.Check(srcs)
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Line != 3 || !strings.Contains(ce.Msg, "/home/you/Taxes is not inside any source") {
		t.Fatalf("error %v", err)
	}
	l.Entries = l.Entries[:2]
	if err := l.Check(srcs); err != nil {
		t.Fatal(err)
	}
	// Remote atoms are named as list.txt names the source.
	srcs = append(srcs, config.Source{Location: "me@fox:/srv", Remote: true, Mode: config.Mutable})
	l.Entries = []config.EncryptEntry{{Path: "me@fox:/srv/Taxes", Line: 1}, {Path: "fox:/srv/Taxes", Line: 2}}
	if err := l.Check(srcs); !errors.As(err, &ce) || ce.Line != 2 {
		t.Fatalf("a remote path under no source: %v", err)
	}
}
