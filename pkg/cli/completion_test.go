package cli_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/exitcode"
)

type demo struct {
	config.Settings `embed:""`
	Reset           []string `name:"reset-bag" placeholder:"ID" help:"Pack these bags again."`
	Fast            bool     `name:"fast" help:"Go fast. Really."`
}

func completion(t *testing.T, shell string) string {
	t.Helper()
	var c demo
	var out, errOut bytes.Buffer
	code := cli.Run("gb-demo", "A demo.", []string{"--completion", shell}, &c, &c.Settings, nil, cli.Env{Stdout: &out, Stderr: &errOut})
	if code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	p := filepath.Join(t.TempDir(), "gb-demo."+shell)
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func need(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (scripts/test.sh installs it): %v", tool, err)
		}
		t.Skipf("%s not installed", tool)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	b, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, b)
	}
	return string(b)
}

// Each shell, given the script, completes flag names, enum values and
// paths as a person would type them.
func TestCompletionBash(t *testing.T) {
	need(t, "bash")
	p := completion(t, "bash")
	ask := func(words ...string) string {
		script := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _gb_demo; printf '%s\n' "${COMPREPLY[@]}"`
		return run(t, "bash", append([]string{"-c", script, "_", p}, words...)...)
	}
	if got := ask("gb-demo", "--res"); got != "--reset-bag\n" {
		t.Errorf("--res: %q", got)
	}
	if got := ask("gb-demo", "--compress", ""); got != "zstd\nnone\n" {
		t.Errorf("--compress values: %q", got)
	}
	if got := ask("gb-demo", "--f"); got != "--fast\n" {
		t.Errorf("--f: %q", got)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "glacier.cfg"), nil, 0o644)
	if got := ask("gb-demo", "-c", filepath.Join(dir, "gla")); strings.TrimSpace(got) != filepath.Join(dir, "glacier.cfg") {
		t.Errorf("-c path: %q", got)
	}
}

func TestCompletionFish(t *testing.T) {
	need(t, "fish")
	p := completion(t, "fish")
	got := run(t, "fish", "--no-config", "-c", "source "+p+"; complete -C 'gb-demo --comp'")
	if !strings.Contains(got, "--compress\tBag compression") || !strings.Contains(got, "--completion") {
		t.Errorf("fish flags:\n%s", got)
	}
	got = run(t, "fish", "--no-config", "-c", "source "+p+"; complete -C 'gb-demo --compress '")
	if !strings.Contains(got, "zstd") || !strings.Contains(got, "none") {
		t.Errorf("fish --compress values:\n%s", got)
	}
	// Help texts are not expanded: $XDG_STATE_HOME stays as written.
	got = run(t, "fish", "--no-config", "-c", "source "+p+"; complete -C 'gb-demo --state-d'")
	if !strings.Contains(got, "$XDG_STATE_HOME") {
		t.Errorf("fish help text expanded:\n%s", got)
	}
}

func TestCompletionZsh(t *testing.T) {
	need(t, "zsh")
	p := completion(t, "zsh")
	run(t, "zsh", "-n", p)
	b, _ := os.ReadFile(p)
	for _, want := range []string{"#compdef gb-demo", "'--compress=[", ":value:(zstd none)'", "{-c,--config=}", ":file:_files'", "'--fast[Go fast.]'"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("zsh script lacks %q:\n%s", want, b)
		}
	}
}

func TestCompletionUnknownShell(t *testing.T) {
	var c demo
	var out, errOut bytes.Buffer
	if code := cli.Run("gb-demo", "A demo.", []string{"--completion=tcsh"}, &c, &c.Settings, nil, cli.Env{Stdout: &out, Stderr: &errOut}); code != exitcode.Usage || out.Len() > 0 {
		t.Fatalf("exit %d, stdout %q", code, out.String())
	}
	if !strings.Contains(errOut.String(), `no completion for shell "tcsh" (use bash, zsh, fish)`) {
		t.Errorf("stderr %q", errOut.String())
	}
}

// A command with subcommands, as gb-restore.
type steps struct {
	config.Settings `embed:""`
	RestoreFile     string `name:"restore-file" type:"path" placeholder:"FILE" help:"State file."`
	Plan            struct {
		Atom []string `name:"atom" placeholder:"PATH" help:"Restore this atom."`
	} `cmd:"" help:"Plan a restore. Spends nothing."`
	Status struct{} `cmd:"" help:"Per bag: frozen, thawing or ready."`
	Fetch  struct {
		Target string `name:"target" type:"path" placeholder:"DIR" help:"Where to restore."`
		Tier   string `name:"tier" enum:"Bulk,Standard" default:"Bulk" help:"Tier."`
	} `cmd:"" help:"Download the ready bags."`
}

func stepsCompletion(t *testing.T, shell string) string {
	t.Helper()
	var c steps
	var out, errOut bytes.Buffer
	if code := cli.Run("gb-restore", "Steps.", []string{"--completion", shell}, &c, &c.Settings, nil, cli.Env{Stdout: &out, Stderr: &errOut}); code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	p := filepath.Join(t.TempDir(), "gb-restore."+shell)
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCompletionSubcommandsBash(t *testing.T) {
	need(t, "bash")
	p := stepsCompletion(t, "bash")
	ask := func(words ...string) string {
		script := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _gb_restore; printf '%s\n' "${COMPREPLY[@]}"`
		return run(t, "bash", append([]string{"-c", script, "_", p}, words...)...)
	}
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"gb-restore", ""}, "plan\nstatus\nfetch\n"},
		{[]string{"gb-restore", "st"}, "status\n"},
		{[]string{"gb-restore", "--restore-file", "x", "f"}, "fetch\n"},
		{[]string{"gb-restore", "fetch", "--ta"}, "--target\n"},
		{[]string{"gb-restore", "plan", "--ta"}, "\n"},
		{[]string{"gb-restore", "plan", "--at"}, "--atom\n"},
		{[]string{"gb-restore", "fetch", "--tier", ""}, "Bulk\nStandard\n"},
		{[]string{"gb-restore", "plan", "--progress", ""}, "auto\nalways\nnever\n"},
		{[]string{"gb-restore", "fetch", "--comp"}, "--completion\n"}, // --compress is not a setting gb-restore uses
		{[]string{"gb-restore", "status", "--restore-f"}, "--restore-file\n"},
	} {
		if got := ask(tc.words...); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.words, got, tc.want)
		}
	}
}

