// Command gb-recover sets up a working gb directory on a new machine from
// the store alone: the newest inventory and system files, and every
// manifest, so gb-find and gb-restore work again.
package main

import (
	"context"
	"path/filepath"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/recovery"
)

type command struct {
	config.Settings `embed:""`
	Identity        string          `name:"identity" placeholder:"FILE" help:"age identity (or passphrase file) for an encrypted archive's system files and manifests."`
	Year            int             `name:"year" placeholder:"YYYY" help:"Use <year>-backup/system/ of this year (default: the newest)."`
	Rebuild         bool            `name:"rebuild" help:"Rebuild the inventory from the store's bags and manifests instead of reading system/inventory.json (when that is lost or not trusted)."`
	Dir             string          `arg:"" name:"dir" help:"New directory for the recovered inventory, configuration and manifests (must be empty or absent)."`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() {
	var c command
	cli.Main("gb-recover", "Rebuild a gb directory from the destination alone (disaster recovery).", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		if c.Dest == "" && c.S3Bucket == "" {
			return &config.Error{Msg: "no destination: gb-recover needs --dest URL (or GB_DEST), the archive to recover from",
				Hint: "for example: gb-recover --dest s3://my-bucket/archive ~/gb"}
		}
		st, err := cli.OpenStore("gb-recover", &c.Settings, env.Stderr)
		if err != nil {
			return err
		}
		url, _ := c.DestURL()
		dir, err := filepath.Abs(c.Dir)
		if err != nil {
			return err
		}
		return recovery.Run(ctx, env.Stdin, env.Stdout, env.Stderr, recovery.Options{Store: st, Dest: url, Dir: dir, Identity: c.Identity, Year: c.Year, Rebuild: c.Rebuild, Now: env.Now,
			S3Endpoint: c.S3Endpoint, S3Region: c.S3Region})
	})
}
