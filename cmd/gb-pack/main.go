// Command gb-pack writes the bags of a plan (tar, zstd) and their
// manifests into the staging directory.
package main

import (
	"context"
	"os"
	"runtime/debug"
	"time"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/clock"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/pack"
)

type command struct {
	config.Settings `embed:""`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() {
	// Packing allocates in bursts (compression sections); without a limit
	// the heap doubles past them and RSS wanders over 200 MB. A soft limit
	// keeps it near 100 MB at no measurable cost. GOMEMLIMIT overrides it.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(96 << 20)
	}
	var c command
	cli.Main("gb-pack", "Pack planned bags into the staging directory.", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		now := func() time.Time {
			t, err := clock.Now()
			if err != nil {
				return time.Now().UTC()
			}
			return t
		}
		return pack.Run(ctx, env.Stdin, env.Stdout, env.Stderr, pack.Options{Settings: &c.Settings, Now: now})
	})
}
