// Command gb-scan walks the sources of list.txt and writes source and atom
// records (NDJSON) on stdout.
package main

import (
	"context"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/scan"
)

type command struct {
	config.Settings `embed:""`
	List            string          `arg:"" name:"list.txt" help:"Source list: LOCATION ::MUTABLE|::IMMUTABLE per line." type:"path"`
	Jobs            int             `name:"jobs" env:"GB_JOBS" default:"0" help:"Directories read at once (0: 4 per CPU)."`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() {
	var c command
	cli.Main("gb-scan", "Scan the sources of list.txt into atom records.", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		return scan.Run(ctx, env.Stdin, env.Stdout, env.Stderr, scan.Options{Settings: &c.Settings, ListFile: c.List, Jobs: c.Jobs})
	})
}
