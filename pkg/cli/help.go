package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/gbarchive/gb/pkg/config"
)

// hideUnused hides from a command's --help (and its completions) the
// settings it does not read (config.Settings' cmds tags). They still
// parse, as flags, glacier.cfg keys and environment variables, so one
// glacier.cfg serves every command; --help-settings lists them all.
func hideUnused(n *kong.Node, name string) {
	for _, f := range n.Flags {
		if f.Tag != nil && f.Tag.Has("cmds") && !config.UsedBy(f.Tag.Get("cmds"), name) {
			f.Hidden = true
		}
	}
}

// helpFlags are embedded in every command.
type helpFlags struct {
	HelpSettings helpSettingsFlag `name:"help-settings" help:"List every setting (glacier.cfg key, flag, environment variable, default) and the commands that use it, and exit."`
}

type helpSettingsFlag bool

// BeforeReset prints the settings before anything else is parsed, as
// --help and --version do.
func (helpSettingsFlag) BeforeReset(app *kong.Kong) error {
	writeSettings(app.Stdout, app.Model.Node)
	app.Exit(0)
	return nil
}

// writeSettings lists every setting by glacier.cfg section, the way
// docs/configuration.md describes them.
func writeSettings(w io.Writer, n *kong.Node) {
	fmt.Fprintf(w, "Every gb setting: a glacier.cfg key (in its [section]), a --flag and a GB_ variable; an\n")
	fmt.Fprintf(w, "explicit flag wins over the environment, which wins over glacier.cfg. Every command accepts\n")
	fmt.Fprintf(w, "them all; its --help shows those it uses. See docs/configuration.md.\n")
	section := ""
	for _, f := range n.Flags {
		if f.Tag == nil || !f.Tag.Has("cmds") {
			continue
		}
		sec, _, _ := strings.Cut(f.Tag.Get("ini"), ",")
		if sec != section {
			fmt.Fprintf(w, "\n[%s]\n", sec)
			section = sec
		}
		writeSetting(w, f, sec)
	}
}

func writeSetting(w io.Writer, f *kong.Flag, sec string) {
	key := "--" + f.Name
	if sec != "" {
		key = strings.ReplaceAll(f.Name, "-", "_") + " (--" + f.Name + ")"
	}
	if len(f.Envs) > 0 {
		key += " " + strings.Join(f.Envs, " ")
	}
	if f.Default != "" {
		key += " default " + f.Default
	}
	fmt.Fprintf(w, "  %s\n      %s\n      used by: %s\n", key, f.Help, usedBy(f.Tag.Get("cmds")))
}

func usedBy(tag string) string {
	if tag == "all" {
		return "every command"
	}
	var out []string
	for _, c := range strings.Fields(tag) {
		out = append(out, "gb-"+c)
	}
	return strings.Join(out, ", ")
}
