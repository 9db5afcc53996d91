package shape

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var gbVar = regexp.MustCompile(`^GB_[A-Z0-9_]+$`)

// goEnvVars returns, from the non-test Go files under dirs, the GB_*
// variables that flags and settings bind (env struct tags) and the other
// GB_* names the code spells as a string (what it reads with os.Getenv),
// each with a place where it appears.
func goEnvVars(t *testing.T, root string, dirs ...string) (settings map[string]bool, read map[string]string) {
	t.Helper()
	settings, read = map[string]bool{}, map[string]string{}
	fset := token.NewFileSet()
	for _, dir := range dirs {
		for _, rel := range goFiles(t, root, dir) {
			f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			tags := map[*ast.BasicLit]bool{}
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.Field:
					if x.Tag != nil {
						tags[x.Tag] = true
						tag, _ := strconv.Unquote(x.Tag.Value)
						for _, e := range strings.Split(reflect.StructTag(tag).Get("env"), ",") {
							if gbVar.MatchString(e) {
								settings[e] = true
							}
						}
					}
				case *ast.BasicLit:
					if x.Kind != token.STRING || tags[x] {
						break
					}
					if v, err := strconv.Unquote(x.Value); err == nil && gbVar.MatchString(v) {
						if _, seen := read[v]; !seen {
							p := fset.Position(x.Pos())
							read[v] = rel + ":" + strconv.Itoa(p.Line)
						}
					}
				}
				return true
			})
		}
	}
	return settings, read
}

// shellVar is a variable expansion in a shell script: $GB_X or ${GB_X...}.
var shellVar = regexp.MustCompile(`\$\{?(GB_[A-Z0-9_]+)`)

// scriptEnvVars returns the GB_* variables the scripts expand.
func scriptEnvVars(t *testing.T, root string) map[string]string {
	t.Helper()
	scripts, err := filepath.Glob(filepath.Join(root, "scripts", "*.sh"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	read := map[string]string{}
	for _, p := range scripts {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range shellVar.FindAllStringSubmatch(line, -1) {
				if _, seen := read[m[1]]; !seen {
					read[m[1]] = rel + ":" + strconv.Itoa(i+1)
				}
			}
		}
	}
	return read
}

// documentedApart returns the variables named in the first column of the
// tables of the "Variables that are not settings" section of
// docs/configuration.md.
func documentedApart(t *testing.T, root string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	const heading = "## Variables that are not settings\n"
	_, section, ok := strings.Cut(string(b), heading)
	if !ok {
		t.Fatalf("docs/configuration.md has no %q section", strings.TrimSpace(heading))
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	row := regexp.MustCompile("(?m)^\\| `(GB_[A-Z0-9_]+)` \\|")
	vars := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		vars[m[1]] = true
	}
	if len(vars) == 0 {
		t.Fatal("the section \"Variables that are not settings\" lists no variable")
	}
	return vars
}

// Every GB_* variable that gb reads is a setting (flag, environment,
// glacier.cfg; docs/configuration.md "All settings") or is listed apart in
// "Variables that are not settings", where debug variables say they are
// not for production; and that list names nothing gb no longer reads.
func TestEnvVarsDocumented(t *testing.T) {
	root := repoRoot(t)
	settings, read := goEnvVars(t, root, "cmd", "pkg", "internal")
	for v, at := range scriptEnvVars(t, root) {
		if _, seen := read[v]; !seen {
			read[v] = at
		}
	}
	apart := documentedApart(t, root)
	var names []string
	for v := range read {
		names = append(names, v)
	}
	sort.Strings(names)
	for _, v := range names {
		if !settings[v] && !apart[v] {
			t.Errorf("%s: %s is read but is neither a setting's env var nor listed in docs/configuration.md, \"Variables that are not settings\"", read[v], v)
		}
	}
	for v := range apart {
		if settings[v] {
			t.Errorf("docs/configuration.md lists %s apart from the settings, but it is a setting's env var", v)
		}
		if _, ok := read[v]; !ok {
			t.Errorf("docs/configuration.md lists %s apart from the settings, but neither the code nor the scripts read it", v)
		}
	}
}
