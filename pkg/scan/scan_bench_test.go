package scan_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gbarchive/gb/internal/gentree"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/scan"
)

// BenchmarkScan scans a generated MUTABLE source of 5,000 files (metadata
// only; scan reads no content). scripts/bench.sh compares the gb-scan
// binary with find on a tree of 200,000 files.
func BenchmarkScan(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	tree, err := gentree.Build(src, gentree.Params{Files: 5000, Bytes: 20e6, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	list := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte(src+" ::MUTABLE\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	// With progress off (never) and drawn (always, to io.Discard).
	for _, progress := range []string{"never", "always"} {
		b.Run("progress="+progress, func(b *testing.B) {
			st := &config.Settings{StateDir: filepath.Join(dir, "state"), TargetBagGB: 40, Compress: "zstd", Progress: progress}
			if err := st.Finish(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := scan.Run(context.Background(), nil, io.Discard, io.Discard, scan.Options{Settings: st, ListFile: list}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(tree.Files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
