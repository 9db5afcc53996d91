package records

import (
	"reflect"
	"slices"
	"testing"
)

func TestRegistry(t *testing.T) {
	for kind, want := range map[string]any{KindAtom: Atom{}, KindBag: Bag{}, KindPack: PackSummary{}, KindPut: PutSummary{}, KindWarning: Warning{}} {
		if got, ok := TypeOf(kind); !ok || got != reflect.TypeOf(want) {
			t.Errorf("TypeOf(%q) = %v, %v", kind, got, ok)
		}
	}
	if _, ok := TypeOf("no-such-kind"); ok {
		t.Error("TypeOf of an unknown kind says it is registered")
	}
	ks := Kinds()
	if !slices.IsSorted(ks) || !slices.Contains(ks, KindCommitted) {
		t.Errorf("Kinds() = %v", ks)
	}
	// Every registered type has a "kind" field, and every summary the
	// outcome.
	for _, k := range ks {
		typ, _ := TypeOf(k)
		if f, ok := typ.FieldByName("Kind"); !ok || jsonName(f) != "kind" {
			t.Errorf("%s: %v has no kind field", k, typ)
		}
	}
	for _, k := range []string{KindScan, KindPlan, KindPack, KindPut, KindCommitted, KindPrune, KindAudit, KindReport} {
		typ, _ := TypeOf(k)
		if f, ok := typ.FieldByName("Outcome"); !ok || !f.Anonymous {
			t.Errorf("summary %s: %v does not embed Outcome", k, typ)
		}
	}
}

func TestRegisterRefusesMistakes(t *testing.T) {
	for name, fn := range map[string]func(){
		"twice":      func() { Register(KindAtom, Atom{}) },
		"not struct": func() { Register("x_not_struct", "a string") },
		"nil":        func() { Register("x_nil", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			fn()
		})
	}
}
