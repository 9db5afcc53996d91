package layout

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// patterns are pieces of names only this package may spell: a string
// literal holding one anywhere else builds or matches a key or a local
// file name by hand.
var patterns = []string{"-backup", ManifestExt, PartialExt, SidecarExt, JournalExt}

// TestNamesOnlyHere fails when a non-test Go file of the module outside
// pkg/layout holds a string literal with a layout pattern. Struct tags
// are not looked at: they are help texts for people, not names.
func TestNamesOnlyHere(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	self := filepath.Join(root, "pkg", "layout")
	files := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == self || (p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		files++
		for _, hit := range literals(t, p) {
			rel, _ := filepath.Rel(root, p)
			t.Errorf("%s:%d: %s spells a store key or file name by hand; build or parse it with pkg/layout", rel, hit.line, hit.text)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("only %d Go files looked at under %s", files, root)
	}
}

type hit struct {
	line int
	text string
}

func literals(t *testing.T, file string) []hit {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	tags := map[*ast.BasicLit]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if fld, ok := n.(*ast.Field); ok && fld.Tag != nil {
			tags[fld.Tag] = true
		}
		return true
	})
	var hits []hit
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING || tags[lit] {
			return true
		}
		if spells(lit.Value) {
			hits = append(hits, hit{fset.Position(lit.Pos()).Line, lit.Value})
		}
		return true
	})
	return hits
}

func spells(s string) bool {
	// A regular expression spells a name too: `\.manifest\.ndjson`.
	s = strings.ReplaceAll(s, `\.`, ".")
	for _, p := range patterns {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// The check itself: it must see what it is meant to see.
func TestSpells(t *testing.T) {
	for s, want := range map[string]bool{
		`"%d-backup/system/"`:                  true,
		`"x.partial"`:                          true,
		"`^[0-9]{4}-backup/`":                  true,
		`".manifest.ndjson"`:                   true,
		"`_bag_([0-9]+)\\.manifest\\.ndjson$`": true,
		`".upload.json"`:                       true,
		`".packed.json"`:                       true,
		`"inventory.json"`:                     false,
		`"gb-prune: warning: %v\n"`:            false,
	} {
		if spells(s) != want {
			t.Errorf("spells(%s) = %v", s, !want)
		}
	}
	dir := t.TempDir()
	src := "package x\n\ntype T struct {\n\tY int `help:\"<year>-backup/system/\"`\n}\n\nvar k = \"2026-backup/\" + \"x\"\n"
	p := filepath.Join(dir, "x.go")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	hits := literals(t, p)
	if len(hits) != 1 || hits[0].line != 7 {
		t.Errorf("literals: %+v, want one hit on line 7 (the tag is not looked at)", hits)
	}
}
