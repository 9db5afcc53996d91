package find

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A unit is what one glob character matches: a rune of valid UTF-8, or
// one byte that is not part of valid UTF-8, stored as -1-b so the two
// never meet. Matching on units keeps every byte of a name significant:
// "bad\xffname" and "bad\xfename" are different names, and a pattern
// holding \xff matches only the first.
type unit = int32

// nextUnit decodes the first unit of s and its width in bytes (0 at the end).
func nextUnit(s string) (unit, int) {
	if s == "" {
		return 0, 0
	}
	if c := s[0]; c < utf8.RuneSelf {
		return unit(c), 1
	}
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n == 1 {
		return -1 - unit(s[0]), 1
	}
	return r, n
}

// foldUnit maps a unit to one member of its Unicode simple-folding orbit
// (the smallest), so that two units match case-insensitively exactly when
// their folds are equal. Bytes that are not UTF-8 fold to themselves.
func foldUnit(u unit) unit {
	if u < 0 {
		return u
	}
	if u < utf8.RuneSelf {
		if 'a' <= u && u <= 'z' {
			return u - 'a' + 'A'
		}
		return u
	}
	m := u
	for f := unicode.SimpleFold(u); f != u; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

type tokKind uint8

const (
	tLit   tokKind = iota // one unit
	tOne                  // ?: one unit, not "/"
	tClass                // [...]: one unit of a set, not "/"
	tStar                 // *: any units, no "/"
	tAll                  // **: any units, "/" included
	tDirs                 // **/ as a whole element: nothing, or anything ending in "/"
)

type token struct {
	kind tokKind
	u    unit // tLit (folded when the glob folds)
	cls  *class
}

// class is a bracket expression: ranges of runes, and bytes that are not
// UTF-8 as one-unit ranges.
type class struct {
	neg    bool
	ranges [][2]unit
}

func (c *class) has(u unit, fold bool) bool {
	in := func(u unit) bool {
		for _, r := range c.ranges {
			if r[0] <= u && u <= r[1] {
				return true
			}
		}
		return false
	}
	ok := in(u)
	if !ok && fold && u >= 0 {
		for f := unicode.SimpleFold(u); f != u && !ok; f = unicode.SimpleFold(f) {
			ok = in(f)
		}
	}
	return ok != c.neg
}

// glob is a compiled glob pattern, matched as a small NFA over units, so
// no pattern can make matching slower than (name length × pattern length).
type glob struct {
	toks []token
	fold bool
}

// compileGlob parses a glob: * (no "/"), ** (anything; as a whole path
// element "**/" also nothing), ?, [abc], [a-z], [!abc] or [^abc], and \
// to quote the next character. An unclosed [ is an ordinary character.
func compileGlob(pat string, fold bool) *glob {
	g := &glob{fold: fold}
	lit := func(u unit) {
		if fold {
			u = foldUnit(u)
		}
		g.toks = append(g.toks, token{kind: tLit, u: u})
	}
	for i := 0; i < len(pat); {
		u, n := nextUnit(pat[i:])
		switch u {
		case '\\':
			if i+1 < len(pat) {
				u2, n2 := nextUnit(pat[i+1:])
				lit(u2)
				i += 1 + n2
				continue
			}
			lit('\\')
		case '?':
			g.toks = append(g.toks, token{kind: tOne})
		case '*':
			j := i
			for j < len(pat) && pat[j] == '*' {
				j++
			}
			switch {
			case j-i == 1:
				g.toks = append(g.toks, token{kind: tStar})
			case (i == 0 || pat[i-1] == '/') && j < len(pat) && pat[j] == '/':
				g.toks = append(g.toks, token{kind: tDirs})
				j++ // the "/" is part of it
			default:
				g.toks = append(g.toks, token{kind: tAll})
			}
			i = j
			continue
		case '[':
			if c, m := parseClass(pat[i+1:]); c != nil {
				g.toks = append(g.toks, token{kind: tClass, cls: c})
				i += 1 + m
				continue
			}
			lit('[')
		default:
			lit(u)
		}
		i += n
	}
	return g
}

// parseClass reads a bracket expression after its "[" and returns it and
// the bytes it used (the closing "]" included), or nil when it is not closed.
func parseClass(s string) (*class, int) {
	c := &class{}
	i := 0
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		c.neg = true
		i++
	}
	first := true
	for i < len(s) {
		u, n := nextUnit(s[i:])
		if u == ']' && !first {
			return c, i + 1
		}
		first = false
		if u == '\\' && i+n < len(s) {
			i += n
			u, n = nextUnit(s[i:])
		}
		i += n
		lo, hi := u, u
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			h, hn := nextUnit(s[i+1:])
			if h == '\\' && i+1+hn < len(s) {
				i += hn
				h, hn = nextUnit(s[i+1:])
			}
			if u >= 0 && h >= u {
				hi = h
			}
			i += 1 + hn
		}
		c.ranges = append(c.ranges, [2]unit{lo, hi})
	}
	return nil, 0
}

// match reports whether the glob matches all of s.
func (g *glob) match(s string) bool {
	n := len(g.toks)
	// State 2i: before token i; 2i+1: inside tDirs token i (has consumed
	// something, needs a "/" to end).
	var buf [2][64]bool
	var cur, next []bool
	if 2*(n+1) <= len(buf[0]) {
		cur, next = buf[0][:2*(n+1)], buf[1][:2*(n+1)]
	} else {
		cur, next = make([]bool, 2*(n+1)), make([]bool, 2*(n+1))
	}
	var add func(st []bool, i int)
	add = func(st []bool, i int) {
		for {
			if st[2*i] {
				return
			}
			st[2*i] = true
			if i == n {
				return
			}
			switch g.toks[i].kind {
			case tStar, tAll, tDirs:
				i++
			default:
				return
			}
		}
	}
	add(cur, 0)
	for len(s) > 0 {
		u, w := nextUnit(s)
		s = s[w:]
		clear(next)
		alive := false
		fu := u
		if g.fold {
			fu = foldUnit(u)
		}
		for i := 0; i < n; i++ {
			t := &g.toks[i]
			if cur[2*i] {
				switch t.kind {
				case tLit:
					if fu == t.u {
						add(next, i+1)
					}
				case tOne:
					if u != '/' {
						add(next, i+1)
					}
				case tClass:
					if u != '/' && t.cls.has(u, g.fold) {
						add(next, i+1)
					}
				case tStar:
					if u != '/' {
						add(next, i)
					}
				case tAll:
					add(next, i)
				case tDirs:
					if u == '/' {
						add(next, i+1)
					}
					next[2*i+1] = true
				}
			}
			if cur[2*i+1] { // inside tDirs
				if u == '/' {
					add(next, i+1)
				}
				next[2*i+1] = true
			}
		}
		for _, b := range next {
			if b {
				alive = true
				break
			}
		}
		if !alive {
			return false
		}
		cur, next = next, cur
	}
	return cur[2*n]
}

// literal is the longest run of plain characters the glob requires, for
// the line prefilter (see prefilter); "" when there is none worth using.
func (g *glob) literal() (string, bool) {
	var best, run strings.Builder
	flush := func() {
		if run.Len() > best.Len() {
			best.Reset()
			best.WriteString(run.String())
		}
		run.Reset()
	}
	for _, t := range g.toks {
		if t.kind == tLit && t.u >= 0 && literalSafe(t.u, g.fold) {
			u := t.u
			if g.fold && 'A' <= u && u <= 'Z' {
				u += 'a' - 'A'
			}
			run.WriteRune(u)
			continue
		}
		flush()
	}
	flush()
	return best.String(), g.fold
}
