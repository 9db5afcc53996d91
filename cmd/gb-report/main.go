// Command gb-report says what the archive holds and what it costs: per
// source and bag, the monthly bill, when retired bags become free to
// delete, what a restore costs and takes, and which atoms churn.
package main

import (
	"context"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/report"
)

type command struct {
	config.Settings `embed:""`
	Format          string          `name:"format" default:"ndjson" enum:"ndjson,text" help:"Output: ndjson records (default) or text tables for people."`
	Store           bool            `name:"store" help:"Also list the store (dest) for what it really holds and bills."`
	SVG             string          `name:"svg" placeholder:"FILE" help:"Write a chart of stored bytes and monthly cost per run to FILE (SVG)."`
	ChurnRuns       int             `name:"churn-runs" default:"5" placeholder:"N" help:"How many recent runs churn looks at."`
	NoHistory       bool            `name:"no-history" help:"Do not read the daily inventory copies in inventory_bak_dir (churn then sees only each atom's last pack)."`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() {
	var c command
	cli.Main("gb-report", "Report what the archive holds and costs: sources, bags, monthly bill, free-to-delete dates, restore costs, churn.", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		if c.ChurnRuns < 1 {
			return &config.Error{Msg: "--churn-runs must be at least 1"}
		}
		opts := report.Options{Settings: &c.Settings, Now: env.Now, Format: c.Format, SVG: c.SVG, ChurnRuns: c.ChurnRuns, NoHistory: c.NoHistory}
		if c.Store {
			st, err := cli.OpenStore("gb-report", &c.Settings, env.Stderr)
			if err != nil {
				return err
			}
			opts.Store = st
		}
		return report.Run(ctx, nil, env.Stdout, env.Stderr, opts)
	})
}
