package cli

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/alecthomas/kong"
)

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

func flagsOf(m *kong.Application) []compFlag {
	var out []compFlag
	for _, f := range m.Flags {
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
	out = append(out, compFlag{long: "completion", help: "Print a completion script for this shell.", takesValue: true, enum: Shells})
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
// p for shell.
func WriteCompletion(w io.Writer, p *kong.Kong, shell string) error {
	name := p.Model.Name
	flags := flagsOf(p.Model)
	switch shell {
	case "bash":
		fn := "_" + nonWord.ReplaceAllString(name, "_")
		var all, files []string
		var enums strings.Builder
		for _, f := range flags {
			all = append(all, "--"+f.long)
			if f.short != "" {
				all = append(all, "-"+f.short)
			}
			opts := "--" + f.long
			if f.short != "" {
				opts += "|-" + f.short
			}
			switch {
			case len(f.enum) > 0:
				fmt.Fprintf(&enums, "\t%s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", opts, strings.Join(f.enum, " "))
			case f.path:
				files = append(files, opts)
			case f.takesValue:
				fmt.Fprintf(&enums, "\t%s) return ;;\n", opts)
			}
		}
		if len(files) > 0 {
			fmt.Fprintf(&enums, "\t%s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", strings.Join(files, "|"))
		}
		_, err := fmt.Fprintf(w, `# bash completion for %[1]s (gb): %[1]s --completion bash > ~/.local/share/bash-completion/completions/%[1]s
%[2]s() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	case "$prev" in
%[3]s	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W %[4]q -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F %[2]s %[1]s
`, name, fn, enums.String(), strings.Join(all, " "))
		return err
	case "zsh":
		var b strings.Builder
		fmt.Fprintf(&b, "#compdef %s\n# zsh completion for %s (gb): put it in a directory of $fpath as _%s\n_arguments -s \\\n", name, name, name)
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
				fmt.Fprintf(&b, "\t'(-%s --%s)'{-%s,--%s%s}'[%s]%s' \\\n", f.short, f.long, f.short, f.long, eq, help, action)
			} else {
				fmt.Fprintf(&b, "\t'--%s%s[%s]%s' \\\n", f.long, eq, help, action)
			}
		}
		b.WriteString("\t'*:file:_files'\n")
		_, err := io.WriteString(w, b.String())
		return err
	case "fish":
		var b strings.Builder
		fmt.Fprintf(&b, "# fish completion for %s (gb): %s --completion fish > ~/.config/fish/completions/%s.fish\n", name, name, name)
		for _, f := range flags {
			fmt.Fprintf(&b, "complete -c %s -l %s", name, f.long)
			if f.short != "" {
				fmt.Fprintf(&b, " -s %s", f.short)
			}
			switch {
			case len(f.enum) > 0:
				fmt.Fprintf(&b, " -x -a %s", fishQuote(strings.Join(f.enum, " ")))
			case f.path:
				b.WriteString(" -r -F")
			case f.takesValue:
				b.WriteString(" -x")
			}
			fmt.Fprintf(&b, " -d %s\n", fishQuote(f.help))
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	return fmt.Errorf("no completion for shell %q (use %s)", shell, strings.Join(Shells, ", "))
}

// fishQuote quotes s for fish: single quotes, in which only \\ and \' are
// special, so a "$HOME" in a help text stays text.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