func TestCompletionSubcommandsFish(t *testing.T) {
	need(t, "fish")
	p := stepsCompletion(t, "fish")
	ask := func(line string) string {
		return run(t, "fish", "--no-config", "-c", "source "+p+"; complete -C '"+line+"'")
	}
	if got := ask("gb-restore "); !strings.Contains(got, "plan\tPlan a restore.") || !strings.Contains(got, "status\t") || !strings.Contains(got, "fetch\t") {
		t.Errorf("subcommands:\n%s", got)
	}
	if got := ask("gb-restore fetch --t"); !strings.Contains(got, "--target") || !strings.Contains(got, "--tier") {
		t.Errorf("fetch flags:\n%s", got)
	}
	if got := ask("gb-restore plan --t"); strings.Contains(got, "--target") {
		t.Errorf("plan offers fetch's --target:\n%s", got)
	}
	if got := ask("gb-restore plan --restore-f"); !strings.Contains(got, "--restore-file") {
		t.Errorf("command flags after a subcommand:\n%s", got)
	}
	if got := ask("gb-restore fetch "); strings.Contains(got, "plan\t") {
		t.Errorf("subcommands offered after one:\n%s", got)
	}
}

// zsh cannot complete without a terminal; with _arguments and _describe
// stubbed, the script shows what it hands them: the subcommands first,
// then the flags of the subcommand typed.
func TestCompletionSubcommandsZsh(t *testing.T) {
	need(t, "zsh")
	p := stepsCompletion(t, "zsh")
	run(t, "zsh", "-n", p)
	ask := func(state string, words ...string) string {
		script := `_arguments() { print -r -- "_arguments $*"; state=$STATE }; _describe() { print -rl -- "${(@P)2}" }; STATE=$1; shift; words=("$@"); source ` + p
		return run(t, "zsh", append([]string{"-f", "-c", script, "_", state}, words...)...)
	}
	if got := ask("cmds"); !strings.Contains(got, "plan:Plan a restore.\n") || !strings.Contains(got, "status:Per bag - frozen") || !strings.Contains(got, "fetch:") {
		t.Errorf("subcommands:\n%s", got)
	}
	got := ask("args", "fetch", "--t")
	if !strings.Contains(got, "'--target=[Where to restore.]:file:_files'") && !strings.Contains(got, "--target=[Where to restore.]:file:_files") {
		t.Errorf("fetch flags:\n%s", got)
	}
	if !strings.Contains(got, "--restore-file=") {
		t.Errorf("command flags missing after fetch:\n%s", got)
	}
	if got := ask("args", "plan"); strings.Contains(got, "--target") || !strings.Contains(got, "--atom=") {
		t.Errorf("plan flags:\n%s", got)
	}
}

// The same in a real interactive zsh (zsh/zpty): TAB after gb-restore
// lists the steps, and after a step completes its flags.
func TestCompletionSubcommandsZshInteractive(t *testing.T) {
	need(t, "zsh")
	p := stepsCompletion(t, "zsh")
	dir := filepath.Dir(p)
	if err := os.Rename(p, filepath.Join(dir, "_gb-restore")); err != nil {
		t.Fatal(err)
	}
	const script = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; zstyle ':completion:*' list-prompt ''; LISTMAX=1000; gb-restore() { :; }"
sleep 0.5
zpty -w -n z "$2"$'\t'
out=
for i in {1..150}; do
	sleep 0.1
	while zpty -r -t z line; do out+=$line; done
	[[ $out == *$3* ]] && break
done
print -r -- "$out"
zpty -d z`
	// Reads until want shows (or 15 s pass: a loaded machine is slow).
	tab := func(line, want string) string {
		return run(t, "zsh", "-f", "-c", script, "_", dir, line, want)
	}
	got := tab("gb-restore ", "Download the ready bags.")
	for _, w := range []string{"plan", "status", "fetch", "Download the ready bags."} {
		if !strings.Contains(got, w) {
			t.Errorf("gb-restore TAB lacks %q:\n%s", w, got)
		}
	}
	if got := tab("gb-restore fetch --ta", "--target"); !strings.Contains(got, "gb-restore fetch --target") {
		t.Errorf("gb-restore fetch --ta TAB:\n%s", got)
	}
}
