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
	config.Settings   `embed:""`
	ResetSource       []string        `name:"reset-source" placeholder:"PATH" help:"Drop a source from the inventory (repeatable): its atoms are forgotten and its bags retire; if list.txt still has it, it is packed afresh."`
	ResetBag          []string        `name:"reset-bag" placeholder:"ID" help:"Pack these bags' atoms again into new bags (repeatable or comma-separated); small bags of one source are consolidated."`
	Repack            bool            `name:"repack" help:"Pack every atom again, pinned atoms excepted."`
	RepackUnderfilled float64         `name:"repack-underfilled" placeholder:"PCT" help:"Pack again the atoms of bags filled below PCT percent of target_bag_gb (pinned and split atoms excepted)."`
	AllowEarly        bool            `name:"allow-early" help:"Let an operation leave bags younger than min_retention_days unreferenced (they are billed until then)."`
	Version           cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() {
	var c command
	cli.Main("gb-plan", "Plan which atoms go into which new bags.", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		return plan.Run(ctx, env.Stdin, env.Stdout, env.Stderr, plan.Options{Settings: &c.Settings, Now: env.Now,
			ResetSources: c.ResetSource, ResetBags: c.ResetBag, Repack: c.Repack, RepackUnderfilled: c.RepackUnderfilled, AllowEarly: c.AllowEarly})
	})
}
