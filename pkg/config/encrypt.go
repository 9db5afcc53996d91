package config

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/gbarchive/gb/pkg/remote"
)

// EncryptList is encrypt.txt: paths whose atoms are encrypted, on top of
// the sources tagged ::ENCRYPT.
type EncryptList struct {
	File    string
	Entries []EncryptEntry
}

// EncryptEntry is one line of encrypt.txt.
type EncryptEntry struct {
	Path string
	Line int
}

// ParseEncryptFile reads encrypt.txt (seed-compatible): one absolute path
// per line; blank lines and # comments are skipped. A missing file is an
// empty list.
func ParseEncryptFile(path string) (*EncryptList, error) {
	l := &EncryptList{File: path}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return l, nil
	}
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrapPathErr(err))}
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for no := 1; ; no++ {
		line, rerr := r.ReadString('\n')
		t := strings.TrimRight(line, "\r\n")
		if s := strings.TrimSpace(t); s != "" && !strings.HasPrefix(s, "#") {
			if r, ok, err := remote.Parse(s); ok {
				// An atom of a remote source, named as list.txt names it.
				if err != nil {
					return nil, &Error{File: path, Line: no, Msg: err.Error(), Hint: "remote atoms are written user@host:/absolute/path"}
				}
				l.Entries = append(l.Entries, EncryptEntry{Path: r.String(), Line: no})
			} else if !strings.HasPrefix(s, "/") {
				return nil, &Error{File: path, Line: no, Msg: fmt.Sprintf("%s is not an absolute path", s), Hint: "list atoms by their full local path, as inventory_dryrun.json shows them"}
			} else {
				l.Entries = append(l.Entries, EncryptEntry{Path: filepath.Clean(s), Line: no})
			}
		}
		if rerr != nil {
			return l, nil
		}
	}
}

// Check refuses a line that is inside no source: it is most likely a typo,
// and the atom it meant would then be uploaded in plaintext.
func (l *EncryptList) Check(sources []Source) error {
	for _, e := range l.Entries {
		ok := false
		for _, s := range sources {
			if e.Path == s.Location || within(e.Path, s.Location) || within(s.Location, e.Path) {
				ok = true
				break
			}
		}
		if !ok {
			return &Error{File: l.File, Line: e.Line, Msg: fmt.Sprintf("%s is not inside any source in list.txt", e.Path), Hint: "fix the path (atoms are listed by their full local path) or remove the line"}
		}
	}
	return nil
}

// Covers reports whether the atom at atomPath (a record path: local, or
// [user@]host:/path for a remote source), of kind kind ("dir",
// "loose" or "tree") in source src, is to be encrypted. A line naming a
// path inside an atom encrypts the whole atom (an atom is packed whole),
// a line naming a source or anything above it encrypts all its atoms, and
// a line naming a file directly in a ::MUTABLE source encrypts the loose
// files' atom.
func (l *EncryptList) Covers(src Source, atomPath, kind string) bool {
	if src.Encrypt {
		return true
	}
	for _, e := range l.Entries {
		p := e.Path
		if p == src.Location || within(src.Location, p) {
			return true
		}
		switch kind {
		case "loose":
			if path.Dir(p) == src.Location {
				// For a remote source the Lstat fails: the loose atom is
				// encrypted then, never left in plaintext by doubt.
				if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
					return true
				}
			}
		default:
			if p == atomPath || within(p, atomPath) {
				return true
			}
		}
	}
	return false
}

// Any reports whether any source or line asks for encryption.
func (l *EncryptList) Any(sources []Source) bool {
	if len(l.Entries) > 0 {
		return true
	}
	for _, s := range sources {
		if s.Encrypt {
			return true
		}
	}
	return false
}
