package find

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"github.com/gbarchive/gb/pkg/config"
)

// Matcher decides which manifest entries a pattern names.
//
// Glob (the default): a pattern without "/" matches an entry's base name,
// like find -name; a pattern with "/" matches its whole path, like find
// -path, where * and ? never match "/" and ** matches anything. A path
// pattern that does not start with "/" may match any tail of the path
// that starts at a directory boundary ("Taxes/*.pdf" finds
// /home/me/Taxes/2024.pdf). A pattern ending in "/" matches directories
// only. Every byte counts: a name that is not UTF-8 is matched on its
// real bytes.
//
// Regex: a Go regular expression (RE2 syntax) searched for anywhere in
// the whole path; anchor it with ^ and $. In a regular expression each
// byte that is not UTF-8 reads as U+FFFD, in the path and in the pattern.
//
// IgnoreCase folds case by Unicode simple folding (as (?i) does).
type Matcher struct {
	glob    *glob
	re      *regexp.Regexp
	base    bool // match the base name only
	dirOnly bool
	pre     *prefilter
}

// NewMatcher compiles a pattern. An error is a usage error (exit 2).
func NewMatcher(pattern string, regex, ignoreCase bool) (*Matcher, error) {
	if pattern == "" {
		return nil, &config.Error{Msg: "the pattern is empty", Hint: `give a file name such as '2024.pdf', a glob such as '*.pdf' or 'Taxes/**', or --regex EXPR`}
	}
	m := &Matcher{}
	if regex {
		expr := fixUTF8(pattern)
		if ignoreCase {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, &config.Error{Msg: fmt.Sprintf("--regex %q: %v", pattern, unwrapSyntax(err)), Hint: "the syntax is Go's (RE2): https://pkg.go.dev/regexp/syntax"}
		}
		m.re = re
		if tree, err := syntax.Parse(expr, syntax.Perl); err == nil {
			lit, fold := reLiteral(tree.Simplify())
			m.pre = newPrefilter(lit, fold)
		}
		return m, nil
	}
	p := pattern
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		m.dirOnly = true
		p = strings.TrimRight(p, "/")
		if p == "" {
			p = "/"
		}
	}
	switch {
	case !strings.Contains(p, "/"):
		m.base = true
	case !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "**"):
		p = "**/" + p // any tail starting at a directory boundary
	}
	m.glob = compileGlob(p, ignoreCase)
	m.pre = newPrefilter(m.glob.literal())
	return m, nil
}

// Match reports whether an entry (its exact path and manifest type) matches.
func (m *Matcher) Match(path, typ string) bool {
	if m.dirOnly && typ != "dir" {
		return false
	}
	if m.re != nil {
		return m.re.MatchString(path)
	}
	if m.base {
		if i := strings.LastIndexByte(path, '/'); i >= 0 && i < len(path)-1 {
			path = path[i+1:]
		}
	}
	return m.glob.match(path)
}

// fixUTF8 turns each byte of pat that is not UTF-8 into \x{FFFD}, which
// is how such bytes read to Go's regexp (it refuses them in a pattern).
func fixUTF8(pat string) string {
	if utf8.ValidString(pat) {
		return pat
	}
	var b strings.Builder
	for i := 0; i < len(pat); {
		r, n := utf8.DecodeRuneInString(pat[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString(`\x{FFFD}`)
		} else {
			b.WriteString(pat[i : i+n])
		}
		i += n
	}
	return b.String()
}

func unwrapSyntax(err error) error {
	if se, ok := err.(*syntax.Error); ok {
		return fmt.Errorf("%s: `%s`", se.Code, se.Expr)
	}
	return err
}

// reLiteral is the longest literal every match of re contains, reduced to
// what the prefilter can look for ("" when none).
func reLiteral(re *syntax.Regexp) (string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		fold := re.Flags&syntax.FoldCase != 0
		var best, run []rune
		for _, r := range re.Rune {
			if literalSafe(r, fold) {
				if fold && 'A' <= r && r <= 'Z' {
					r += 'a' - 'A'
				}
				run = append(run, r)
				continue
			}
			if len(run) > len(best) {
				best = run
			}
			run = nil
		}
		if len(run) > len(best) {
			best = run
		}
		return string(best), fold
	case syntax.OpCapture, syntax.OpPlus:
		return reLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return reLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		var best string
		var bestFold bool
		for _, s := range re.Sub {
			if l, f := reLiteral(s); len(l) > len(best) {
				best, bestFold = l, f
			}
		}
		return best, bestFold
	}
	return "", false
}

// literalSafe: a character whose presence in a matching path guarantees
// its presence, as the same bytes, in the manifest line. U+FFFD is not:
// the line shows a run of bytes that are not UTF-8 as one U+FFFD. With
// case folding only ASCII characters whose whole folding orbit is ASCII
// qualify (k and s fold with K (Kelvin) and ſ).
func literalSafe(r rune, fold bool) bool {
	if r == utf8.RuneError || r < 0x20 {
		return false
	}
	if !fold {
		return true
	}
	if r >= utf8.RuneSelf {
		return false
	}
	switch r {
	case 'k', 'K', 's', 'S':
		return false
	}
	return true
}

