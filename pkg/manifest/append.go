package manifest

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends e as one manifest line: the bytes encoding/json (with
// HTML escaping off) writes for it, and a newline. gb-pack writes a line
// per archived file, and reflection-driven encoding cost it more than a
// tenth of a second per 100,000 files; manifest_test.go checks that both
// encodings agree byte for byte.
func (e *Entry) AppendJSON(b []byte) []byte {
	b = append(b, `{"kind":`...)
	b = appendString(b, e.Kind)
	b = append(b, `,"path":`...)
	b = appendString(b, e.Path)
	if e.PathB64 != "" {
		b = append(b, `,"path_b64":`...)
		b = appendString(b, e.PathB64)
	}
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, e.Size, 10)
	b = append(b, `,"mtime":`...)
	b = appendString(b, e.Mtime)
	b = append(b, `,"mode":`...)
	b = appendString(b, e.Mode)
	if e.SHA256 != "" {
		b = append(b, `,"sha256":`...)
		b = appendString(b, e.SHA256)
	}
	if e.Link != "" {
		b = append(b, `,"link":`...)
		b = appendString(b, e.Link)
	}
	if e.LinkB64 != "" {
		b = append(b, `,"link_b64":`...)
		b = appendString(b, e.LinkB64)
	}
	b = append(b, `,"atom":`...)
	b = appendString(b, e.Atom)
	if e.AtomB64 != "" {
		b = append(b, `,"atom_b64":`...)
		b = appendString(b, e.AtomB64)
	}
	if e.Changed {
		b = append(b, `,"changed":true`...)
	}
	if e.Sparse {
		b = append(b, `,"sparse":true`...)
	}
	if e.DataBytes != nil {
		b = append(b, `,"data_bytes":`...)
		b = strconv.AppendInt(b, *e.DataBytes, 10)
	}
	if len(e.Xattrs) > 0 {
		b = append(b, `,"xattrs":[`...)
		for i, x := range e.Xattrs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, x)
		}
		b = append(b, ']')
	}
	if e.Nlink != 0 {
		b = append(b, `,"nlink":`...)
		b = strconv.AppendUint(b, e.Nlink, 10)
	}
	if e.Inode != "" {
		b = append(b, `,"inode":`...)
		b = appendString(b, e.Inode)
	}
	return append(b, "}\n"...)
}

// appendString appends s as a JSON string. Printable ASCII without quotes
// or backslashes, nearly every path, is copied as it is; anything else
// goes through encoding/json, so escapes are always its own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return appendEscaped(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendEscaped(b []byte, s string) []byte {
	var buf jsonBuffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		// A Go string always encodes (invalid UTF-8 becomes U+FFFD).
		panic(err)
	}
	return append(b, buf[:len(buf)-1]...) // without Encode's newline
}

type jsonBuffer []byte

func (j *jsonBuffer) Write(p []byte) (int, error) {
	*j = append(*j, p...)
	return len(p), nil
}
