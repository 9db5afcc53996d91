package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Decode decodes a record into its type: Decode[records.Bag](l). See
// Line.Decode.
func Decode[T any](l Line) (T, error) {
	var v T
	err := l.Decode(&v)
	return v, err
}

// Decode decodes the record into v, a pointer to the kind's type. Unknown
// fields are ignored, so that a stage of the user's own may add some (the
// pass-through rule; a stage passing the record on writes l.Raw, not v).
// A known field holding the wrong JSON type is an error naming the input,
// the line and the field: `stdin:12: bag record: field "bytes": got
// string, want number`.
//
// encoding/json is fast enough here: decode_bench_test.go measures it
// against the gjson lookups the stages did before, and the pipeline's
// records are counted in bags and top-level directories, not files.
func (l Line) Decode(v any) error {
	if err := json.Unmarshal(l.Raw, v); err != nil {
		return l.decodeError(v, err)
	}
	return nil
}

func (l Line) decodeError(v any, err error) error {
	kind := l.Kind
	if kind == "" {
		kind = "record"
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		field := jsonPath(reflect.TypeOf(v), te.Field)
		return &LineError{Name: l.Name, Line: l.No, Msg: fmt.Sprintf("%s record: field %q: got %s, want %s", kind, field, te.Value, jsonType(te.Type))}
	}
	if f := badField(l.Raw, v); f != "" {
		return &LineError{Name: l.Name, Line: l.No, Msg: fmt.Sprintf("%s record: field %q: %v", kind, f, err)}
	}
	return &LineError{Name: l.Name, Line: l.No, Msg: fmt.Sprintf("%s record: %v", kind, err)}
}

// jsonPath drops the names of embedded structs (Outcome) from a field
// path as encoding/json reports it ("Outcome.status"): in the record,
// their fields are the record's own.
func jsonPath(t reflect.Type, path string) string {
	var out []string
	for _, name := range strings.Split(path, ".") {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			t = t.Elem()
		}
		if t != nil && t.Kind() == reflect.Struct {
			if f, ok := t.FieldByName(name); ok && f.Anonymous && f.Tag.Get("json") == "" {
				t = f.Type
				continue
			}
			t = fieldType(t, name)
		}
		out = append(out, name)
	}
	return strings.Join(out, ".")
}

// fieldType is the type of the struct field of t with JSON name name, or
// nil.
func fieldType(t reflect.Type, name string) reflect.Type {
	for _, f := range jsonFields(t) {
		if jsonName(f) == name {
			return f.Type
		}
	}
	return nil
}

var timeType = reflect.TypeFor[time.Time]()

// jsonType names what JSON a Go type takes, for error messages.
func jsonType(t reflect.Type) string {
	if t == timeType {
		return "an RFC 3339 time string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Pointer:
		return jsonType(t.Elem())
	}
	return "object"
}

// badField finds the top-level field of raw that v's type cannot take,
// for the errors json.Unmarshal reports without a field (a bad time).
// Only the error path pays for it.
func badField(raw []byte, v any) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return ""
	}
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return ""
	}
	for _, f := range jsonFields(t.Elem()) {
		val, ok := fields[jsonName(f)]
		if !ok {
			continue
		}
		if json.Unmarshal(val, reflect.New(f.Type).Interface()) != nil {
			return jsonName(f)
		}
	}
	return ""
}

// jsonFields lists the fields of a struct that JSON encodes, those of
// embedded structs (Outcome) included, in order.
func jsonFields(t reflect.Type) []reflect.StructField {
	var fs []reflect.StructField
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous || jsonName(f) == "" {
			continue
		}
		fs = append(fs, f)
	}
	return fs
}

// jsonName returns the name a struct field has in JSON, or "" when it is
// not encoded.
func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	name := tag
	for i := 0; i < len(tag); i++ {
		if tag[i] == ',' {
			name = tag[:i]
			break
		}
	}
	if name == "" {
		name = f.Name
	}
	return name
}
