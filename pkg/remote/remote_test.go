package remote

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in       string
		remote   bool
		want     string // String() when ok
		errorHas string
	}{
		{in: "/home/me", remote: false},
		{in: "Books", remote: false},
		{in: "a/b:/c", remote: false},
		{in: "greenc@fox:/home/greenc/Books", remote: true, want: "greenc@fox:/home/greenc/Books"},
		{in: "fox:/srv//photos/", remote: true, want: "fox:/srv/photos"},
		{in: "fox:/a/../b", remote: true, want: "fox:/b"},
		{in: "me@fox:Books", remote: true, errorHas: "must be absolute"},
		{in: "@fox:/x", remote: true, errorHas: "empty user"},
		{in: "a@b@fox:/x", remote: true, errorHas: "bad host"},
		{in: "fox:/", remote: true, errorHas: "cannot be the host's root"},
		{in: "fox:/..", remote: true, errorHas: "cannot be the host's root"},
	}
	for _, tt := range tests {
		loc, ok, err := Parse(tt.in)
		if ok != tt.remote {
			t.Errorf("Parse(%q): remote %v, want %v", tt.in, ok, tt.remote)
			continue
		}
		switch {
		case tt.errorHas != "":
			if err == nil || !strings.Contains(err.Error(), tt.errorHas) {
				t.Errorf("Parse(%q): error %v, want one with %q", tt.in, err, tt.errorHas)
			}
		case err != nil:
			t.Errorf("Parse(%q): %v", tt.in, err)
		case ok && loc.String() != tt.want:
			t.Errorf("Parse(%q) = %q, want %q", tt.in, loc.String(), tt.want)
		}
	}
}

// Record paths and paths under the mount point map onto each other, names
// with odd bytes included; nothing outside the source maps inside it.
func TestMountPaths(t *testing.T) {
	loc, _, err := Parse("me@fox:/data/src")
	if err != nil {
		t.Fatal(err)
	}
	m := &Mount{Loc: loc, Dir: "/var/gb/mnt/fox-1234.99"}
	for _, tt := range []struct{ rec, local string }{
		{"me@fox:/data/src", "/var/gb/mnt/fox-1234.99"},
		{"me@fox:/data/src/a", "/var/gb/mnt/fox-1234.99/a"},
		{"me@fox:/data/src/a b/c\nd\xff", "/var/gb/mnt/fox-1234.99/a b/c\nd\xff"},
	} {
		if got := m.Local(tt.rec); got != tt.local {
			t.Errorf("Local(%q) = %q, want %q", tt.rec, got, tt.local)
		}
		if got := m.Remote(tt.local); got != tt.rec {
			t.Errorf("Remote(%q) = %q, want %q", tt.local, got, tt.rec)
		}
	}
	for _, outside := range []string{"me@fox:/data/srcx", "me@fox:/data", "/data/src/a", "fox:/data/src/a"} {
		if got := m.Local(outside); strings.HasPrefix(got, m.Dir+"/") && !strings.HasSuffix(got, ".gb-not-under-source") {
			t.Errorf("Local(%q) = %q: maps a path outside the source inside the mount", outside, got)
		}
	}
}

func TestIsRemote(t *testing.T) {
	for p, want := range map[string]bool{"/a": false, "": false, "fox:/a": true, "me@fox:/a/b": true} {
		if IsRemote(p) != want {
			t.Errorf("IsRemote(%q) = %v", p, !want)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/mnt/a\040b\011c\134d`); got != "/mnt/a b\tc\\d" {
		t.Errorf("unescapeMount = %q", got)
	}
}
