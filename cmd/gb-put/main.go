// Command gb-put stores packed bags and their manifests at the destination.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/put"
)

type command struct {
	config.Settings `embed:""`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() {
	var c command
	cli.Main("gb-put", "Upload packed bags and manifests.", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		// Uploads hold (parallel + 1) parts of at least 16 MiB; a soft
		// limit a little above that keeps the heap from doubling past it.
		if os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(int64(c.S3Parallel+1)*16<<20 + 40<<20)
		}
		// A store that does not open is gb-put's failure, said in its summary too.
		st, err := cli.OpenStore("gb-put", &c.Settings, env.Stderr)
		return put.Run(ctx, env.Stdin, env.Stdout, env.Stderr, put.Options{Store: st, StoreErr: err, BagClass: c.BagStorageClass, Progress: c.Progress})
	})
}