// prefilter rules a manifest line out from its bytes, before it is parsed:
// a line that holds neither the pattern's required literal nor any "\"
// (the start of every JSON escape, which could hide the literal) cannot
// hold a matching path. Path fields hold the name itself when it is UTF-8,
// else its UTF-8 parts with U+FFFD between them, so a literal of UTF-8
// characters in the real name is in the line too.
type prefilter struct {
	lit  []byte
	fold bool // lit is lower case ASCII; a line holds it with any case
	// Where to look first. Without fold: lit's rarest byte (at anchorAt;
	// anchor is lit from there on). With fold: anchor is the longest run of
	// lit's bytes that have no case (at anchorAt), when it has at least
	// two bytes; else lit's rarest letter (at letterAt) in both cases.
	anchor   []byte
	anchorAt int
	letterAt int
}

func newPrefilter(lit string, fold bool) *prefilter {
	if lit == "" {
		return nil
	}
	p := &prefilter{lit: []byte(lit), fold: fold}
	if !fold {
		// bytes.Index skips ahead to each place the first byte occurs:
		// start at the rarest byte of the literal instead.
		best := -1
		for i := 0; i+1 < len(lit); i++ {
			if r := rarity(lit[i]); r > best {
				best, p.anchorAt = r, i
			}
		}
		if best >= 0 {
			p.anchor = p.lit[p.anchorAt:]
		}
		return p
	}
	isLetter := func(c byte) bool { return 'a' <= c && c <= 'z' }
	for i := 0; i < len(lit); {
		if isLetter(lit[i]) {
			i++
			continue
		}
		j := i
		for j < len(lit) && !isLetter(lit[j]) {
			j++
		}
		if j-i > len(p.anchor) {
			p.anchor, p.anchorAt = p.lit[i:j], i
		}
		i = j
	}
	if len(p.anchor) >= 2 || !strings.ContainsFunc(lit, func(r rune) bool { return 'a' <= r && r <= 'z' }) {
		return p
	}
	p.anchor = nil
	const byFrequency = "etaoinsrhldcumfpgwybvkxjqz" // English, commonest first
	best := -1
	for i := 0; i < len(lit); i++ {
		if r := strings.IndexByte(byFrequency, lit[i]); r > best {
			best, p.letterAt = r, i
		}
	}
	return p
}

// pass reports whether raw may hold a match.
func (p *prefilter) pass(raw []byte) bool {
	if p == nil {
		return true
	}
	return p.holds(raw) || bytes.IndexByte(raw, '\\') >= 0
}

// holds reports whether raw holds the literal (with fold, in any case).
func (p *prefilter) holds(raw []byte) bool {
	if !p.fold {
		if p.anchor == nil {
			return bytes.Contains(raw, p.lit)
		}
		// Each place the rarest byte occurs, then the whole literal
		// around it: for the short sep and haystacks here this beats
		// bytes.Index, which skips ahead by the first byte only.
		c, k, n := p.lit[p.anchorAt], p.anchorAt, len(p.lit)
		for off := k; off < len(raw); {
			i := bytes.IndexByte(raw[off:], c)
			if i < 0 {
				return false
			}
			if start := off + i - k; start+n <= len(raw) && bytes.Equal(raw[start:start+n], p.lit) {
				return true
			}
			off += i + 1
		}
		return false
	}
	at := func(pos, off int) bool { // lit at pos-off?
		start := pos - off
		return start >= 0 && start+len(p.lit) <= len(raw) && equalFoldLower(raw[start:start+len(p.lit)], p.lit)
	}
	if p.anchor != nil {
		for off := 0; off < len(raw); {
			i := bytes.Index(raw[off:], p.anchor)
			if i < 0 {
				return false
			}
			if at(off+i, p.anchorAt) {
				return true
			}
			off += i + 1
		}
		return false
	}
	// The letter in either case: the next position of each, found once.
	lo := p.lit[p.letterAt]
	up := lo - 'a' + 'A'
	nextLo, nextUp := -2, -2 // -2: not searched yet; -1: none left
	for off := 0; off < len(raw); {
		if nextLo == -2 || (nextLo >= 0 && nextLo < off) {
			nextLo = indexFrom(raw, lo, off)
		}
		if nextUp == -2 || (nextUp >= 0 && nextUp < off) {
			nextUp = indexFrom(raw, up, off)
		}
		pos := nextLo
		if pos < 0 || (nextUp >= 0 && nextUp < pos) {
			pos = nextUp
		}
		if pos < 0 {
			return false
		}
		if at(pos, p.letterAt) {
			return true
		}
		off = pos + 1
	}
	return false
}

// rarity ranks how seldom a byte occurs in manifest lines: JSON syntax,
// digits and hex (hashes, sizes, times) are everywhere, then lower-case
// letters by their English frequency; everything else is rarest.
func rarity(c byte) int {
	const common = "\",:{}0123456789abcdef/.-_ Tetaoinsrhldcumpgwybvkxjqz"
	if i := strings.LastIndexByte(common, c); i >= 0 {
		return i
	}
	return 1000
}

func indexFrom(b []byte, c byte, off int) int {
	if i := bytes.IndexByte(b[off:], c); i >= 0 {
		return off + i
	}
	return -1
}

// equalFoldLower reports whether a equals lower (lower case ASCII) with
// a's ASCII letters lowered.
func equalFoldLower(a, lower []byte) bool {
	for i, c := range a {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
