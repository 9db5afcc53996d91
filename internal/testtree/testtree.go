// Package testtree builds source trees with every awkward thing a real
// disk holds and compares a restored tree with its original, for gb's
// end-to-end tests and benchmarks.
package testtree

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Awkward names every fixture holds.
var Awkward = []string{
	"with space",
	"new\nline",
	"tab\there",
	`back\slash`,
	"bad\xff\xfeutf8",
	"ünïcödé",
}

// Make builds the standard fixture under root (which must not exist or be
// empty). big is the size of the file meant to exceed the bag target.
func Make(root string, big int64) error {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		must(os.MkdirAll(root, 0o755))
		write := func(rel string, data []byte, mode os.FileMode, mtime time.Time) {
			p := filepath.Join(root, rel)
			must(os.MkdirAll(filepath.Dir(p), 0o755))
			must(os.WriteFile(p, data, 0o644))
			must(os.Chmod(p, mode))
			if !mtime.IsZero() {
				must(os.Chtimes(p, mtime, mtime))
			}
		}
		t1971 := time.Date(1971, 3, 4, 5, 6, 7, 0, time.UTC)
		t2099 := time.Date(2099, 12, 31, 23, 59, 58, 0, time.UTC)
		// Atom "docs": awkward names, modes, mtimes.
		for i, n := range Awkward {
			write(filepath.Join("docs", n), []byte(fmt.Sprintf("content of %q\n", n)), 0o644, time.Time{})
			write(filepath.Join("docs", "sub "+fmt.Sprint(i), n), bytes.Repeat([]byte("x"), i*100), 0o600, time.Time{})
		}
		write("docs/readonly.txt", []byte("read only\n"), 0o444, time.Time{})
		write("docs/script.sh", []byte("#!/bin/sh\necho hi\n"), 0o755, time.Time{})
		write("docs/old-1971.txt", []byte("old\n"), 0o644, t1971)
		write("docs/future-2099.txt", []byte("future\n"), 0o644, t2099)
		write("docs/empty-file", nil, 0o644, time.Time{})
		must(os.MkdirAll(filepath.Join(root, "docs", "empty-dir"), 0o755))
		// Links.
		must(os.Symlink("readonly.txt", filepath.Join(root, "docs", "rel-link")))
		must(os.Symlink(filepath.Join(root, "docs", "script.sh"), filepath.Join(root, "docs", "abs-link")))
		must(os.Symlink("does/not/exist", filepath.Join(root, "docs", "dangling-link")))
		write("docs/hard-a", []byte("hard linked\n"), 0o644, time.Time{})
		must(os.Link(filepath.Join(root, "docs", "hard-a"), filepath.Join(root, "docs", "hard-b")))
		// A path longer than 1,000 bytes.
		long := "deep"
		for len(long) < 1100 {
			long = filepath.Join(long, strings.Repeat("d", 60))
		}
		write(filepath.Join(long, "leaf.txt"), []byte("far down\n"), 0o644, time.Time{})
		// Atom "media": a file larger than the bag target plus small ones.
		must(writeRandom(filepath.Join(root, "media", "big.bin"), big))
		for i := 0; i < 5; i++ {
			write(fmt.Sprintf("media/small-%d.txt", i), bytes.Repeat([]byte(fmt.Sprintf("line %d\n", i)), 200), 0o644, time.Time{})
		}
		// An empty top-level directory is an atom too.
		must(os.MkdirAll(filepath.Join(root, "empty-atom"), 0o755))
		// Loose top-level files.
		write("loose 1.txt", []byte("loose one\n"), 0o644, time.Time{})
		write("loose\xff2.txt", []byte("loose two\n"), 0o640, t1971)
		// Directory mtimes last, so they are not disturbed by the writes
		// above.
		must(os.Chtimes(filepath.Join(root, "docs", "empty-dir"), t1971, t1971))
	}()
	return err
}

// Entry is what Compare checks of one path.
type Entry struct {
	Type  string
	Mode  fs.FileMode
	Mtime int64
	Size  int64
	Sum   [32]byte
	Link  string
	Inode uint64
}

