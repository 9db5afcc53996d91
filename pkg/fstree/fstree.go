// Package fstree defines what an atom is on disk and the one order in
// which gb visits it. Scan (hashing, split points) and pack (tar members)
// must agree on both, or split points would fall in the wrong places.
package fstree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Atom kinds.
const (
	// Dir is one top-level directory of a MUTABLE source.
	Dir = "dir"
	// Loose is the files directly inside a MUTABLE source (not its
	// directories): one more atom per source.
	Loose = "loose"
	// Tree is a whole IMMUTABLE source.
	Tree = "tree"
)

// Excluder decides which absolute paths are left out.
type Excluder interface{ Excluded(abs string) bool }

// VisitFunc sees each entry. err is set when the entry (or the listing of
// a directory, then info is the directory's) could not be read; returning
// nil skips it and goes on.
type VisitFunc func(path string, info fs.FileInfo, err error) error

// ErrSkipDir, returned for a directory, skips its contents.
var ErrSkipDir = fs.SkipDir

// Walk visits root and everything below it in canonical order: pre-order,
// the entries of each directory sorted by name bytes. Symlinks are not
// followed. Excluded entries (and everything below them) are not visited.
func Walk(root string, ex Excluder, fn VisitFunc) error {
	info, err := os.Lstat(root)
	if err != nil {
		return fn(root, nil, err)
	}
	return walk(root, info, ex, fn)
}

func walk(p string, info fs.FileInfo, ex Excluder, fn VisitFunc) error {
	if err := fn(p, info, nil); err != nil {
		if errors.Is(err, ErrSkipDir) {
			return nil
		}
		return err
	}
	if !info.IsDir() {
		return nil
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		if err := fn(p, info, err); err != nil && !errors.Is(err, ErrSkipDir) {
			return err
		}
	}
	for _, e := range ents {
		child := join(p, e.Name())
		if ex != nil && ex.Excluded(child) {
			continue
		}
		ci, err := e.Info()
		if err != nil {
			if err := fn(child, nil, err); err != nil {
				return err
			}
			continue
		}
		if err := walk(child, ci, ex, fn); err != nil {
			return err
		}
	}
	return nil
}

func join(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// WalkAtom visits the entries that make up an atom, in canonical order.
// A Dir atom is its directory and everything below; a Tree atom the whole
// source; a Loose atom the non-directory entries directly in the source.
func WalkAtom(source, kind, atomPath string, ex Excluder, fn VisitFunc) error {
	switch kind {
	case Dir, Tree:
		return Walk(atomPath, ex, fn)
	case Loose:
		ents, err := os.ReadDir(source)
		if err != nil {
			info, _ := os.Lstat(source)
			return fn(source, info, err)
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			child := join(source, e.Name())
			if ex != nil && ex.Excluded(child) {
				continue
			}
			ci, err := e.Info()
			if err == nil && ci.IsDir() {
				continue
			}
			if err := fn(child, ci, err); err != nil && !errors.Is(err, ErrSkipDir) {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown atom kind %q", kind)
}

// Atoms lists the atoms of a source: for a MUTABLE source every top-level
// directory (not excluded) in name order, then the loose-files atom when
// there are loose files; for an IMMUTABLE source the source itself.
type AtomRef struct {
	Path string // absolute; for Loose the source path
	Kind string
}

// ListAtoms returns a source's atoms.
func ListAtoms(source string, mutable bool, ex Excluder) ([]AtomRef, error) {
	if !mutable {
		return []AtomRef{{Path: source, Kind: Tree}}, nil
	}
	ents, err := os.ReadDir(source)
	if err != nil {
		return nil, err
	}
	var out []AtomRef
	loose := false
	for _, e := range ents {
		child := join(source, e.Name())
		if ex != nil && ex.Excluded(child) {
			continue
		}
		if e.IsDir() {
			out = append(out, AtomRef{Path: child, Kind: Dir})
		} else {
			loose = true
		}
	}
	if loose {
		out = append(out, AtomRef{Path: source, Kind: Loose})
	}
	return out, nil
}

// Key is the inventory key of an atom: its path, and for the loose-files
// atom the source path with a trailing "/" (no directory entry has an
// empty name, so it cannot collide with a Dir atom).
func Key(path, kind string) string {
	if kind == Loose {
		return strings.TrimSuffix(path, "/") + "/"
	}
	return path
}

// Compare orders two paths as Walk visits them: component by component,
// bytewise. It returns -1, 0 or +1.
func Compare(a, b string) int {
	for {
		ai := strings.IndexByte(a, '/')
		bi := strings.IndexByte(b, '/')
		ac, bc := a, b
		if ai >= 0 {
			ac = a[:ai]
		}
		if bi >= 0 {
			bc = b[:bi]
		}
		if c := strings.Compare(ac, bc); c != 0 {
			return c
		}
		switch {
		case ai < 0 && bi < 0:
			return 0
		case ai < 0:
			return -1 // a is an ancestor of b: visited first
		case bi < 0:
			return 1
		}
		a, b = a[ai+1:], b[bi+1:]
	}
}

// MemberName is the name a path gets inside a bag: the absolute path
// without its leading "/", as GNU tar names members by default, so
// extracting every bag into one empty directory rebuilds the sources
// under it.
func MemberName(abs string) string {
	return strings.TrimLeft(filepath.ToSlash(abs), "/")
}
