package pack_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gbarchive/gb/internal/gentree"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/pack"
	"github.com/gbarchive/gb/pkg/plan"
	"github.com/gbarchive/gb/pkg/scan"
)

// BenchmarkPack packs a generated MUTABLE source (2,000 files, 40 MB, half
// text, half random) from a plan made beforehand by scan and plan, once
// into many small bags and once into a single bag. Staged bags and
// manifests are deleted between iterations, outside the timer. Each runs
// with progress off (never) and drawn (always, to io.Discard), to show the
// counting costs the hot path nothing measurable.
// scripts/bench.sh compares the gb-pack binary with tar | zstd on 2.2 GB.
func BenchmarkPack(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	tree, err := gentree.Build(src, gentree.Params{Files: 2000, Bytes: 40e6, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	list := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte(src+" ::MUTABLE\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, bench := range []struct {
		target   float64
		progress string
	}{{0.005, "never"}, {0.005, "always"}, {1, "never"}, {1, "always"}} {
		target := bench.target
		b.Run(fmt.Sprintf("bag=%gGB/progress=%s", target, bench.progress), func(b *testing.B) {
			state := b.TempDir()
			st := &config.Settings{StateDir: state, TargetBagGB: target, Compress: "zstd", StagingLimitGB: 0, Progress: bench.progress}
			if err := st.Finish(); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var scanned, planned bytes.Buffer
			if err := scan.Run(ctx, nil, &scanned, io.Discard, scan.Options{Settings: st, ListFile: list}); err != nil {
				b.Fatal(err)
			}
			if err := plan.Run(ctx, &scanned, &planned, io.Discard, plan.Options{Settings: st, Now: time.Now().UTC()}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(tree.Bytes)
			b.ReportAllocs()
			for b.Loop() {
				if err := pack.Run(ctx, bytes.NewReader(planned.Bytes()), io.Discard, io.Discard, pack.Options{Settings: st}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				for _, d := range []string{st.StagingDir, st.ManifestDir} {
					if err := os.RemoveAll(d); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(tree.Files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