// Snapshot describes every path below root, keyed by relative path.
func Snapshot(root string) (map[string]Entry, error) {
	out := map[string]Entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := Entry{Mode: info.Mode().Perm() | info.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), Mtime: info.ModTime().Unix()}
		switch {
		case info.IsDir():
			e.Type = "dir"
		case info.Mode()&fs.ModeSymlink != 0:
			e.Type = "symlink"
			e.Link, _ = os.Readlink(p)
			e.Mode = 0
		case info.Mode().IsRegular():
			e.Type = "file"
			e.Size = info.Size()
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e.Sum = sha256.Sum256(b)
			if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
				e.Inode = st.Ino
			}
		default:
			e.Type = info.Mode().Type().String()
		}
		out[rel] = e
		return nil
	})
	return out, err
}

// Compare lists every difference between the trees at a and b: missing or
// extra paths, type, content, mode, mtime (seconds), link targets, and
// hard-link groups.
func Compare(a, b string, ignoreRootMtime bool) ([]string, error) {
	return CompareWith(a, b, CompareOptions{IgnoreRootMtime: ignoreRootMtime})
}

// CompareOptions relax Compare.
type CompareOptions struct {
	IgnoreRootMtime bool
	// IgnoreHardLinks: a tree read over sshfs shows no hard links (SFTP
	// reports no link count), so its restored copy holds each name as a
	// file of its own.
	IgnoreHardLinks bool
}

// CompareWith is Compare with options.
func CompareWith(a, b string, o CompareOptions) ([]string, error) {
	ignoreRootMtime := o.IgnoreRootMtime
	sa, err := Snapshot(a)
	if err != nil {
		return nil, err
	}
	sb, err := Snapshot(b)
	if err != nil {
		return nil, err
	}
	var diffs []string
	keys := map[string]bool{}
	for k := range sa {
		keys[k] = true
	}
	for k := range sb {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	// Hard links: paths sharing an inode in a must share one in b.
	groupA, groupB := map[uint64][]string{}, map[uint64][]string{}
	for _, k := range sorted {
		ea, inA := sa[k]
		eb, inB := sb[k]
		switch {
		case !inB:
			diffs = append(diffs, fmt.Sprintf("missing: %q", k))
			continue
		case !inA:
			diffs = append(diffs, fmt.Sprintf("extra: %q", k))
			continue
		}
		if ea.Type != eb.Type {
			diffs = append(diffs, fmt.Sprintf("%q: type %s, restored %s", k, ea.Type, eb.Type))
			continue
		}
		if ea.Mode != eb.Mode {
			diffs = append(diffs, fmt.Sprintf("%q: mode %v, restored %v", k, ea.Mode, eb.Mode))
		}
		if ea.Mtime != eb.Mtime && !(k == "." && ignoreRootMtime) && ea.Type != "symlink" {
			diffs = append(diffs, fmt.Sprintf("%q: mtime %d, restored %d", k, ea.Mtime, eb.Mtime))
		}
		if ea.Size != eb.Size || ea.Sum != eb.Sum {
			diffs = append(diffs, fmt.Sprintf("%q: content differs (%d vs %d bytes)", k, ea.Size, eb.Size))
		}
		if ea.Link != eb.Link {
			diffs = append(diffs, fmt.Sprintf("%q: link %q, restored %q", k, ea.Link, eb.Link))
		}
		if ea.Inode != 0 {
			groupA[ea.Inode] = append(groupA[ea.Inode], k)
		}
		if eb.Inode != 0 {
			groupB[eb.Inode] = append(groupB[eb.Inode], k)
		}
	}
	for _, g := range groupA {
		if len(g) < 2 || o.IgnoreHardLinks {
			continue
		}
		ib := sb[g[0]].Inode
		for _, k := range g[1:] {
			if ib == 0 || sb[k].Inode != ib {
				diffs = append(diffs, fmt.Sprintf("%q: hard link to %q not kept", k, g[0]))
			}
		}
	}
	return diffs, nil
}

// writeRandom writes n incompressible bytes in chunks, so a gigabyte file
// costs a megabyte of memory (tests run under the race detector).
func writeRandom(p string, n int64) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	r := rand.NewChaCha8([32]byte{1, 2})
	buf := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, int64(len(buf)))
		r.Read(buf[:k])
		if _, err := f.Write(buf[:k]); err != nil {
			f.Close()
			return err
		}
		n -= k
	}
	return f.Close()
}
