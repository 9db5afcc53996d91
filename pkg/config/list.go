package config

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gbarchive/gb/pkg/remote"
)

// Source modes (list.txt tags).
const (
	Mutable   = "MUTABLE"
	Immutable = "IMMUTABLE"
)

// Source is one line of list.txt.
type Source struct {
	Location string // as written, cleaned: a local absolute path, or [user@]host:/path
	Path     string // where it is read on this machine ("" for a remote source until it is mounted)
	Remote   bool   // Location is [user@]host:/path (pkg/remote mounts it)
	Mode     string // Mutable or Immutable
	Encrypt  bool
	Line     int
}

// ParseList reads list.txt: "LOCATION ::MUTABLE|::IMMUTABLE [::ENCRYPT]".
// The location may contain spaces; tags are the trailing words that start
// with "::". Blank lines and lines starting with # are skipped.
func ParseList(path string) ([]Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read source list: %v", unwrapPathErr(err))}
	}
	defer f.Close()
	var out []Source
	seen := map[string]int{}
	r := bufio.NewReader(f)
	for no := 1; ; no++ {
		line, rerr := r.ReadString('\n')
		if rerr != nil && line == "" {
			break
		}
		s := strings.TrimRight(line, "\r\n")
		if t := strings.TrimSpace(s); t == "" || strings.HasPrefix(t, "#") {
			if rerr != nil {
				break
			}
			continue
		}
		src, err := parseListLine(s)
		if err != nil {
			err.File, err.Line = path, no
			return nil, err
		}
		src.Line = no
		if prev, dup := seen[src.Location]; dup {
			return nil, &Error{File: path, Line: no, Msg: fmt.Sprintf("%s is listed twice (first on line %d)", src.Location, prev), Hint: "keep one line per source"}
		}
		for _, o := range out {
			if within(src.Location, o.Location) || within(o.Location, src.Location) {
				return nil, &Error{File: path, Line: no, Msg: fmt.Sprintf("%s overlaps %s on line %d", src.Location, o.Location, o.Line), Hint: "sources must not contain each other; use exclude.txt to leave a sub-directory out"}
			}
		}
		seen[src.Location] = no
		out = append(out, src)
		if rerr != nil {
			break
		}
	}
	if len(out) == 0 {
		return nil, &Error{File: path, Msg: "no sources listed", Hint: "add lines such as: /home/me/Documents ::MUTABLE"}
	}
	return out, nil
}

func within(p, dir string) bool {
	return p != dir && strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

func parseListLine(s string) (Source, *Error) {
	fields := strings.Fields(s)
	var src Source
	// Tags are trailing words; the location is everything before them, so
	// names with inner spaces survive.
	end := len(strings.TrimRight(s, " \t"))
	for i := len(fields) - 1; i >= 0 && strings.HasPrefix(fields[i], "::"); i-- {
		tag := fields[i]
		end = strings.LastIndex(s[:end], tag)
		switch strings.ToUpper(tag) {
		case "::MUTABLE", "::IMMUTABLE":
			m := strings.ToUpper(tag[2:])
			if src.Mode != "" && src.Mode != m {
				return src, &Error{Msg: "a source is either ::MUTABLE or ::IMMUTABLE, not both"}
			}
			src.Mode = m
		case "::ENCRYPT":
			src.Encrypt = true
		default:
			return src, &Error{Msg: fmt.Sprintf("unknown tag %s", tag), Hint: "tags are ::MUTABLE, ::IMMUTABLE and ::ENCRYPT"}
		}
	}
	loc := strings.TrimSpace(s[:end])
	if loc == "" {
		return src, &Error{Msg: "no location before the tags"}
	}
	if src.Mode == "" {
		return src, &Error{Msg: fmt.Sprintf("%s has no ::MUTABLE or ::IMMUTABLE tag", loc), Hint: "::MUTABLE: each sub-directory is an atom; ::IMMUTABLE: the whole directory is one atom"}
	}
	if r, ok, err := remote.Parse(loc); ok {
		if err != nil {
			return src, &Error{Msg: err.Error(), Hint: "remote sources are written user@host:/absolute/path"}
		}
		src.Location = r.String()
		src.Remote = true
		return src, nil
	}
	if !strings.HasPrefix(loc, "/") {
		return src, &Error{Msg: fmt.Sprintf("%s is not an absolute path", loc)}
	}
	src.Location = filepath.Clean(loc)
	src.Path = src.Location
	return src, nil
}
