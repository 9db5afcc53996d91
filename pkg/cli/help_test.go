package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/exitcode"
)

type keygenDemo struct {
	config.Settings `embed:""`
	Output          string          `short:"o" name:"output" placeholder:"FILE" help:"Write the identity here."`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func runDemo(t *testing.T, name string, args ...string) (c *keygenDemo, code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("GB_STATE_DIR", t.TempDir())
	c = &keygenDemo{}
	var out, errOut bytes.Buffer
	code = cli.Run(name, "A demo.", args, c, &c.Settings, func(context.Context, cli.Env) error { return nil }, cli.Env{Stdout: &out, Stderr: &errOut})
	return c, code, out.String(), errOut.String()
}

// --help and --version answer on stdout (`gb-find --help | less`), exit 0
// and leave stderr alone.
func TestHelpAndVersionOnStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--version"}, {"--help-settings"}} {
		_, code, out, errOut := runDemo(t, "gb-find", args...)
		if code != exitcode.OK || out == "" || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
		if args[0] != "--version" && args[0] != "--help-settings" && !strings.HasPrefix(out, "Usage: gb-find") {
			t.Errorf("%v: first line %q", args, strings.SplitN(out, "\n", 2)[0])
		}
	}
	// A bad flag is an error on stderr, exit 2, nothing on stdout.
	_, code, out, errOut := runDemo(t, "gb-find", "--no-such-flag")
	if code != exitcode.Usage || out != "" || !strings.Contains(errOut, "gb-find: error: unknown flag --no-such-flag") {
		t.Errorf("bad flag: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// Each command's --help shows the settings it reads and hides the rest.
func TestHelpShowsTheSettingsACommandUses(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxLines  int
		want, not []string
	}{
		{"gb-keygen", 20, []string{"--output", "--config", "--version", "--help-settings"}, []string{"--dest", "--compress", "--price-gb-month", "Settings ("}},
		{"gb-put", 45, []string{"--dest", "--bag-storage-class", "--s3-parallel", "--progress"}, []string{"--compress", "--exclude-file", "--price-gb-month"}},
		{"gb-scan", 45, []string{"--exclude-file", "--encrypt-file", "--target-bag-gb", "--ssh-command"}, []string{"--dest", "--bag-storage-class", "--price-gb-month"}},
		{"gb-plan", 70, []string{"--compress", "--keep-deleted-days", "--inventory-file", "Pricing (", "--price-gb-month"}, []string{"--dest", "--exclude-file", "--staging-dir"}},
		// A command gb does not know (a custom stage) shows them all.
		{"gb-custom", 200, []string{"--dest", "--compress", "--exclude-file", "--price-gb-month"}, nil},
	} {
		_, code, out, _ := runDemo(t, tc.name, "--help")
		if code != exitcode.OK {
			t.Fatalf("%s --help: exit %d", tc.name, code)
		}
		if n := strings.Count(out, "\n"); n > tc.maxLines {
			t.Errorf("%s --help: %d lines, want at most %d:\n%s", tc.name, n, tc.maxLines, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s --help lacks %s:\n%s", tc.name, w, out)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(out, w) {
				t.Errorf("%s --help shows %s, which it does not use:\n%s", tc.name, w, out)
			}
		}
	}
}

// A setting hidden from a command's help still works there, as a flag,
// an environment variable and a glacier.cfg key: one glacier.cfg serves
// every command.
func TestHiddenSettingStillWorks(t *testing.T) {
	if c, code, _, errOut := runDemo(t, "gb-keygen", "--compress", "none", "-o", "k"); code != 0 || c.Compress != "none" {
		t.Errorf("flag: exit %d, compress %q, %s", code, c.Compress, errOut)
	}
	t.Setenv("GB_BAG_STORAGE_CLASS", "GLACIER")
	if c, code, _, errOut := runDemo(t, "gb-keygen"); code != 0 || c.BagStorageClass != "GLACIER" {
		t.Errorf("environment: exit %d, bag_storage_class %q, %s", code, c.BagStorageClass, errOut)
	}
	cfg := filepath.Join(t.TempDir(), "glacier.cfg")
	os.WriteFile(cfg, []byte("[settings]\ncompress = none\ndest = file:///srv/gb\n[pricing]\nprice_gb_month = 0.5\n"), 0o644)
	c, code, _, errOut := runDemo(t, "gb-keygen", "-c", cfg)
	if code != 0 || c.Compress != "none" || c.Dest != "file:///srv/gb" || c.PriceGBMonth != 0.5 {
		t.Errorf("glacier.cfg: exit %d, %+v, %s", code, c.Settings, errOut)
	}
}

// --help-settings lists every setting with its glacier.cfg key, flag,
// environment variable and the commands that use it.
func TestHelpSettingsListsEverySetting(t *testing.T) {
	_, _, out, _ := runDemo(t, "gb-keygen", "--help-settings")
	st := reflect.TypeOf(config.Settings{})
	for i := range st.NumField() {
		f := st.Field(i)
		name, env := f.Tag.Get("name"), f.Tag.Get("env")
		key := "--" + name
		if sec, _, _ := strings.Cut(f.Tag.Get("ini"), ","); sec != "" {
			key = strings.ReplaceAll(name, "-", "_") + " (--" + name + ") " + env
		}
		if !strings.Contains(out, key) {
			t.Errorf("--help-settings lacks %q", key)
		}
		if f.Tag.Get("cmds") == "" {
			t.Errorf("setting %s has no cmds tag: which commands use it?", name)
		}
	}
	for _, w := range []string{"[settings]", "[pricing]", "used by: gb-put\n", "used by: every command"} {
		if !strings.Contains(out, w) {
			t.Errorf("--help-settings lacks %q:\n%s", w, out)
		}
	}
}
