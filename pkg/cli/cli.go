// Package cli is what every gb command's main shares: kong with glacier.cfg
// as a resolver, help that shows what each command uses, completion
// scripts, the one error format, and the one place where errors become
// exit codes (pkg/exitcode's table).
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"github.com/gbarchive/gb/pkg/clock"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/exitcode"
	"github.com/gbarchive/gb/pkg/progress"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
)

// Version is set at build time with -ldflags "-X github.com/gbarchive/gb/pkg/cli.Version=…".
var Version = "dev"

// versionString is Version, and for a "dev" build what the Go toolchain
// recorded of it: the commit, its date, whether the tree had changes.
func versionString() string {
	v := Version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if v == "dev" {
		var rev, at, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = ", modified"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			v += fmt.Sprintf(" (commit %s, %s%s)", rev, at, dirty)
		}
	}
	return v + " " + bi.GoVersion
}

// Env is what a command gets besides its flags.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Now            time.Time
}

// Main parses args into cli (which embeds config.Settings, passed as st),
// then calls run and exits with the code its error maps to (Code). It
// never returns.
func Main(name, description string, cli any, st *config.Settings, run func(ctx context.Context, env Env) error) {
	os.Exit(Run(name, description, os.Args[1:], cli, st, run, Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}

// Run is Main without the exit, for tests.
func Run(name, description string, args []string, cli any, st *config.Settings, run func(ctx context.Context, env Env) error, env Env) int {
	cfgPath, code := parse(name, description, args, cli, env)
	if code >= 0 {
		return code
	}
	st.Config = cfgPath
	if err := st.Finish(); err != nil {
		return Report(env.Stderr, name, err)
	}
	now, err := clock.Now()
	if err != nil {
		return Report(env.Stderr, name, &config.Error{Msg: err.Error()})
	}
	env.Now = now
	// GB_CHECK_CONFIG=1: stop once the flags and glacier.cfg are read.
	// glacier.sh checks them so before it starts the pipe, so that a
	// mistake there is said once, not by every stage.
	if os.Getenv("GB_CHECK_CONFIG") != "" {
		return exitcode.OK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// On a terminal, lines are written so that they never land inside the
	// progress bars another gb command of the pipeline draws there.
	last := &lastLine{w: progress.Terminal(env.Stderr, st.Progress)}
	env.Stderr = last
	// GB_CPUPROFILE=FILE writes a CPU profile of the command (go tool
	// pprof FILE): how gb-pack's time was measured against tar | zstd.
	if p := os.Getenv("GB_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	if err := run(ctx, env); records.Quiet(err) {
		// Said already, by the stage that failed first or by the reader
		// that went away: only the log notes why this one stopped.
		last.last = name + ": " + err.Error()
		code = exitcode.Failure
	} else {
		code = Report(env.Stderr, name, err)
	}
	if p := os.Getenv("GB_LOG_FILE"); p != "" {
		appendLog(p, now, name, code, last.summary(name))
	}
	return code
}

// parse reads the flags, glacier.cfg and the environment into cli. It
// answers --help, --help-settings, --version and --completion itself (on
// stdout) and says what is wrong with the command line (on stderr); code
// is then the exit code, and -1 when the command is to run.
func parse(name, description string, args []string, cli any, env Env) (cfgPath string, code int) {
	opts := []kong.Option{
		kong.Name(name), kong.Description(description),
		kong.Writers(env.Stdout, env.Stderr),
		kong.Vars{"version": versionString()},
		kong.Embed(&helpFlags{}),
		kong.ExplicitGroups([]kong.Group{
			{Key: "settings", Title: "Settings (glacier.cfg [settings]; --help-settings lists all):"},
			{Key: "pricing", Title: "Pricing (glacier.cfg [pricing]):"},
		}),
		kong.Exit(func(code int) { panic(exitCode(code)) }),
	}
	cfgPath, _ = config.FindConfigArg(args)
	if cfgPath != "" {
		cf, err := config.LoadFile(cfgPath)
		if err != nil {
			return "", Report(env.Stderr, name, err)
		}
		opts = append(opts, kong.Resolvers(cf.Resolver()))
		cfgPath = cf.Path
	}
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(exitCode)
			if !ok {
				panic(r)
			}
			code = int(c)
		}
	}()
	parser, err := kong.New(cli, opts...)
	if err != nil {
		return "", Report(env.Stderr, name, err)
	}
	hideUnused(parser.Model.Node, name)
	if shell, ok := completionShell(args); ok {
		if err := WriteCompletion(env.Stdout, parser, shell); err != nil {
			return "", Report(env.Stderr, name, &config.Error{Msg: err.Error()})
		}
		return "", exitcode.OK
	}
	if _, err := parser.Parse(args); err != nil {
		return "", Report(env.Stderr, name, &config.Error{Msg: err.Error(), Hint: "run " + name + " --help for usage"})
	}
	return cfgPath, -1
}

// lastLine passes writes through and remembers the last line that is not
// a hint or a warning, which is the command's summary (or its error) for
// the log: a run with warnings keeps its figures there.
type lastLine struct {
	w    io.Writer
	line []byte
	last string
}

func (l *lastLine) Write(p []byte) (int, error) {
	for _, c := range p {
		if c == '\n' {
			if s := string(l.line); s != "" && !strings.Contains(s, ": hint: ") && !strings.Contains(s, ": warning: ") {
				l.last = s
			}
			l.line = l.line[:0]
			continue
		}
		if len(l.line) < 4096 {
			l.line = append(l.line, c)
		}
	}
	return l.w.Write(p)
}

// Unwrap lets pkg/progress find the terminal under it.
func (l *lastLine) Unwrap() io.Writer { return l.w }

func (l *lastLine) summary(name string) string {
	return strings.TrimPrefix(l.last, name+": ")
}

// appendLog adds one dated line to GB_LOG_FILE (the cron log glacier.sh
// --log keeps): when, which command, its exit code, its last word. A log
// that cannot be written is not worth failing a backup for.
func appendLog(path string, now time.Time, name string, code int, summary string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "%s %s exit %d: %s\n", now.UTC().Format(time.RFC3339), name, code, summary)
	f.Close()
}

type exitCode int

// VersionFlag prints the version.
type VersionFlag = kong.VersionFlag

// OpenStore opens the configured destination, saying on stderr when it is
// the default local store.
func OpenStore(name string, st *config.Settings, stderr io.Writer) (store.Store, error) {
	url, isDefault := st.DestURL()
	if isDefault {
		fmt.Fprintf(stderr, "%s: no destination configured; using the local store %s\n", name, url)
	}
	st2, err := store.Open(context.Background(), url, store.OpenOptions{S3: store.S3Options{Endpoint: st.S3Endpoint, Region: st.S3Region,
		ChecksumWhenRequired: st.S3Checksum == "when_required", Parallel: st.S3Parallel, LimitBytesPerSec: st.Limit * 1e6}})
	if err != nil {
		return nil, &config.Error{Msg: fmt.Sprintf("destination %s: %v", url, err)}
	}
	return st2, nil
}
