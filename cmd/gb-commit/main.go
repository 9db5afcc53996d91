// Command gb-commit applies uploaded bags to inventory.json and copies the
// system files to the destination.
package main

import (
	"context"
	"io"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/commit"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/store"
)

type command struct {
	config.Settings `embed:""`
	DryRun          bool            `name:"dry-run" help:"Write inventory_dryrun.json as if every planned bag were uploaded; upload nothing."`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() {
	var c command
	cli.Main("gb-commit", "Commit uploaded bags to the inventory.", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		var st store.Store
		var err error
		if !c.DryRun {
			// Said only if the commit needs the store: gb-put said it first.
			st, err = cli.OpenStore("gb-commit", &c.Settings, io.Discard)
		}
		return commit.Run(ctx, env.Stdin, env.Stdout, env.Stderr, commit.Options{Settings: &c.Settings, Store: st, StoreErr: err, Now: env.Now, DryRun: c.DryRun})
	})
}
