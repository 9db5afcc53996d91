package cli

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/alecthomas/kong"
)

// gb writes its completion scripts itself rather than with a completion
// library: kongplete (the maintained kong one) completes by running the
// command again at every TAB, through posener/complete v1 (unmaintained
// since 2019), so each TAB would read glacier.cfg and a script could not be
// checked by shell tests without the binary. Static scripts from the kong
// model cover what gb has: flags, enum values, paths and subcommands.

// Shells gb writes completion scripts for.
var Shells = []string{"bash", "zsh", "fish"}

// completionShell reports whether args ask for a completion script
// (--completion SHELL or --completion=SHELL) and for which shell.
func completionShell(args []string) (shell string, asked bool) {
	for i, a := range args {
		switch {
		case a == "--completion":
			if i+1 < len(args) {
				return args[i+1], true
			}
			return "", true
		case strings.HasPrefix(a, "--completion="):
			return strings.TrimPrefix(a, "--completion="), true
		}
	}
	return "", false
}

type compFlag struct {
	long, short, help string
	enum              []string
	takesValue, path  bool
}

// compCmd is a command or subcommand: its own flags (a subcommand also
// takes its parents'), its subcommands, and whether it takes file names.
type compCmd struct {
	name, help string
	flags      []compFlag
	subs       []*compCmd
	files      bool
}

func commandOf(n *kong.Node) *compCmd {
	c := &compCmd{name: n.Name, help: firstSentence(n.Help), flags: flagsOf(n.Flags), files: len(n.Positional) > 0}
	if n.Type == kong.ApplicationNode {
		c.flags = append(c.flags, compFlag{long: "completion", help: "Print a completion script for this shell.", takesValue: true, enum: Shells})
		sort.Slice(c.flags, func(i, j int) bool { return c.flags[i].long < c.flags[j].long })
	}
	for _, ch := range n.Children {
		if !ch.Hidden && ch.Type == kong.CommandNode {
			c.subs = append(c.subs, commandOf(ch))
		}
	}
	return c
}

func (c *compCmd) subNames() string {
	var names []string
	for _, s := range c.subs {
		names = append(names, s.name)
	}
	return strings.Join(names, " ")
}

