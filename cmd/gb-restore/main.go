// Command gb-restore gets files back out of the archive in four steps,
// each safe to run again, with their progress in a small state file
// (restore.json), so cron can drive a restore that takes two days:
//
//	gb-find 2024.pdf | gb-restore plan      # which bags, what it costs (free)
//	gb-restore request --yes                # thaw them (costs money)
//	gb-restore status                       # frozen / thawing / ready
//	gb-restore fetch --target DIR           # download, check, extract
//
// Exit codes (pkg/exitcode): 0 done, 1 failed, 2 usage or configuration
// error (and a request not confirmed), 3 finished with warnings (files
// mismatched or skipped), 5 not finished yet (bags thawing, or another
// gb-restore busy: run again later), 6 some bags have no restore in
// progress (run gb-restore request). See docs/restore.md.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/restore"
)

type command struct {
	config.Settings `embed:""`
	RestoreFile     string          `name:"restore-file" env:"GB_RESTORE_FILE" type:"path" placeholder:"FILE" help:"The restore's state file (default: STATE/restore.json). Use one per restore to run several at once."`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`

	Plan    planCmd    `cmd:"" help:"Plan a restore: which bags, how many bytes, what each tier costs and takes. Reads gb-find's match records on stdin, or --atom/--source/--bag. Spends nothing."`
	Request requestCmd `cmd:"" help:"Ask the store to restore (thaw) every planned bag that is not thawing or ready yet. Costs money: needs --yes, or a y at the prompt."`
	Status  statusCmd  `cmd:"" help:"Per bag: frozen, thawing, ready (until when) or restored. Exit 0 when all are ready, 5 while some thaw, 6 when some are frozen."`
	Fetch   fetchCmd   `cmd:"" help:"Download the ready bags (resumably), check them, decrypt, decompress and extract what was planned into --target."`
}

type planCmd struct {
	Atom   []string `name:"atom" sep:"none" placeholder:"PATH" help:"Restore this atom (a top-level directory of a ::MUTABLE source, SOURCE/ for its loose files, or an ::IMMUTABLE source); repeatable."`
	Source []string `name:"source" sep:"none" placeholder:"PATH" help:"Restore everything of this source (a list.txt path); repeatable."`
	Bag    []string `name:"bag" sep:"none" placeholder:"ID" help:"Restore this whole bag (bag_000042); repeatable."`
	Days   int      `name:"days" default:"7" help:"Days the restored copies are kept readable (priced in the plan; request uses it)."`
}

type requestCmd struct {
	Tier string `name:"tier" default:"Bulk" enum:"Bulk,Standard" help:"Bulk (cheapest, up to 48 h) or Standard (up to 12 h)."`
	Days int    `name:"days" default:"0" help:"Days the restored copies stay readable (default: the plan's)."`
	Yes  bool   `short:"y" name:"yes" help:"Spend the money without asking."`
}

type statusCmd struct{}

type fetchCmd struct {
	Target    string `name:"target" required:"" type:"path" placeholder:"DIR" help:"Where to restore: a file /a/b comes back as DIR/a/b. Downloads in progress are kept in DIR/.gb-restore."`
	Identity  string `name:"identity" env:"GB_IDENTITY" type:"path" placeholder:"FILE" help:"The age identity file (or passphrase file) that opens encrypted bags; must not be readable by others."`
	Overwrite bool   `name:"overwrite" help:"Replace files (and symlinks) already in DIR whose content differs; directories are never replaced."`
	KeepBags  bool   `name:"keep-bags" help:"Keep the downloaded bags in DIR/.gb-restore after extracting them."`
}

// Kong calls AfterApply on the chosen command: that is how main knows it.
func (c *planCmd) AfterApply() error    { current = "plan"; return nil }
func (c *requestCmd) AfterApply() error { current = "request"; return nil }
func (c *statusCmd) AfterApply() error  { current = "status"; return nil }
func (c *fetchCmd) AfterApply() error   { current = "fetch"; return nil }

var current string

func main() {
	var c command
	cli.Main("gb-restore", "Restore files from the archive: plan, request, status, fetch.", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		opts := restore.Options{Settings: &c.Settings, Now: env.Now, StateFile: c.RestoreFile}
		if current != "plan" {
			st, err := cli.OpenStore("gb-restore", &c.Settings, env.Stderr)
			if err != nil {
				return err
			}
			opts.Store = st
		}
		switch current {
		case "plan":
			opts.Atoms = rawArgs(os.Args[1:], "--atom", c.Plan.Atom)
			opts.Sources = rawArgs(os.Args[1:], "--source", c.Plan.Source)
			opts.Bags = c.Plan.Bag
			opts.Days = c.Plan.Days
			opts.StdinTerminal = restore.IsTerminal(os.Stdin)
			return restore.Plan(ctx, env.Stdin, env.Stdout, env.Stderr, opts)
		case "request":
			opts.Tier, opts.Days, opts.Yes = c.Request.Tier, c.Request.Days, c.Request.Yes
			opts.Interactive = restore.IsTerminal(os.Stdin) && restore.IsTerminal(os.Stderr)
			return restore.Request(ctx, env.Stdin, env.Stdout, env.Stderr, opts)
		case "status":
			return restore.Status(ctx, env.Stdout, env.Stderr, opts)
		case "fetch":
			opts.Target, opts.Identity, opts.Overwrite, opts.KeepBags = c.Fetch.Target, c.Fetch.Identity, c.Fetch.Overwrite, c.Fetch.KeepBags
			return restore.Fetch(ctx, env.Stdout, env.Stderr, opts)
		}
		return fmt.Errorf("no step chosen")
	})
}

// rawArgs recovers the exact bytes of flag values that kong read with
// each byte that is not UTF-8 turned into U+FFFD (a path with such a
// name): the value in args, as --flag VALUE or --flag=VALUE, that reads
// as parsed.
func rawArgs(args []string, flag string, parsed []string) []string {
	var raw []string
	for i, a := range args {
		switch {
		case a == flag && i+1 < len(args):
			raw = append(raw, args[i+1])
		case strings.HasPrefix(a, flag+"="):
			raw = append(raw, strings.TrimPrefix(a, flag+"="))
		}
	}
	out := make([]string, len(parsed))
	for i, p := range parsed {
		out[i] = p
		if !utf8.ValidString(p) {
			continue
		}
		for _, r := range raw {
			if !utf8.ValidString(r) && string([]rune(r)) == p {
				out[i] = r
				break
			}
		}
	}
	return out
}
