package fstree_test

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/fstree"
)

// build creates entries under root: a name ending in "/" is a directory,
// "name -> target" a symlink, anything else a file.
func build(t *testing.T, root string, entries ...string) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(root, e)
		switch {
		case strings.Contains(e, " -> "):
			name, target, _ := strings.Cut(e, " -> ")
			p = filepath.Join(root, name)
			mkdirAll(t, filepath.Dir(p))
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		case strings.HasSuffix(e, "/"):
			mkdirAll(t, p)
		default:
			mkdirAll(t, filepath.Dir(p))
			if err := os.WriteFile(p, []byte(e), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func mkdirAll(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

// walk returns the paths Walk visits, relative to root ("" for root).
func walk(t *testing.T, root string, ex fstree.Excluder) []string {
	t.Helper()
	var got []string
	err := fstree.Walk(root, ex, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			t.Errorf("visit %q: %v", p, err)
			return nil
		}
		got = append(got, rel(root, p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func rel(root, p string) string {
	if p == root {
		return ""
	}
	return strings.TrimPrefix(p, root+"/")
}

// awkward holds names whose bytes sort differently from their paths:
// '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f), '0' after it.
var awkward = []string{
	"a/", "a/b-c", "a/b.c", "a/b/c", "a/b0", "a/b\x7f", "a/b\xff",
	"a-b", "a.b/", "a.b/x", "ab", "a0", "a\xff", "a b/", "a b/c",
	"\x7f", "\xff/", "\xff/\xff", "\xff/\x7f", "B", " sp", "n\nl", "-", ".hidden",
	"link -> a", "dangling -> nowhere",
}

func TestWalkOrderMatchesCompare(t *testing.T) {
	root := t.TempDir()
	build(t, root, awkward...)
	got := walk(t, root, nil)

	// Everything is visited once.
	if len(got) != 28 {
		t.Errorf("visited %d entries, want 28: %q", len(got), got)
	}
	// Walk's order is strictly increasing under Compare, both for the
	// absolute paths and for the relative ones.
	for i := 1; i < len(got); i++ {
		a, b := filepath.Join(root, got[i-1]), filepath.Join(root, got[i])
		if fstree.Compare(a, b) != -1 || fstree.Compare(b, a) != 1 {
			t.Errorf("Walk visits %q before %q, but Compare = %d", got[i-1], got[i], fstree.Compare(a, b))
		}
		if i > 1 && fstree.Compare(got[i-1], got[i]) != -1 {
			t.Errorf("relative: Compare(%q, %q) = %d", got[i-1], got[i], fstree.Compare(got[i-1], got[i]))
		}
	}
	// Sorting any permutation with Compare gives Walk's order back.
	shuffled := slices.Clone(got)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	slices.SortFunc(shuffled, fstree.Compare)
	if !slices.Equal(shuffled, got) {
		t.Errorf("sorted with Compare:\n%q\nWalk order:\n%q", shuffled, got)
	}
	// Plain byte order is not Walk's order: "a/b" comes before "a-b".
	if i, j := slices.Index(got, "a/b"), slices.Index(got, "a-b"); i < 0 || j < 0 || i > j {
		t.Errorf("a/b at %d, a-b at %d: a directory's contents come right after it", i, j)
	}
}

func TestWalkExactOrder(t *testing.T) {
	root := t.TempDir()
	build(t, root, "a/b", "a-b", "a.b", "a0", "ab", "a/c/d")
	got := walk(t, root, nil)
	want := []string{"", "a", "a/b", "a/c", "a/c/d", "a-b", "a.b", "a0", "ab"}
	if !slices.Equal(got, want) {
		t.Errorf("Walk order %q, want %q", got, want)
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"a", "a", 0},
		{"", "", 0},
		{"/x/a", "/x/a", 0},
		{"a", "b", -1},
		{"a", "a/b", -1},   // ancestor first
		{"a/b", "a-b", -1}, // bytes would say otherwise: '-' < '/'
		{"a/b", "a.b", -1},
		{"a/b", "a0", -1},
		{"a/zzz", "a0", -1},
		{"a-b", "a.b", -1},
		{"a.b", "a0", -1},
		{"a0", "ab", -1},
		{"B", "a", -1},
		{"a/b", "a/b/c", -1},
		{"a/b/c", "a/c", -1},
		{"a\x7f", "a\xff", -1},
		{"a/\xff", "a\x7f", -1},
		{"\xff", "\xff/a", -1},
		{"", "a", -1},
		{"/", "/a", -1},
		{"/a", "/a/", -1},
		{"/x/a b", "/x/a/b", 1},
		{"/x/ab", "/x/a/b", 1},
	}
	for _, tt := range tests {
		if got := fstree.Compare(tt.a, tt.b); got != tt.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := fstree.Compare(tt.b, tt.a); got != -tt.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

// recordingExcluder excludes a fixed set and records what it was asked.
type recordingExcluder struct {
	out   map[string]bool
	asked []string
}

func (r *recordingExcluder) Excluded(abs string) bool {
	r.asked = append(r.asked, abs)
	return r.out[abs]
}

func TestWalkSkipsExcluded(t *testing.T) {
	root := t.TempDir()
	build(t, root, "keep/x", "keep/number/dump/deep/file", "keep/number/dumpling", "number/dump", "a.tmp", "b/c.tmp", "b/d", "cache/f")
	var ex config.Excluder
	for _, p := range []string{"number/dump", "*.tmp", filepath.Join(root, "cache")} {
		if err := ex.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	got := walk(t, root, &ex)
	want := []string{"", "b", "b/d", "keep", "keep/number", "keep/number/dumpling", "keep/x", "number"}
	if !slices.Equal(got, want) {
		t.Errorf("Walk with excludes visited %q, want %q", got, want)
	}

	// Nothing below an excluded directory is even looked at.
	rec := &recordingExcluder{out: map[string]bool{filepath.Join(root, "keep", "number"): true}}
	got = walk(t, root, rec)
	for _, p := range rec.asked {
		if strings.HasPrefix(p, filepath.Join(root, "keep", "number")+"/") {
			t.Errorf("asked about %q below an excluded directory", p)
		}
	}
	if slices.Contains(got, "keep/number") || slices.Contains(got, "keep/number/dumpling") {
		t.Errorf("visited excluded entries: %q", got)
	}
	// The root itself is not subject to the excluder.
	rec = &recordingExcluder{out: map[string]bool{root: true}}
	if got := walk(t, root, rec); len(got) == 0 || got[0] != "" {
		t.Errorf("root not visited: %q", got)
	}
}

func TestWalkSkipDirAndErrors(t *testing.T) {
	root := t.TempDir()
	build(t, root, "a/x", "a/y", "b", "c/z")
	var got []string
	err := fstree.Walk(root, nil, func(p string, info fs.FileInfo, err error) error {
		got = append(got, rel(root, p))
		if rel(root, p) == "a" {
			return fstree.ErrSkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"", "a", "b", "c", "c/z"}; !slices.Equal(got, want) {
		t.Errorf("with SkipDir on a: %q, want %q", got, want)
	}

	// ErrSkipDir on the root skips everything.
	got = nil
	err = fstree.Walk(root, nil, func(p string, info fs.FileInfo, err error) error {
		got = append(got, rel(root, p))
		return fstree.ErrSkipDir
	})
	if err != nil || len(got) != 1 {
		t.Errorf("SkipDir on root: visited %q, err %v", got, err)
	}

	// Any other error stops the walk and is returned.
	stop := errors.New("stop")
	got = nil
	err = fstree.Walk(root, nil, func(p string, info fs.FileInfo, err error) error {
		got = append(got, rel(root, p))
		if rel(root, p) == "a/x" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("Walk returned %v, want stop", err)
	}
	if want := []string{"", "a", "a/x"}; !slices.Equal(got, want) {
		t.Errorf("visited %q after stopping, want %q", got, want)
	}
}

func TestWalkRoots(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "f", "d/x", "l -> d")

	// A missing root is reported to fn.
	missing := filepath.Join(dir, "missing")
	var calls int
	err := fstree.Walk(missing, nil, func(p string, info fs.FileInfo, err error) error {
		calls++
		if p != missing || info != nil || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("fn(%q, %v, %v)", p, info, err)
		}
		return nil
	})
	if err != nil || calls != 1 {
		t.Errorf("missing root: %v, %d calls", err, calls)
	}
	// The error from fn is returned.
	if err := fstree.Walk(missing, nil, func(p string, info fs.FileInfo, err error) error { return err }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root, fn returns err: %v", err)
	}
	// A file root is visited alone; a symlink root is not followed.
	for _, name := range []string{"f", "l"} {
		root := filepath.Join(dir, name)
		if got := walk(t, root, nil); !slices.Equal(got, []string{""}) {
			t.Errorf("Walk(%s) = %q", name, got)
		}
	}
}

func TestWalkDoesNotFollowSymlinks(t *testing.T) {
	root := t.TempDir()
	build(t, root, "d/x", "l -> d", "loop -> .")
	var modes []string
	err := fstree.Walk(root, nil, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			modes = append(modes, rel(root, p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(modes, []string{"l", "loop"}) {
		t.Errorf("symlinks seen: %q", modes)
	}
}

func TestListAtoms(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		mutable bool
		exclude []string
		want    []string // "kind:rel"
	}{
		{
			name:    "dirs then loose",
			entries: []string{"b/x", "a/", "f", "c/y", ".dot/"},
			mutable: true,
			want:    []string{"dir:.dot", "dir:a", "dir:b", "dir:c", "loose:"},
		},
		{
			name:    "no loose files, no loose atom",
			entries: []string{"a/", "b/c"},
			mutable: true,
			want:    []string{"dir:a", "dir:b"},
		},
		{
			name:    "only loose files",
			entries: []string{"f", "g"},
			mutable: true,
			want:    []string{"loose:"},
		},
		{
			name:    "a symlink to a directory is a loose file",
			entries: []string{"d/", "l -> d"},
			mutable: true,
			want:    []string{"dir:d", "loose:"},
		},
		{
			name:    "a dangling symlink is a loose file",
			entries: []string{"l -> nowhere"},
			mutable: true,
			want:    []string{"loose:"},
		},
		{
			name:    "names in byte order",
			entries: []string{"b/", "a-b/", "a/", "a.b/", "B/", "\xff/", "a0/"},
			mutable: true,
			want:    []string{"dir:B", "dir:a", "dir:a-b", "dir:a.b", "dir:a0", "dir:b", "dir:\xff"},
		},
		{
			name:    "excluded dir and loose file",
			entries: []string{"a/", "cache/", "f.tmp", "g"},
			mutable: true,
			exclude: []string{"cache", "*.tmp"},
			want:    []string{"dir:a", "loose:"},
		},
		{
			name:    "only loose file excluded",
			entries: []string{"a/", "f.tmp"},
			mutable: true,
			exclude: []string{"*.tmp"},
			want:    []string{"dir:a"},
		},
		{
			name:    "empty source",
			mutable: true,
		},
		{
			name:    "immutable is one tree",
			entries: []string{"a/", "f"},
			want:    []string{"tree:"},
		},
		{
			name:    "immutable ignores excludes at the top",
			entries: []string{"f"},
			exclude: []string{"*"},
			want:    []string{"tree:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			build(t, root, tt.entries...)
			var ex config.Excluder
			for _, p := range tt.exclude {
				if err := ex.Add(p); err != nil {
					t.Fatal(err)
				}
			}
			atoms, err := fstree.ListAtoms(root, tt.mutable, &ex)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range atoms {
				got = append(got, a.Kind+":"+rel(root, a.Path))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ListAtoms = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestListAtomsErrors(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "file")
	for _, p := range []string{filepath.Join(dir, "missing"), filepath.Join(dir, "file")} {
		if _, err := fstree.ListAtoms(p, true, nil); err == nil {
			t.Errorf("ListAtoms(%q) gave no error", p)
		}
	}
	// An immutable source is not read.
	if atoms, err := fstree.ListAtoms(filepath.Join(dir, "missing"), false, nil); err != nil || len(atoms) != 1 {
		t.Errorf("immutable: %v, %v", atoms, err)
	}
}

func TestWalkAtom(t *testing.T) {
	root := t.TempDir()
	build(t, root, "d/x", "d/y/z", "e/", "f", "b.tmp", "a", "l -> d", "dangling -> nowhere", "\xff")
	var ex config.Excluder
	if err := ex.Add("*.tmp"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind, atom string
		want       []string
	}{
		{fstree.Loose, "", []string{"a", "dangling", "f", "l", "\xff"}},
		{fstree.Dir, "d", []string{"d", "d/x", "d/y", "d/y/z"}},
		{fstree.Dir, "e", []string{"e"}},
		{fstree.Tree, "", []string{"", "a", "d", "d/x", "d/y", "d/y/z", "dangling", "e", "f", "l", "\xff"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind+":"+tt.atom, func(t *testing.T) {
			atomPath := root
			if tt.atom != "" {
				atomPath = filepath.Join(root, tt.atom)
			}
			var got []string
			err := fstree.WalkAtom(root, tt.kind, atomPath, &ex, func(p string, info fs.FileInfo, err error) error {
				if err != nil {
					t.Errorf("visit %q: %v", p, err)
				}
				if info == nil {
					t.Errorf("visit %q without info", p)
				} else if tt.kind == fstree.Loose && info.IsDir() {
					t.Errorf("loose atom visits directory %q", p)
				}
				got = append(got, rel(root, p))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("WalkAtom = %q, want %q", got, tt.want)
			}
			for i := 1; i < len(got); i++ {
				if fstree.Compare(filepath.Join(root, got[i-1]), filepath.Join(root, got[i])) != -1 {
					t.Errorf("%q before %q is not canonical order", got[i-1], got[i])
				}
			}
		})
	}
}

func TestWalkAtomLooseErrors(t *testing.T) {
	root := t.TempDir()
	build(t, root, "a", "b", "c")
	stop := errors.New("stop")
	var got []string
	err := fstree.WalkAtom(root, fstree.Loose, root, nil, func(p string, info fs.FileInfo, err error) error {
		got = append(got, rel(root, p))
		if rel(root, p) == "b" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("stop at b: %v, visited %q", err, got)
	}
	// ErrSkipDir from a loose entry just goes on.
	got = nil
	err = fstree.WalkAtom(root, fstree.Loose, root, nil, func(p string, info fs.FileInfo, err error) error {
		got = append(got, rel(root, p))
		return fstree.ErrSkipDir
	})
	if err != nil || len(got) != 3 {
		t.Errorf("SkipDir: %v, visited %q", err, got)
	}
	// A missing source is reported to fn.
	missing := filepath.Join(root, "missing")
	var seen error
	err = fstree.WalkAtom(missing, fstree.Loose, missing, nil, func(p string, info fs.FileInfo, err error) error {
		seen = err
		return err
	})
	if !errors.Is(seen, fs.ErrNotExist) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing source: fn saw %v, WalkAtom returned %v", seen, err)
	}
	if err := fstree.WalkAtom(root, "bogus", root, nil, func(string, fs.FileInfo, error) error { return nil }); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		path, kind, want string
	}{
		{"/home/me/Books", fstree.Loose, "/home/me/Books/"},
		{"/home/me/Books/", fstree.Loose, "/home/me/Books/"},
		{"/", fstree.Loose, "/"},
		{"/home/me/Books/a", fstree.Dir, "/home/me/Books/a"},
		{"/home/me/Photos", fstree.Tree, "/home/me/Photos"},
		{"/x/\xff", fstree.Loose, "/x/\xff/"},
	}
	for _, tt := range tests {
		if got := fstree.Key(tt.path, tt.kind); got != tt.want {
			t.Errorf("Key(%q, %q) = %q, want %q", tt.path, tt.kind, got, tt.want)
		}
	}
	// The loose atom's key never equals a dir atom's key of the same source.
	src := "/s"
	if fstree.Key(src, fstree.Loose) == fstree.Key(src+"/a", fstree.Dir) || fstree.Key(src, fstree.Loose) == fstree.Key(src, fstree.Tree) {
		t.Error("loose key collides")
	}
}

func TestMemberName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/home/me/a.txt", "home/me/a.txt"},
		{"//double", "double"},
		{"relative/x", "relative/x"},
		{"/", ""},
		{"/a b/\xff\n", "a b/\xff\n"},
		{"/dir/", "dir/"},
	}
	for _, tt := range tests {
		if got := fstree.MemberName(tt.in); got != tt.want {
			t.Errorf("MemberName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
