// Package records reads and writes gb's newline-delimited JSON record
// streams. Every record is one JSON object with a "kind" field; stages act
// on the kinds they know and pass every other line through unchanged.
package records

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Reader yields one record line at a time. Lines may be of any length:
// bufio.Scanner's 64 KiB token limit would turn a long path list into a
// failure, so lines are read with bufio.Reader and grown as needed.
type Reader struct {
	r    *bufio.Reader
	name string
	line int
	buf  []byte
}

// NewReader reads records from r; name is used in error messages ("-" or
// "stdin" for a pipe).
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 1<<16), name: name}
}

// Line is one record as read: its raw bytes (without the newline), its
// kind, and where it was read (input name and line number, for errors).
// Raw stays valid until the next call to Next.
type Line struct {
	Raw  []byte
	Kind string
	No   int
	Name string
}

// Get returns a field of the record. Outside this package, records are
// decoded into their types instead (Decode); boundary_test.go fails on a
// call elsewhere.
func (l Line) Get(path string) gjson.Result { return gjson.GetBytes(l.Raw, path) }

// Next returns the next non-blank record, or io.EOF. A line that is not a
// JSON object with a string "kind" is an error naming the input and line.
func (r *Reader) Next() (Line, error) {
	raw, no, err := r.NextRaw()
	if err != nil {
		return Line{}, err
	}
	return r.Parse(raw, no)
}

// NextRaw returns the next non-blank line as read (without its line end)
// and its line number, or io.EOF, without checking that it is a record:
// a reader that can rule most lines out from their bytes alone (gb-find)
// calls Parse only on the others. raw stays valid until the next call.
func (r *Reader) NextRaw() (raw []byte, no int, err error) {
	for {
		chunk, err := r.r.ReadSlice('\n')
		if err == nil { // a whole line in the buffer: no copy
			r.line++
			if raw := trimLine(chunk); len(bytes.TrimSpace(raw)) > 0 {
				// Capped, so that an append by the caller never writes
				// over the next line in the buffer.
				return raw[:len(raw):len(raw)], r.line, nil
			}
			continue
		}
		// A line longer than the buffer, or the last one.
		r.buf = append(r.buf[:0], chunk...)
		for err == bufio.ErrBufferFull {
			chunk, err = r.r.ReadSlice('\n')
			r.buf = append(r.buf, chunk...)
		}
		switch {
		case err == io.EOF && len(r.buf) == 0:
			return nil, r.line, io.EOF
		case err != nil && err != io.EOF:
			return nil, r.line, fmt.Errorf("%s: %w", r.name, err)
		}
		r.line++
		if raw := trimLine(r.buf); len(bytes.TrimSpace(raw)) > 0 {
			return raw, r.line, nil
		}
	}
}

// trimLine cuts the line end ("\n" or "\r\n") off a line.
func trimLine(raw []byte) []byte {
	if n := len(raw); n > 0 && raw[n-1] == '\n' {
		raw = raw[:n-1]
	}
	if n := len(raw); n > 0 && raw[n-1] == '\r' {
		raw = raw[:n-1]
	}
	return raw
}

// Parse checks that raw, line no of this input, is a record (a JSON
// object with a non-empty string "kind") and returns it.
func (r *Reader) Parse(raw []byte, no int) (Line, error) {
	if !gjson.ValidBytes(raw) {
		return Line{}, &LineError{Name: r.name, Line: no, Msg: "not valid JSON", Hint: "every input line must be one JSON object; was the stream cut or edited?"}
	}
	res := gjson.ParseBytes(raw)
	if !res.IsObject() {
		return Line{}, &LineError{Name: r.name, Line: no, Msg: "not a JSON object"}
	}
	kind := res.Get("kind")
	if kind.Type != gjson.String || kind.Str == "" {
		return Line{}, &LineError{Name: r.name, Line: no, Msg: `record has no string "kind" field`}
	}
	return Line{Raw: raw, Kind: kind.Str, No: no, Name: r.name}, nil
}

// Each calls fn for every record until the input ends; the first error
// (from reading or from fn) stops it.
func (r *Reader) Each(fn func(Line) error) error {
	for {
		l, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(l); err != nil {
			return err
		}
	}
}

// LineError is bad input at a known place.
type LineError struct {
	Name string
	Line int
	Msg  string
	Hint string
}

func (e *LineError) Error() string {
	if e.Line <= 0 {
		return fmt.Sprintf("%s: %s", e.Name, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg)
}

// HintText is shown on a second stderr line by the command.
func (e *LineError) HintText() string { return e.Hint }

// Errorf builds a LineError for a record that parsed but holds bad values.
func (l Line) Errorf(name, format string, args ...any) error {
	return &LineError{Name: name, Line: l.No, Msg: fmt.Sprintf(format, args...)}
}

// Writer writes records, one whole line per underlying Write so that a
// reader on the other side of a pipe never sees half a record, even when
// the writer is killed.
type Writer struct {
	w   io.Writer
	buf []byte
	err error
}

func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write marshals v as one line.
func (w *Writer) Write(v any) error {
	if w.err != nil {
		return w.err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	return w.WriteRaw(b)
}

// WriteRaw writes an already encoded record (for pass-through).
func (w *Writer) WriteRaw(raw []byte) error {
	if w.err != nil {
		return w.err
	}
	w.buf = append(append(w.buf[:0], raw...), '\n')
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("write output: %w", err)
		return w.err
	}
	return nil
}

// Err reports the first write error.
func (w *Writer) Err() error { return w.err }

// Paths in records. JSON strings must be UTF-8, but a Linux file name is
// any byte string. A name that is valid UTF-8 is written as-is in the
// field ("path"); otherwise the field holds a readable form with U+FFFD in
// place of the bad bytes and a sibling field with suffix "_b64" holds the
// exact bytes, base64 (standard, padded). Readers prefer the _b64 field.

// EncodePath returns the display form and, when the name is not valid
// UTF-8, its base64 form (else "").
func EncodePath(p string) (display, b64 string) {
	if utf8.ValidString(p) {
		return p, ""
	}
	return strings.ToValidUTF8(p, "\uFFFD"), base64.StdEncoding.EncodeToString([]byte(p))
}

// DecodePath returns the exact name from a display form and optional
// base64 form.
func DecodePath(display, b64 string) (string, error) {
	if b64 == "" {
		return display, nil
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("bad base64 path: %w", err)
	}
	return string(b), nil
}

// PathField reads the path named field (with its field_b64 sibling) from a
// record. Outside this package, decode the record and use its Exact*
// methods instead.
func (l Line) PathField(field string) (string, error) {
	return DecodePath(l.Get(field).String(), l.Get(field+"_b64").String())
}

// ResultPath reads a path from a gjson object (for nested arrays).
func ResultPath(obj gjson.Result, field string) (string, error) {
	return DecodePath(obj.Get(field).String(), obj.Get(field+"_b64").String())
}
