// Command sshd runs the test OpenSSH server of package internal/sshtest
// on 127.0.0.1 for scripts (scripts/bench-remote.sh): it prints the
// ssh_config to use (host alias gbhost) and serves until stdin closes or it
// is signalled.
//
//	go run ./internal/tools/sshd -dir /tmp/sshd
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gbarchive/gb/internal/sshtest"
)

func main() {
	dir := flag.String("dir", "", "directory for keys, configs and logs")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "usage: sshd -dir DIR")
		os.Exit(2)
	}
	s, err := sshtest.Start(*dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sshd: %v\n", err)
		os.Exit(1)
	}
	defer s.Stop()
	fmt.Println(s.Config)
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-done:
	case <-sig:
	}
}
