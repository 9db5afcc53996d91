// Command gb-find searches the per-bag manifests for files whose name or
// path matches a pattern and says which bag holds each: one "match"
// record per file (or a line of text), without thawing anything. With
// --remote it first fetches the manifests manifest_dir lacks from the
// store (a new machine). Exit codes (pkg/exitcode): 0 found, 1 could not
// search, 2 usage or configuration error, 3 found what it could but
// something was not searched, 7 searched everything and found nothing.
package main

import (
	"context"
	"os"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/find"
)

type command struct {
	config.Settings `embed:""`
	Pattern         string          `arg:"" name:"pattern" help:"A glob matched against base names ('2024.pdf', '*.pdf'), or with a / against whole paths ('Taxes/**/*.pdf', '/home/me/*/notes.txt'); with --regex a Go regular expression searched in whole paths."`
	Regex           bool            `name:"regex" help:"PATTERN is a Go (RE2) regular expression searched in the whole path."`
	IgnoreCase      bool            `short:"i" name:"ignore-case" help:"Ignore case."`
	All             bool            `name:"all" help:"Also show matches that are not current (retired bags, older copies), with current false and a reason."`
	Remote          bool            `name:"remote" help:"First fetch from the store the manifests manifest_dir lacks (a new machine); the inventory too when inventory_file is missing."`
	Identity        string          `name:"identity" env:"GB_IDENTITY" type:"path" placeholder:"FILE" help:"With --remote: the age identity file (or passphrase file) that decrypts encrypted manifests; must not be readable by others."`
	Format          string          `name:"format" default:"json" enum:"json,text" help:"json: one match record per line; text: one line per match for people."`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() {
	var c command
	cli.Main("gb-find", "Find files in the bags' manifests (without thawing anything).", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		// The flag parser reads bytes that are not UTF-8 as U+FFFD; match
		// on the bytes the shell passed.
		pattern := find.RawArg(os.Args[1:], c.Pattern)
		opts := find.Options{Settings: &c.Settings, Pattern: pattern, Regex: c.Regex, IgnoreCase: c.IgnoreCase, All: c.All,
			Remote: c.Remote, Identity: c.Identity, Format: c.Format}
		if c.Remote {
			st, err := cli.OpenStore("gb-find", &c.Settings, env.Stderr)
			if err != nil {
				return err
			}
			opts.Store = st
		}
		return find.Run(ctx, env.Stdin, env.Stdout, env.Stderr, opts)
	})
}
