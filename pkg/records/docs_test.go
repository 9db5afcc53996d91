package records

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// docs/records.md describes every record kind under a heading "### `KIND`:
// …" with a table whose first column lists the JSON field names (several
// to a row: "`atom`, `atom_b64`"; kind itself is not listed). The fields
// of a nested object, or of each object of an array, are in their own
// table under a line "Each entry of `FIELD`…" in the same section. The
// type column says string, int, number, bool, time, [string], [object]
// or object, one for all names of the row or one per name.

// pendingKinds are documented kinds whose Go types other slices of issue
// 13 are adding (prune.go, audit.go, report.go, find.go, restore.go). The
// test fails as soon as one of them is registered: then delete it here.
var pendingKinds = []string{}

// docSection is what records.md says about one kind.
type docSection struct {
	fields map[string]string            // JSON name -> documented type
	nested map[string]map[string]string // "Each entry of `x`" -> its fields
}

var (
	kindHeading = regexp.MustCompile("^### `([a-z_]+)`")
	entryOf     = regexp.MustCompile("^Each entry of `([a-z_]+)`")
	backticked  = regexp.MustCompile("`([^`]+)`")
)

func readDocs(t *testing.T) map[string]*docSection {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	f, err := os.Open(filepath.Join(filepath.Dir(file), "..", "..", "docs", "records.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	secs := map[string]*docSection{}
	var sec *docSection
	var table map[string]string // the table being read, or the one to come
	pending := false            // a table is expected after the current heading or "Each entry" line
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			sec, pending = nil, false
		case strings.HasPrefix(line, "### "):
			sec, pending = nil, false
			if m := kindHeading.FindStringSubmatch(line); m != nil {
				if secs[m[1]] != nil {
					t.Errorf("records.md: kind %q has two sections", m[1])
				}
				sec = &docSection{fields: map[string]string{}, nested: map[string]map[string]string{}}
				secs[m[1]] = sec
				table, pending = sec.fields, true
			}
		case sec != nil && entryOf.MatchString(line):
			name := entryOf.FindStringSubmatch(line)[1]
			table = map[string]string{}
			sec.nested[name], pending = table, true
		case pending && strings.HasPrefix(line, "| `"):
			cells := strings.Split(line, "|")
			names := backticked.FindAllStringSubmatch(cells[1], -1)
			types := strings.Split(strings.TrimSpace(cells[2]), ", ")
			for i, n := range names {
				typ := types[0]
				if len(types) == len(names) {
					typ = types[i]
				}
				if _, dup := table[n[1]]; dup {
					t.Errorf("records.md: field %q listed twice", n[1])
				}
				table[n[1]] = typ
			}
		case pending && len(table) > 0 && !strings.HasPrefix(line, "|"):
			pending = false // the table ended
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return secs
}

// docType is how records.md names the JSON type of a Go type.
func docType(t reflect.Type) string {
	if t == reflect.TypeFor[time.Time]() {
		return "time"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		if e := docType(t.Elem()); e != "" {
			return "[" + e + "]"
		}
		return ""
	case reflect.Pointer:
		return docType(t.Elem())
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return "" // any, json.RawMessage: documented as the doc sees fit
}

// nestedStruct is the struct type of an object or array-of-objects field
// (not a time), or nil.
func nestedStruct(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[time.Time]() {
		return nil
	}
	return t
}

// compareFields checks a documented table against a struct type and
// returns the disagreements; where names the table in them.
func compareFields(where string, doc map[string]string, typ reflect.Type, nested map[string]map[string]string) []string {
	var problems, names []string
	for _, f := range jsonFields(typ) {
		name := jsonName(f)
		if name == "kind" && !strings.Contains(where, ".") {
			continue
		}
		names = append(names, name)
		d, ok := doc[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: field %q (%s.%s) is not in docs/records.md", where, name, typ.Name(), f.Name))
			continue
		}
		if want := docType(f.Type); want != "" && d != want {
			problems = append(problems, fmt.Sprintf("%s: field %q is documented as %q, but its type %v is %s in JSON", where, name, d, f.Type, want))
		}
		if st := nestedStruct(f.Type); st != nil {
			sub, ok := nested[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: field %q holds objects, but no \"Each entry of `%s`\" table lists their fields", where, name, name))
				continue
			}
			problems = append(problems, compareFields(where+"."+name, sub, st, nil)...)
		}
	}
	for name := range doc {
		if !slices.Contains(names, name) {
			problems = append(problems, fmt.Sprintf("%s: docs/records.md lists field %q, which %s does not have", where, name, typ.Name()))
		}
	}
	for name := range nested {
		if ft := fieldType(typ, name); ft == nil || nestedStruct(ft) == nil {
			problems = append(problems, fmt.Sprintf("%s: docs/records.md has a table for each entry of %q, which holds no objects", where, name))
		}
	}
	return problems
}

func TestDocsDescribeEveryKind(t *testing.T) {
	secs := readDocs(t)
	for _, kind := range Kinds() {
		typ, _ := TypeOf(kind)
		sec, ok := secs[kind]
		if !ok {
			t.Errorf("kind %q (%v) has no \"### `%s`\" section in docs/records.md", kind, typ, kind)
			continue
		}
		if len(sec.fields) == 0 {
			t.Errorf("%s: no field table in docs/records.md", kind)
		}
		for _, p := range compareFields(kind, sec.fields, typ, sec.nested) {
			t.Error(p)
		}
	}
	for kind := range secs {
		_, registered := TypeOf(kind)
		switch {
		case registered && slices.Contains(pendingKinds, kind):
			t.Errorf("kind %q is registered now: remove it from pendingKinds", kind)
		case !registered && !slices.Contains(pendingKinds, kind):
			t.Errorf("docs/records.md describes kind %q, which has no Go type: records.Register it", kind)
		}
	}
}

// The checks themselves: a missing, an extra and a mistyped field, and a
// nested table that does not match, are each found.
func TestCompareFieldsFindsDisagreements(t *testing.T) {
	type entry struct {
		Name string `json:"name"`
	}
	type rec struct {
		Kind    string    `json:"kind"`
		Path    string    `json:"path"`
		PathB64 string    `json:"path_b64,omitempty"`
		At      time.Time `json:"at"`
		N       int64     `json:"n"`
		Entries []entry   `json:"entries"`
		Outcome
	}
	good := map[string]string{"path": "string", "path_b64": "string", "at": "time", "n": "int", "entries": "[object]",
		"status": "string", "error": "string", "hint": "string", "upstream": "string"}
	goodNested := map[string]map[string]string{"entries": {"name": "string"}}
	typ := reflect.TypeFor[rec]()
	for _, tc := range []struct {
		name   string
		edit   func(doc map[string]string, nested map[string]map[string]string)
		errors int
	}{
		{"agree", func(map[string]string, map[string]map[string]string) {}, 0},
		{"missing b64 sibling", func(d map[string]string, _ map[string]map[string]string) { delete(d, "path_b64") }, 1},
		{"missing outcome field", func(d map[string]string, _ map[string]map[string]string) { delete(d, "upstream") }, 1},
		{"extra", func(d map[string]string, _ map[string]map[string]string) { d["gone"] = "int" }, 1},
		{"wrong type", func(d map[string]string, _ map[string]map[string]string) { d["n"] = "number" }, 1},
		{"no nested table", func(_ map[string]string, n map[string]map[string]string) { delete(n, "entries") }, 1},
		{"nested field wrong", func(_ map[string]string, n map[string]map[string]string) {
			n["entries"] = map[string]string{"nom": "string"}
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := maps(good)
			nested := map[string]map[string]string{"entries": maps(goodNested["entries"])}
			tc.edit(doc, nested)
			problems := compareFields("rec", doc, typ, nested)
			if len(problems) != tc.errors {
				t.Errorf("%d problems, want %d: %q", len(problems), tc.errors, problems)
			}
		})
	}
}

func maps(m map[string]string) map[string]string {
	c := map[string]string{}
	for k, v := range m {
		c[k] = v
	}
	return c
}
