package config

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Excluder applies exclude.txt. Patterns follow GNU tar's defaults for
// --exclude-from: a pattern matches a path when it matches the whole path
// or any tail of it that starts at a "/" (so "number/dump" excludes every
// ".../number/dump"), "*" and "?" match "/" too, and "[...]" is a class.
// A pattern that starts with "/" is anchored to the absolute path. A
// matched directory is excluded with everything under it.
type Excluder struct {
	patterns []pattern
}

type pattern struct {
	text     string
	anchored bool
	literal  bool
}

// ParseExclude reads exclude.txt; a missing file means no excludes unless
// required. Blank lines and lines starting with # are skipped.
func ParseExclude(path string, required bool) (*Excluder, error) {
	ex := &Excluder{}
	if path == "" {
		return ex, nil
	}
	f, err := os.Open(path)
	if os.IsNotExist(err) && !required {
		return ex, nil
	}
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read exclude file: %v", unwrapPathErr(err))}
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for no := 1; ; no++ {
		line, rerr := r.ReadString('\n')
		p := strings.TrimRight(line, "\r\n")
		if t := strings.TrimSpace(p); t != "" && !strings.HasPrefix(t, "#") {
			if err := ex.Add(p); err != nil {
				return nil, &Error{File: path, Line: no, Msg: err.Error()}
			}
		}
		if rerr != nil {
			break
		}
	}
	return ex, nil
}

// Add adds one pattern.
func (e *Excluder) Add(p string) error {
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return fmt.Errorf("empty pattern")
	}
	if err := validate(p); err != nil {
		return fmt.Errorf("bad pattern %q: %v", p, err)
	}
	pt := pattern{text: p, anchored: strings.HasPrefix(p, "/"), literal: !strings.ContainsAny(p, `*?[\`)}
	e.patterns = append(e.patterns, pt)
	return nil
}

// Patterns returns the patterns as written.
func (e *Excluder) Patterns() []string {
	out := make([]string, len(e.patterns))
	for i, p := range e.patterns {
		out[i] = p.text
	}
	return out
}

// Empty reports whether nothing is excluded.
func (e *Excluder) Empty() bool { return e == nil || len(e.patterns) == 0 }

// Excluded reports whether the absolute path is excluded.
func (e *Excluder) Excluded(abs string) bool {
	if e.Empty() {
		return false
	}
	for _, p := range e.patterns {
		if p.anchored {
			if ok, _ := matchPat(p, abs); ok {
				return true
			}
			continue
		}
		// Try every tail of the path that starts after a "/".
		for i := 0; i < len(abs); i++ {
			if i == 0 || abs[i-1] == '/' {
				if ok, _ := matchPat(p, abs[i:]); ok {
					return true
				}
			}
		}
	}
	return false
}

func matchPat(p pattern, s string) (bool, error) {
	if p.literal {
		return p.text == s, nil
	}
	return match(p.text, s)
}

// validate checks the whole pattern: match stops at the first byte that
// differs, so matching against "" would not reach a bad class or a
// trailing backslash after the first character.
func validate(p string) error {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 >= len(p) {
				return fmt.Errorf("trailing backslash")
			}
			i++
		case '[':
			_, n, err := class(p[i:], 0)
			if err != nil {
				return err
			}
			i += n - 1
		}
	}
	return nil
}

// match is fnmatch without FNM_PATHNAME: '*' and '?' match '/'.
func match(p, s string) (bool, error) {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true, nil
			}
			for i := 0; i <= len(s); i++ {
				if ok, err := match(p, s[i:]); ok || err != nil {
					return ok, err
				}
			}
			return false, nil
		case '?':
			if s == "" {
				return false, nil
			}
			p, s = p[1:], s[1:]
		case '[':
			if s == "" {
				_, _, err := class(p, 0)
				return false, err
			}
			ok, n, err := class(p, s[0])
			if err != nil || !ok {
				return false, err
			}
			p, s = p[n:], s[1:]
		case '\\':
			if len(p) < 2 {
				return false, fmt.Errorf("trailing backslash")
			}
			if s == "" || s[0] != p[1] {
				return false, nil
			}
			p, s = p[2:], s[1:]
		default:
			if s == "" || s[0] != p[0] {
				return false, nil
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == "", nil
}

// class matches c against the bracket expression at the start of p and
// returns the expression's length.
func class(p string, c byte) (bool, int, error) {
	i := 1
	neg := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		neg, i = true, i+1
	}
	matched := false
	first := true
	for {
		if i >= len(p) {
			return false, 0, fmt.Errorf("unterminated [")
		}
		if p[i] == ']' && !first {
			i++
			break
		}
		first = false
		lo := p[i]
		i++
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi = p[i+1]
			i += 2
		}
		if lo <= c && c <= hi {
			matched = true
		}
	}
	return matched != neg, i, nil
}
