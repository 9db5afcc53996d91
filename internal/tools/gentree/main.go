// Command gentree writes a deterministic synthetic source tree for gb's
// benchmarks (see package internal/gentree) and prints what it wrote as
// one JSON line on stdout.
//
//	go run ./internal/tools/gentree -root /tmp/tree -files 200000 -gb 2.2
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gbarchive/gb/internal/gentree"
)

func main() {
	var p gentree.Params
	root := flag.String("root", "", "directory to create (must not exist or be empty)")
	gb := flag.Float64("gb", 2.2, "total content in GB (10^9 bytes)")
	flag.IntVar(&p.Files, "files", 200000, "number of regular files")
	flag.IntVar(&p.Atoms, "atoms", 0, "top-level directories (0: files/2000, clamped to 50..200)")
	flag.Uint64Var(&p.Seed, "seed", 1, "random seed; the same parameters give the same tree")
	flag.IntVar(&p.Workers, "workers", 0, "concurrent writers (0: 2 per CPU, at least 4)")
	flag.Parse()
	if *root == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gentree -root DIR [-files N] [-gb G] [-atoms N] [-seed S] [-workers N]")
		os.Exit(2)
	}
	if *gb < 0 || p.Files < 1 {
		fmt.Fprintln(os.Stderr, "gentree: -gb must be ≥ 0 and -files ≥ 1")
		os.Exit(2)
	}
	p.Bytes = int64(*gb * 1e9)
	start := time.Now()
	st, err := gentree.Build(*root, p)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gentree: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gentree: %d files, %d dirs, %.2f GB in %.1fs\n", st.Files, st.Dirs, float64(st.Bytes)/1e9, time.Since(start).Seconds())
	if err := json.NewEncoder(os.Stdout).Encode(st); err != nil {
		fmt.Fprintf(os.Stderr, "gentree: %v\n", err)
		os.Exit(1)
	}
}
