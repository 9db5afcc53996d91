package manifest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Decode sets e to the manifest line raw, exactly as json.Unmarshal into
// a new Entry would. The lines gb-pack writes (a flat object of plain
// strings, integers and booleans) are read by a scanner several times
// faster than encoding/json: gb-find decodes every line its prefilter
// lets through, which is every line for a pattern without a literal
// (pkg/find's benchmark, case no-literal). Anything else (escapes, an
// array, null, a key in another case, bad JSON) is left to encoding/json,
// so errors and edge cases are its own; decode_test.go compares both.
func (e *Entry) Decode(raw []byte) error {
	*e = Entry{}
	if decodeFlat(raw, e) {
		return nil
	}
	*e = Entry{}
	return json.Unmarshal(raw, e)
}

// decodeFlat reads raw into e when it is a flat JSON object it can read
// exactly; false leaves e partly set.
func decodeFlat(raw []byte, e *Entry) bool {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return skipSpace(raw, i+1) == len(raw)
	}
	for {
		key, j, ok := plainString(raw, i)
		if !ok {
			return false
		}
		i = skipSpace(raw, j)
		if i >= len(raw) || raw[i] != ':' {
			return false
		}
		i = skipSpace(raw, i+1)
		if i >= len(raw) {
			return false
		}
		if i, ok = e.setField(raw, i, key); !ok {
			return false
		}
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return false
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case '}':
			return skipSpace(raw, i+1) == len(raw)
		default:
			return false
		}
	}
}

// setField reads the value at raw[i:] into the field named key and
// returns where the value ends.
func (e *Entry) setField(raw []byte, i int, key []byte) (int, bool) {
	var s *string
	switch string(key) { // no allocation: the compiler compares in place
	case "kind":
		s = &e.Kind
	case "path":
		s = &e.Path
	case "path_b64":
		s = &e.PathB64
	case "type":
		s = &e.Type
	case "mtime":
		s = &e.Mtime
	case "mode":
		s = &e.Mode
	case "sha256":
		s = &e.SHA256
	case "link":
		s = &e.Link
	case "link_b64":
		s = &e.LinkB64
	case "atom":
		s = &e.Atom
	case "atom_b64":
		s = &e.AtomB64
	case "inode":
		s = &e.Inode
	case "size":
		n, j, ok := plainInt(raw, i)
		e.Size = n
		return j, ok
	case "data_bytes":
		n, j, ok := plainInt(raw, i)
		e.DataBytes = &n
		return j, ok
	case "nlink":
		n, j, ok := plainInt(raw, i)
		e.Nlink = uint64(n)
		return j, ok && n >= 0
	case "changed":
		return plainBool(raw, i, &e.Changed)
	case "sparse":
		return plainBool(raw, i, &e.Sparse)
	case "xattrs":
		return i, false
	default:
		// encoding/json matches keys in any case: leave that to it.
		for _, k := range entryKeys {
			if bytes.EqualFold(key, []byte(k)) {
				return i, false
			}
		}
		return skipPlainValue(raw, i)
	}
	v, j, ok := plainString(raw, i)
	if ok {
		*s = string(v)
	}
	return j, ok
}

// entryKeys are Entry's JSON keys.
var entryKeys = []string{"kind", "path", "path_b64", "type", "size", "mtime", "mode", "sha256", "link", "link_b64",
	"atom", "atom_b64", "changed", "sparse", "data_bytes", "xattrs", "nlink", "inode"}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at raw[i:] that has no escapes and is
// valid UTF-8, and returns its contents and where it ends.
func plainString(raw []byte, i int) ([]byte, int, bool) {
	if i >= len(raw) || raw[i] != '"' {
		return nil, i, false
	}
	ascii := true
	for j := i + 1; j < len(raw); j++ {
		switch c := raw[j]; {
		case c == '"':
			s := raw[i+1 : j]
			return s, j + 1, ascii || utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, j, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, len(raw), false
}

// plainInt reads a JSON integer (no fraction, no exponent) that fits an
// int64.
func plainInt(raw []byte, i int) (int64, int, bool) {
	j := i
	if j < len(raw) && raw[j] == '-' {
		j++
	}
	start := j
	for j < len(raw) && '0' <= raw[j] && raw[j] <= '9' {
		j++
	}
	if j == start || (raw[start] == '0' && j > start+1) {
		return 0, j, false
	}
	if j < len(raw) && (raw[j] == '.' || raw[j] == 'e' || raw[j] == 'E') {
		return 0, j, false
	}
	n, err := strconv.ParseInt(string(raw[i:j]), 10, 64)
	return n, j, err == nil
}

func plainBool(raw []byte, i int, b *bool) (int, bool) {
	switch {
	case bytes.HasPrefix(raw[i:], []byte("true")):
		*b = true
		return i + 4, true
	case bytes.HasPrefix(raw[i:], []byte("false")):
		*b = false
		return i + 5, true
	}
	return i, false
}

// skipPlainValue passes over the value of a key Entry does not have: a
// plain string, an integer or a boolean (anything else is left to
// encoding/json).
func skipPlainValue(raw []byte, i int) (int, bool) {
	switch c := raw[i]; {
	case c == '"':
		_, j, ok := plainString(raw, i)
		return j, ok
	case c == 't' || c == 'f':
		var b bool
		return plainBool(raw, i, &b)
	case c == '-' || ('0' <= c && c <= '9'):
		_, j, ok := plainInt(raw, i)
		return j, ok
	}
	return i, false
}
