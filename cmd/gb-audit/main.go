// Command gb-audit compares inventory.json with the store and reports
// missing or damaged bags, missing manifests and system files, orphans and
// incomplete uploads. It exits 0 when they agree, 3 when it found
// something (finding records) and 1 when it could not check.
package main

import (
	"context"

	"github.com/gbarchive/gb/pkg/audit"
	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
)

type command struct {
	config.Settings `embed:""`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() {
	var c command
	cli.Main("gb-audit", "Check that the store holds what inventory.json says, and nothing it does not need.", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		st, err := cli.OpenStore("gb-audit", &c.Settings, env.Stderr)
		if err != nil {
			return err
		}
		return audit.Run(ctx, nil, env.Stdout, env.Stderr, audit.Options{Settings: &c.Settings, Store: st, Now: env.Now})
	})
}