func flagsOf(flags []*kong.Flag) []compFlag {
	var out []compFlag
	for _, f := range flags {
		if f.Hidden {
			continue
		}
		cf := compFlag{long: f.Name, help: firstSentence(f.Help), takesValue: !f.IsBool() && !f.IsCounter()}
		if f.Short != 0 {
			cf.short = string(f.Short)
		}
		if f.Enum != "" {
			cf.enum = f.EnumSlice()
		}
		// Settings that are paths complete file names.
		cf.path = f.Tag != nil && (strings.Contains(f.Tag.Get("ini"), ",path") || f.Tag.PlaceHolder == "FILE" || f.Tag.PlaceHolder == "DIR")
		out = append(out, cf)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].long < out[j].long })
	return out
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i+1]
	}
	return strings.TrimSpace(s)
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9_]`)

// WriteCompletion writes the completion script of the command parsed by
// p for shell: flags (with enum values and file names), and for a command
// with subcommands (gb-restore) the subcommands and each one's flags.
func WriteCompletion(w io.Writer, p *kong.Kong, shell string) error {
	root := commandOf(p.Model.Node)
	var s string
	switch shell {
	case "bash":
		s = bashCompletion(root)
	case "zsh":
		s = zshCompletion(root)
	case "fish":
		s = fishCompletion(root)
	default:
		return fmt.Errorf("no completion for shell %q (use %s)", shell, strings.Join(Shells, ", "))
	}
	_, err := io.WriteString(w, s)
	return err
}

// bashCompletion finds the subcommand among the words typed so far, then
// completes the value of the previous flag, a flag of the subcommand (or
// of the command), a subcommand, or a file name.
func bashCompletion(root *compCmd) string {
	var b strings.Builder
	fn := "_" + nonWord.ReplaceAllString(root.name, "_")
	fmt.Fprintf(&b, "# bash completion for %[1]s (gb): %[1]s --completion bash > ~/.local/share/bash-completion/completions/%[1]s\n", root.name)
	fmt.Fprintf(&b, "%s() {\n\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i\n", fn)
	if len(root.subs) > 0 {
		fmt.Fprintf(&b, "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n\t\tcase ${COMP_WORDS[i]} in\n\t\t%s) cmd=${COMP_WORDS[i]}; break ;;\n\t\tesac\n\tdone\n", strings.ReplaceAll(root.subNames(), " ", "|"))
	}
	b.WriteString("\tcase \"$cmd:$prev\" in\n")
	bashValues(&b, "*", root.flags)
	for _, s := range root.subs {
		bashValues(&b, s.name, s.flags)
	}
	b.WriteString("\tesac\n\tif [[ $cur == -* ]]; then\n\t\tcase $cmd in\n")
	fmt.Fprintf(&b, "\t\t\"\") COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", bashWords(root.flags))
	for _, s := range root.subs {
		fmt.Fprintf(&b, "\t\t%s) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", s.name, bashWords(append(append([]compFlag{}, root.flags...), s.flags...)))
	}
	b.WriteString("\t\tesac\n\t\treturn\n\tfi\n")
	if len(root.subs) > 0 {
		fmt.Fprintf(&b, "\tif [[ -z $cmd ]]; then\n\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\treturn\n\tfi\n", root.subNames())
	}
	fmt.Fprintf(&b, "\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n}\ncomplete -o filenames -F %s %s\n", fn, root.name)
	return b.String()
}

// bashValues writes the case arms that complete a flag's value after
// "cmd:--flag" (cmd "*" for the command's own flags, taken everywhere).
func bashValues(b *strings.Builder, cmd string, flags []compFlag) {
	var files []string
	for _, f := range flags {
		opts := cmd + ":--" + f.long
		if f.short != "" {
			opts += "|" + cmd + ":-" + f.short
		}
		switch {
		case len(f.enum) > 0:
			fmt.Fprintf(b, "\t%s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", opts, strings.Join(f.enum, " "))
		case f.path:
			files = append(files, opts)
		case f.takesValue:
			fmt.Fprintf(b, "\t%s) return ;;\n", opts)
		}
	}
	if len(files) > 0 {
		fmt.Fprintf(b, "\t%s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", strings.Join(files, "|"))
	}
}

func bashWords(flags []compFlag) string {
	var all []string
	for _, f := range flags {
		all = append(all, "--"+f.long)
		if f.short != "" {
			all = append(all, "-"+f.short)
		}
	}
	return strings.Join(all, " ")
}

// zshCompletion is one _arguments call; a command with subcommands adds a
// first argument naming them and, once one is typed, an _arguments call
// with that subcommand's flags.
func zshCompletion(root *compCmd) string {
	var b strings.Builder
	fn := "_" + nonWord.ReplaceAllString(root.name, "_")
	fmt.Fprintf(&b, "#compdef %s\n# zsh completion for %s (gb): put it in a directory of $fpath as _%s\n", root.name, root.name, root.name)
	if len(root.subs) == 0 {
		b.WriteString("_arguments -s \\\n")
		zshSpecs(&b, root.flags)
		b.WriteString("\t'*:file:_files'\n")
		return b.String()
	}
	fmt.Fprintf(&b, "%s() {\n\tlocal curcontext=$curcontext state line\n\tlocal -a cmds=(\n", fn)
	for _, s := range root.subs {
		fmt.Fprintf(&b, "\t\t%s\n", zshQuote(s.name+":"+s.help))
	}
	b.WriteString("\t)\n\t_arguments -s -C \\\n")
	zshSpecs(&b, root.flags)
	b.WriteString("\t\t'1:command:->cmds' \\\n\t\t'*::arg:->args'\n\tcase $state in\n\tcmds) _describe command cmds ;;\n\targs)\n\t\tcase $words[1] in\n")
	for _, s := range root.subs {
		fmt.Fprintf(&b, "\t\t%s) _arguments -s \\\n", s.name)
		zshSpecs(&b, append(append([]compFlag{}, root.flags...), s.flags...))
		if s.files {
			b.WriteString("\t\t\t'*:file:_files' \\\n")
		}
		b.WriteString("\t\t\t;;\n")
	}
	fmt.Fprintf(&b, "\t\tesac ;;\n\tesac\n}\n%s \"$@\"\n", fn)
	return b.String()
}

func zshSpecs(b *strings.Builder, flags []compFlag) {
	for _, f := range flags {
		help := strings.NewReplacer("[", "(", "]", ")", "'", "", ":", " -").Replace(f.help)
		action := ""
		switch {
		case len(f.enum) > 0:
			action = ":value:(" + strings.Join(f.enum, " ") + ")"
		case f.path:
			action = ":file:_files"
		case f.takesValue:
			action = ":value: "
		}
		eq := ""
		if f.takesValue {
			eq = "="
		}
		if f.short != "" {
			fmt.Fprintf(b, "\t'(-%s --%s)'{-%s,--%s%s}'[%s]%s' \\\n", f.short, f.long, f.short, f.long, eq, help, action)
		} else {
			fmt.Fprintf(b, "\t'--%s%s[%s]%s' \\\n", f.long, eq, help, action)
		}
	}
}

// zshQuote quotes s for zsh in single quotes; a ':' in a description
// would end it, so it becomes ' -'.
func zshQuote(s string) string {
	name, desc, _ := strings.Cut(s, ":")
	desc = strings.NewReplacer(":", " -", "'", "").Replace(desc)
	return "'" + name + ":" + desc + "'"
}

// fishCompletion: the command's flags everywhere; subcommands while none
// is typed; each subcommand's flags once it is.
func fishCompletion(root *compCmd) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# fish completion for %s (gb): %s --completion fish > ~/.config/fish/completions/%s.fish\n", root.name, root.name, root.name)
	fishFlags(&b, root.name, "", root.flags)
	for _, s := range root.subs {
		fmt.Fprintf(&b, "complete -c %s -n __fish_use_subcommand -f -a %s -d %s\n", root.name, s.name, fishQuote(s.help))
	}
	for _, s := range root.subs {
		fishFlags(&b, root.name, fishQuote("__fish_seen_subcommand_from "+s.name), s.flags)
	}
	return b.String()
}

func fishFlags(b *strings.Builder, name, cond string, flags []compFlag) {
	for _, f := range flags {
		fmt.Fprintf(b, "complete -c %s", name)
		if cond != "" {
			fmt.Fprintf(b, " -n %s", cond)
		}
		fmt.Fprintf(b, " -l %s", f.long)
		if f.short != "" {
			fmt.Fprintf(b, " -s %s", f.short)
		}
		switch {
		case len(f.enum) > 0:
			fmt.Fprintf(b, " -x -a %s", fishQuote(strings.Join(f.enum, " ")))
		case f.path:
			b.WriteString(" -r -F")
		case f.takesValue:
			b.WriteString(" -x")
		}
		fmt.Fprintf(b, " -d %s\n", fishQuote(f.help))
	}
}

// fishQuote quotes s for fish: single quotes, in which only \\ and \' are
// special, so a "$HOME" in a help text stays text.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
