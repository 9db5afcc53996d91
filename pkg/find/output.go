package find

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/records"
)

// batch is up to batchSize matches of one manifest, formatted by the
// worker that found them: lines holds them one after another, without
// line ends; ends[i] is where match i ends.
type batch struct {
	lines []byte
	ends  []int
}

func (b *batch) add(m *records.Match, format string, loc *time.Location) error {
	if format == FormatText {
		b.lines = AppendText(b.lines, m, loc)
	} else {
		j, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode record: %w", err)
		}
		b.lines = append(b.lines, j...)
	}
	b.ends = append(b.ends, len(b.lines))
	return nil
}

// writer writes batches: records one line per write (records.Writer),
// text through a buffer flushed after each batch, so that a person sees
// matches as they are found.
type writer struct {
	rec  *records.Writer
	text *bufio.Writer
}

func newWriter(out io.Writer, opts Options) *writer {
	if opts.Format == FormatText {
		return &writer{text: bufio.NewWriter(out)}
	}
	return &writer{rec: records.NewWriter(out)}
}

func (w *writer) write(b *batch) error {
	start := 0
	for _, end := range b.ends {
		line := b.lines[start:end]
		start = end
		if w.rec != nil {
			if err := w.rec.WriteRaw(line); err != nil {
				return err
			}
			continue
		}
		w.text.Write(line)
		w.text.WriteByte('\n')
	}
	if w.text != nil {
		if err := w.text.Flush(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return nil
}

// AppendText appends the text form of a match:
//
//	2024-03-01 12:34    1.2 MB  /home/me/Taxes/2024.pdf  [bag_000042 encrypted_bag_000042.tar.zst.age]
//
// the modification time (minutes, in loc), the size (regular files; the
// type otherwise), the path (quoted as $'…' when it holds bytes that are
// not UTF-8 or control characters, so it stays exact and can be pasted
// into a shell), a symlink's target, the bag and its object's name, and
// for an entry that is not current the reason in parentheses.
func AppendText(b []byte, m *records.Match, loc *time.Location) []byte {
	if t, err := time.Parse(time.RFC3339Nano, m.Mtime); err == nil {
		b = t.In(loc).AppendFormat(b, "2006-01-02 15:04")
	} else {
		b = append(b, fmt.Sprintf("%-16s", m.Mtime)...)
	}
	size := m.Type
	if m.Type == "file" {
		size = cost.Bytes(m.Size)
	}
	b = append(b, fmt.Sprintf("  %8s  ", size)...)
	p, err := records.DecodePath(m.Path, m.PathB64)
	if err != nil {
		p = m.Path
	}
	b = AppendQuoted(b, p)
	if m.Link != "" {
		l, err := records.DecodePath(m.Link, m.LinkB64)
		if err != nil {
			l = m.Link
		}
		b = append(b, " -> "...)
		b = AppendQuoted(b, l)
	}
	b = append(b, "  ["...)
	b = append(b, m.Bag...)
	b = append(b, ' ')
	b = append(b, path.Base(m.Key)...)
	b = append(b, ']')
	if !m.Current {
		b = append(b, " ("...)
		b = append(b, m.Reason...)
		b = append(b, ')')
	}
	return b
}

// AppendQuoted appends a path as it is when it is printable UTF-8, else as
// a bash $'…' string that spells every byte: \n, \t, \\, \' and \xHH for
// control characters and bytes that are not UTF-8.
func AppendQuoted(b []byte, s string) []byte {
	plain := utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool {
		return !unicode.IsPrint(r) && r != ' '
	}) < 0
	if plain {
		return append(b, s...)
	}
	b = append(b, "$'"...)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = fmt.Appendf(b, `\x%02x`, s[i])
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\'':
			b = append(b, `\'`...)
		case r < 0x20 || r == 0x7f:
			b = fmt.Appendf(b, `\x%02x`, r)
		case !unicode.IsPrint(r) && r != ' ':
			for _, c := range []byte(s[i : i+n]) {
				b = fmt.Appendf(b, `\x%02x`, c)
			}
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '\'')
}
