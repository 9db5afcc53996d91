package find

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/exitcode"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/store"
)

// The benchmark's manifests: GB_FIND_BENCH_LINES entries (default one
// million) in GB_FIND_BENCH_MANIFESTS manifests (default 200), made once
// per process in a temporary directory removed by TestMain.
var (
	benchOnce  sync.Once
	benchDir   string
	benchErr   error
	benchFiles []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchData writes manifests shaped like real ones (about 250 bytes a
// line): every 100th file a .pdf, and one tax-return-2024.pdf in every
// 50th manifest. All bags are current.
func benchData(b *testing.B) (*config.Settings, []string) {
	benchOnce.Do(func() {
		lines := envInt("GB_FIND_BENCH_LINES", 1_000_000)
		nman := envInt("GB_FIND_BENCH_MANIFESTS", 200)
		benchDir, benchErr = os.MkdirTemp("", "gb-find-bench-")
		if benchErr != nil {
			return
		}
		mdir := filepath.Join(benchDir, "manifests")
		if benchErr = os.MkdirAll(mdir, 0o755); benchErr != nil {
			return
		}
		inv := inventory.New()
		per := lines / nman
		for i := 1; i <= nman; i++ {
			id := inventory.BagID(i)
			key := fmt.Sprintf("2026-backup/home-me_%s.tar.zst", id)
			file := filepath.Join(mdir, manifest.FileName(key))
			benchFiles = append(benchFiles, file)
			f, err := os.Create(file)
			if err != nil {
				benchErr = err
				return
			}
			w := bufio.NewWriter(f)
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			enc.Encode(manifest.Header{Kind: manifest.KindHeader, Bag: id, Key: key, Source: "/home/me", CreatedAt: t0, Layers: []string{"tar", "zstd"}, Open: "zstd -d"})
			var atoms []string
			for j := range per {
				atom := fmt.Sprintf("/home/me/Projects/proj-%04d", i*10+j/(per/10+1))
				if len(atoms) == 0 || atoms[len(atoms)-1] != atom {
					atoms = append(atoms, atom)
					inv.Atoms[atom] = &inventory.Atom{Source: "/home/me", Bags: []string{id}, TarID: id, ArchiveKey: key}
				}
				name := fmt.Sprintf("file-%06d.txt", j)
				switch {
				case j == per/2 && i%50 == 0:
					name = "tax-return-2024.pdf"
				case j%100 == 0:
					name = fmt.Sprintf("scan-%06d.pdf", j)
				}
				enc.Encode(manifest.Entry{Kind: manifest.KindFile, Path: fmt.Sprintf("%s/sub-%02d/%s", atom, j%37, name), Type: "file", Size: int64(j * 37),
					Mtime: t0.Add(time.Duration(j) * time.Second).Format(time.RFC3339Nano), Mode: "0644", SHA256: fmt.Sprintf("%064x", j*7919+i), Atom: atom})
			}
			enc.Encode(manifest.End{Kind: manifest.KindEnd, Files: int64(per)})
			if err := w.Flush(); err != nil {
				benchErr = err
				return
			}
			if benchErr = f.Close(); benchErr != nil {
				return
			}
			inv.Bags[id] = &inventory.Bag{Key: key, Source: "/home/me", StorageClass: store.DeepArchive, Atoms: atoms}
		}
		benchErr = inv.Save(filepath.Join(benchDir, "inventory.json"))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return &config.Settings{ManifestDir: filepath.Join(benchDir, "manifests"), InventoryFile: filepath.Join(benchDir, "inventory.json")}, benchFiles
}

// BenchmarkFindVsGrep times gb-find's search (Run, in process, output
// discarded) and, in the same loop, `LC_ALL=C grep -F` over the same
// manifests (output read from a pipe and discarded), and reports grep's time per run and
// the ratio gb-find/grep ("x-grep").
//
//	go test -run '^$' -bench FindVsGrep -benchtime 5x ./pkg/find/
func BenchmarkFindVsGrep(b *testing.B) {
	grep, err := exec.LookPath("grep")
	if err != nil {
		b.Skip("no grep")
	}
	cases := []struct {
		name string
		opts Options
		grep []string
	}{
		// A name found in a few bags: what a person does most.
		{"name", Options{Pattern: "tax-return-2024.pdf"}, []string{"-F", `/tax-return-2024.pdf"`}},
		// The same on one CPU, as grep runs.
		{"name-1worker", Options{Pattern: "tax-return-2024.pdf", Workers: 1}, []string{"-F", `/tax-return-2024.pdf"`}},
		// 1% of all lines match: output costs.
		{"glob-1pct", Options{Pattern: "*.pdf"}, []string{"-F", `.pdf"`}},
		// Case folded.
		{"ignore-case", Options{Pattern: "TAX-RETURN-2024.PDF", IgnoreCase: true}, []string{"-iF", `/tax-return-2024.pdf"`}},
		// A regular expression on the path.
		{"regex", Options{Pattern: `/sub-[0-9]+/tax-return-20[0-9]{2}\.pdf$`, Regex: true}, []string{"-E", `/sub-[0-9]+/tax-return-20[0-9]{2}\.pdf"`}},
		// A regular expression with no literal to rule lines out by:
		// every line is decoded, and none matches.
		{"no-literal", Options{Pattern: `[0-9]{7}`, Regex: true}, []string{"-E", `"path":"[^"]*[0-9]{7}`}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			st, files := benchData(b)
			runGrep := func() time.Duration {
				cmd := exec.Command(grep, append(append(append([]string(nil), c.grep...), "-h", "--"), files...)...)
				cmd.Env = append(os.Environ(), "LC_ALL=C")
				// A pipe, not /dev/null: GNU grep stops at the first match
				// when it sees its output is /dev/null.
				cmd.Stdout = io.Discard
				start := time.Now()
				var ee *exec.ExitError
				if err := cmd.Run(); err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) { // 1: no match
					b.Fatalf("grep: %v", err)
				}
				return time.Since(start)
			}
			opts := c.opts
			opts.Settings = st
			run := func() {
				if err := Run(context.Background(), nil, io.Discard, io.Discard, opts); err != nil && !errors.Is(err, exitcode.Error{Code: exitcode.NoMatch}) {
					b.Fatal(err)
				}
			}
			run() // warm the page cache for both
			runGrep()
			var grepTime time.Duration
			b.ResetTimer()
			for range b.N {
				run()
				b.StopTimer()
				grepTime += runGrep()
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(grepTime.Nanoseconds())/float64(b.N), "grep-ns/op")
			b.ReportMetric(float64(b.Elapsed())/float64(grepTime), "x-grep")
		})
	}
}
