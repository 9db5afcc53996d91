package shape

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// maxBodyLines is the longest a function body in pkg/ may be, counted as
// the lines between its braces. A longer function is split into pieces
// that are named for what they do; there is no allowlist.
const maxBodyLines = 100

// repoRoot is the module root, found from this file's place.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// goFiles lists the non-test .go files under dir, relative to root.
func goFiles(t *testing.T, root, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files under %s", dir)
	}
	return files
}

// longFunc is a function or function literal whose body is over the limit.
type longFunc struct {
	pos   token.Position
	name  string
	lines int
}

// longFuncs returns the functions and function literals of one parsed
// file whose bodies have more than max lines. A literal inside a long
// function is judged on its own too.
func longFuncs(fset *token.FileSet, f *ast.File, max int) []longFunc {
	var long []longFunc
	check := func(name string, body *ast.BlockStmt) {
		if body == nil {
			return
		}
		open, close := fset.Position(body.Lbrace), fset.Position(body.Rbrace)
		if n := close.Line - open.Line - 1; n > max {
			long = append(long, longFunc{pos: fset.Position(body.Pos()), name: name, lines: n})
		}
	}
	var outer string
	ast.Inspect(f, func(n ast.Node) bool {
		switch fn := n.(type) {
		case *ast.FuncDecl:
			outer = funcName(fn)
			check(outer, fn.Body)
		case *ast.FuncLit:
			check("func literal in "+outer, fn.Body)
		}
		return true
	})
	return long
}

// funcName is Name or Recv.Name for a method.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + fn.Name.Name
		}
		return fn.Name.Name
	}
}

func TestFunctionLength(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	var long []longFunc
	for _, rel := range goFiles(t, root, "pkg") {
		f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		long = append(long, longFuncs(fset, f, maxBodyLines)...)
	}
	sort.Slice(long, func(i, j int) bool { return long[i].lines > long[j].lines })
	for _, l := range long {
		rel, _ := filepath.Rel(root, l.pos.Filename)
		t.Errorf("%s:%d: %s: body is %d lines (limit %d); split it into named pieces",
			rel, l.pos.Line, l.name, l.lines, maxBodyLines)
	}
}

// The counter itself: a body of exactly the limit passes, one more fails,
// and literals are measured on their own.
func TestLongFuncs(t *testing.T) {
	body := func(n int) string { return strings.Repeat("\t_ = 0\n", n) }
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"at the limit", "func f() {\n" + body(3) + "}\n", nil},
		{"over the limit", "func f() {\n" + body(4) + "}\n", []string{"f:4"}},
		{"method", "type T struct{}\nfunc (t *T) m() {\n" + body(4) + "}\n", []string{"T.m:4"}},
		{"generic method", "type T[E any] struct{}\nfunc (t T[E]) m() {\n" + body(5) + "}\n", []string{"T.m:5"}},
		{"literal", "var v = func() {\n" + body(4) + "}\n", []string{"func literal in :4"}},
		{"literal in long func", "func f() {\n_ = func() {\n" + body(4) + "}\n}\n",
			[]string{"f:6", "func literal in f:4"}},
		{"literal in short func", "func f() {\n_ = func() {\n" + body(1) + "}\n}\n", nil},
		{"declaration without body", "func f()\n", nil},
	} {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "x.go", "package x\n"+tc.src, 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, l := range longFuncs(fset, f, 3) {
			got = append(got, fmt.Sprintf("%s:%d", l.name, l.lines))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
