// Command gb-keygen creates an age identity for encrypted bags and prints
// its public key, the line recipients.txt needs.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/gbarchive/gb/pkg/cli"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/keys"
)

type command struct {
	config.Settings `embed:""`
	Output          string          `short:"o" name:"output" required:"" placeholder:"FILE" help:"Write the new identity (secret key) here, mode 0600; never replaces a file."`
	Version         cli.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() {
	var c command
	cli.Main("gb-keygen", "Create an age identity and print its public key (for recipients.txt).", &c, &c.Settings, func(ctx context.Context, env cli.Env) error {
		pub, err := keys.Generate(c.Output, env.Now.UTC().Format(time.RFC3339))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "gb-keygen: wrote the identity to %s; keep a copy somewhere safe and off this machine: without it encrypted bags cannot be opened\n", c.Output)
		_, err = fmt.Fprintln(env.Stdout, pub)
		return err
	})
}
