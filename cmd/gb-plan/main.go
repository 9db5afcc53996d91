// Command gb-plan reads scan records and the inventory and writes what to
// keep, pack, forget and retire, with the cost.
package main

import (
	"context"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/plan"
)

type command struct {
	config.Settings `embed:""`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() {
	var c command
	cli.Main("gb-plan", "Plan which atoms go into which new bags.", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		return plan.Run(ctx, env.Stdin, env.Stdout, env.Stderr, plan.Options{Settings: &c.Settings, Now: env.Now})
	})
}
