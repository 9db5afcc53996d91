// Command gb-prune lists the bags and manifests in the store that the
// inventory no longer needs and, with --delete, deletes those free to
// delete; it also aborts stale incomplete uploads.
package main

import (
	"context"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/prune"
)

type command struct {
	config.Settings `embed:""`
	Delete          bool            `name:"delete" help:"Delete orphans (default: a dry run that only lists them)."`
	AllowEarly      bool            `name:"allow-early" help:"Also delete bags younger than min_retention_days, paying the early-deletion fee."`
	CheckAge        bool            `name:"check-age" hidden:"" help:"Seed-compatible: refuse to delete young bags (always so without --allow-early)."`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() {
	var c command
	cli.Main("gb-prune", "List (and with --delete, delete) stored bags and manifests the inventory no longer needs.", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		if c.CheckAge && c.AllowEarly {
			return &config.Error{Msg: "--check-age and --allow-early contradict each other", Hint: "young bags are kept unless --allow-early is given; --check-age is only accepted for the seed's command lines"}
		}
		after, err := prune.ParseAge(c.AbortUploadsAfter)
		if err != nil {
			return err
		}
		st, err := cli.OpenStore("gb-prune", &c.Settings, env.Stderr)
		if err != nil {
			return err
		}
		return prune.Run(ctx, nil, env.Stdout, env.Stderr, prune.Options{Settings: &c.Settings, Store: st, Now: env.Now,
			Delete: c.Delete, AllowEarly: c.AllowEarly, AbortUploadsAfter: after})
	})
}
