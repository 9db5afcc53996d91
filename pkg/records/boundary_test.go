package records_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Record fields are read through the types of this package (Decode), never
// by name: a renamed field must break the build, not a run. This test
// walks every non-test Go file of the module and fails on an import of
// gjson outside pkg/records, and on a call of records.Line's field readers
// (Get, PathField) or records.ResultPath outside it.

const (
	module     = "github.com/gbarchive/gb"
	recordsPkg = module + "/pkg/records"
)

// gjsonAllowed are the packages besides pkg/records that may import gjson,
// each with why it is not about records. (None so far.)
var gjsonAllowed = map[string]string{}

// pendingBoundary are the packages that other slices of issue 13 are
// converting to the record types (plancommit, findrestore, layout). The
// test fails as soon as one of them is clean: then delete it here.
var pendingBoundary = []string{}

type listedPkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Export     string
	Standard   bool
}

// listModule runs go list over the module: its packages, and where the
// compiler's export data of every package they import is.
func listModule(t *testing.T) (own []listedPkg, export map[string]string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-export", "-json=ImportPath,Dir,GoFiles,Export,Standard", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	export = map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		export[p.ImportPath] = p.Export
		if !p.Standard && (p.ImportPath == module || strings.HasPrefix(p.ImportPath, module+"/")) {
			own = append(own, p)
		}
	}
	return own, export
}

// violations lists, for one package, the imports of gjson and the reads of
// record fields by name.
func violations(fset *token.FileSet, imp types.Importer, p listedPkg) ([]string, error) {
	var files []*ast.File
	var found []string
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		for _, is := range f.Imports {
			if strings.Trim(is.Path.Value, `"`) == "github.com/tidwall/gjson" && gjsonAllowed[p.ImportPath] == "" {
				found = append(found, fmt.Sprintf("%s: imports gjson", fset.Position(is.Pos())))
			}
		}
	}
	info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}, Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: imp, Error: func(error) {}}
	if _, err := conf.Check(p.ImportPath, fset, files, info); err != nil {
		return nil, fmt.Errorf("type-check %s: %w", p.ImportPath, err)
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if what := fieldRead(info, sel); what != "" {
				found = append(found, fmt.Sprintf("%s: %s", fset.Position(sel.Sel.Pos()), what))
			}
			return true
		})
	}
	return found, nil
}

// fieldRead says which by-name reader of records sel uses, or "".
func fieldRead(info *types.Info, sel *ast.SelectorExpr) string {
	if s := info.Selections[sel]; s != nil && s.Kind() != types.FieldVal {
		recv := s.Recv()
		if ptr, ok := recv.(*types.Pointer); ok {
			recv = ptr.Elem()
		}
		named, ok := recv.(*types.Named)
		if ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() == recordsPkg && named.Obj().Name() == "Line" &&
			(sel.Sel.Name == "Get" || sel.Sel.Name == "PathField") {
			return "reads a record field by name (records.Line." + sel.Sel.Name + "); decode into the kind's type instead"
		}
		return ""
	}
	if obj, ok := info.Uses[sel.Sel].(*types.Func); ok && obj.Pkg() != nil && obj.Pkg().Path() == recordsPkg && obj.Name() == "ResultPath" {
		return "reads a record field by name (records.ResultPath); decode into the kind's type instead"
	}
	return ""
}

func TestNoFieldReadByNameOutsideRecords(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	own, export := listModule(t)
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		for _, p := range []string{path, "vendor/" + path} {
			if f := export[p]; f != "" {
				return os.Open(f)
			}
		}
		return nil, errors.New("no export data for " + path)
	})
	checked := 0
	for _, p := range own {
		if p.ImportPath == recordsPkg || len(p.GoFiles) == 0 {
			continue
		}
		found, err := violations(fset, imp, p)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		pending := slices.Contains(pendingBoundary, p.ImportPath)
		switch {
		case pending && len(found) == 0:
			t.Errorf("%s reads no record field by name any more: remove it from pendingBoundary", p.ImportPath)
		case !pending:
			for _, v := range found {
				t.Error(v)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d packages checked; is the module list right?", checked)
	}
}
