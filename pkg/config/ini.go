package config

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"
)

// iniKey describes one glacier.cfg key.
type iniKey struct {
	section string
	isPath  bool
	flag    string
	kind    reflect.Kind
	enum    string
}

// keys maps glacier.cfg keys ("target_bag_gb") to their flags, built from
// the Settings struct so the three spellings can never drift apart.
var keys = func() map[string]iniKey {
	m := map[string]iniKey{}
	t := reflect.TypeOf(Settings{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("ini")
		if !ok {
			continue
		}
		sec, opt, _ := strings.Cut(tag, ",")
		name := f.Tag.Get("name")
		m[strings.ReplaceAll(name, "-", "_")] = iniKey{section: sec, isPath: opt == "path", flag: name, kind: f.Type.Kind(), enum: f.Tag.Get("enum")}
	}
	return m
}()

// File is a parsed glacier.cfg.
type File struct {
	Path   string
	Values map[string]string // by flag name
	Lines  map[string]int
}

// LoadFile parses glacier.cfg. Unknown sections or keys, lines that are not
// "key = value", and repeated keys are errors naming the file and line.
func LoadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read config: %v", unwrapPathErr(err))}
	}
	defer f.Close()
	abs, _ := filepath.Abs(path)
	cf := &File{Path: abs, Values: map[string]string{}, Lines: map[string]int{}}
	r := bufio.NewReader(f)
	section := ""
	for no := 1; ; no++ {
		line, rerr := r.ReadString('\n')
		if rerr != nil && line == "" {
			break
		}
		s := strings.TrimSpace(line)
		switch {
		case s == "" || s[0] == '#' || s[0] == ';':
		case s[0] == '[':
			if !strings.HasSuffix(s, "]") {
				return nil, &Error{File: path, Line: no, Msg: fmt.Sprintf("bad section header %q", s)}
			}
			section = strings.TrimSpace(s[1 : len(s)-1])
			if section != "settings" && section != "pricing" {
				return nil, &Error{File: path, Line: no, Msg: fmt.Sprintf("unknown section [%s]", section), Hint: "glacier.cfg has [settings] and [pricing]"}
			}
		default:
			k, v, ok := strings.Cut(s, "=")
			if !ok {
				k, v, ok = strings.Cut(s, ":")
			}
			if !ok {
				return nil, &Error{File: path, Line: no, Msg: fmt.Sprintf("expected \"key = value\", got %q", s)}
			}
			k = strings.ToLower(strings.TrimSpace(k))
			v = strings.TrimSpace(v)
			if section == "" {
				return nil, &Error{File: path, Line: no, Msg: fmt.Sprintf("key %q before any [section]", k), Hint: "put settings under [settings] and prices under [pricing]"}
			}
			key, known := keys[k]
			if !known {
				return nil, &Error{File: path, Line: no, Msg: fmt.Sprintf("unknown key %q in [%s]", k, section), Hint: "see docs/configuration.md for the keys gb reads"}
			}
			if key.section != section {
				return nil, &Error{File: path, Line: no, Msg: fmt.Sprintf("key %q belongs in [%s], not [%s]", k, key.section, section)}
			}
			if prev, dup := cf.Lines[key.flag]; dup {
				return nil, &Error{File: path, Line: no, Msg: fmt.Sprintf("key %q repeats line %d", k, prev)}
			}
			if err := key.check(v); err != nil {
				return nil, &Error{File: path, Line: no, Msg: fmt.Sprintf("%s: %v", k, err)}
			}
			if key.isPath {
				// Expand "~" first: joining the config directory with an
				// already expanded home path would nest one in the other.
				v = expandHome(v)
				if v != "" && !filepath.IsAbs(v) {
					v = filepath.Join(filepath.Dir(abs), v)
				}
			}
			cf.Values[key.flag] = v
			cf.Lines[key.flag] = no
		}
		if rerr != nil {
			break
		}
	}
	return cf, nil
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[1:])
		}
	}
	return p
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Resolver feeds glacier.cfg values to kong for flags not given on the
// command line and whose environment variable is unset: kong applies
// environment variables before resolvers run, and we want the environment
// to win over the file.
func (cf *File) Resolver() kong.Resolver {
	return kong.ResolverFunc(func(ctx *kong.Context, parent *kong.Path, flag *kong.Flag) (any, error) {
		v, ok := cf.Values[flag.Name]
		if !ok {
			return nil, nil
		}
		for _, e := range flag.Envs {
			if _, set := os.LookupEnv(e); set {
				return nil, nil
			}
		}
		return v, nil
	})
}

// check rejects a value kong could not parse, so the error names the line.
func (k iniKey) check(v string) error {
	if k.kind == reflect.Int {
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
	}
	if k.kind == reflect.Float64 {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
	}
	if k.enum != "" && !slices.Contains(strings.Split(k.enum, ","), v) {
		return fmt.Errorf("%q is not one of %s", v, k.enum)
	}
	return nil
}

// FindConfigArg finds the config file named by -c/--config in args, by
// GB_CONFIG, or ./glacier.cfg when it exists. It runs before kong so that
// the file can feed kong's resolver.
func FindConfigArg(args []string) (path string, explicit bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			i = len(args)
		case a == "-c" || a == "--config":
			if i+1 < len(args) {
				return args[i+1], true
			}
		case strings.HasPrefix(a, "--config="):
			return strings.TrimPrefix(a, "--config="), true
		case strings.HasPrefix(a, "-c") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			return strings.TrimPrefix(strings.TrimPrefix(a, "-c"), "="), true
		}
	}
	if v := os.Getenv("GB_CONFIG"); v != "" {
		return v, true
	}
	if _, err := os.Stat("glacier.cfg"); err == nil {
		return "glacier.cfg", false
	}
	return "", false
}
