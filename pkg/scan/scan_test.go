package scan_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gbarchive/gb/internal/testtree"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/scan"
)

type atom struct {
	hash         string
	files, bytes int64
	parts        []records.Part
}

func runScan(t *testing.T, list string, target float64, jobs int) map[string]atom {
	t.Helper()
	st := &config.Settings{StateDir: t.TempDir(), TargetBagGB: target, Compress: "zstd"}
	if err := st.Finish(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := scan.Run(context.Background(), nil, &out, &errOut, scan.Options{Settings: st, ListFile: list, Jobs: jobs}); err != nil {
		t.Fatalf("scan: %v\n%s", err, errOut.String())
	}
	atoms := map[string]atom{}
	r := records.NewReader(&out, "scan")
	sawSummary := false
	if err := r.Each(func(l records.Line) error {
		switch l.Kind {
		case records.KindAtom:
			a, err := records.Decode[records.Atom](l)
			if err != nil {
				return err
			}
			k, err := a.ExactKey()
			if err != nil {
				return err
			}
			atoms[k] = atom{hash: a.Hash, files: a.Files, bytes: a.Bytes, parts: a.Parts}
		case records.KindScan:
			sum, err := records.Decode[records.ScanSummary](l)
			if err != nil {
				return err
			}
			if sum.Status != records.StatusOK {
				t.Errorf("scan summary status %q, want ok", sum.Status)
			}
			sawSummary = sum.Complete
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !sawSummary {
		t.Fatal("no complete scan summary")
	}
	return atoms
}

func setup(t *testing.T) (src, list string) {
	dir := t.TempDir()
	src = filepath.Join(dir, "src")
	if err := testtree.Make(src, 300000); err != nil {
		t.Fatal(err)
	}
	list = filepath.Join(dir, "list.txt")
	os.WriteFile(list, []byte(src+" ::MUTABLE\n"), 0o644)
	return src, list
}

// The hash depends on the tree, not on how many directories are read at once.
func TestHashIndependentOfConcurrency(t *testing.T) {
	_, list := setup(t)
	one := runScan(t, list, 40, 1)
	many := runScan(t, list, 40, 16)
	if len(one) != 5 {
		t.Fatalf("want 5 atoms, got %d", len(one))
	}
	for k, a := range one {
		if many[k].hash != a.hash || many[k].files != a.files || many[k].bytes != a.bytes {
			t.Fatalf("%s: jobs=1 %+v, jobs=16 %+v", k, a, many[k])
		}
	}
}

// Every kind of metadata change makes exactly the touched atom dirty.
func TestHashSeesEveryChange(t *testing.T) {
	cases := []struct {
		name   string
		atom   string
		change func(src string) error
	}{
		{"mtime", "docs", func(s string) error {
			t1 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
			return os.Chtimes(filepath.Join(s, "docs/script.sh"), t1, t1)
		}},
		{"mode", "docs", func(s string) error { return os.Chmod(filepath.Join(s, "docs/script.sh"), 0o700) }},
		{"size", "media", func(s string) error {
			return os.WriteFile(filepath.Join(s, "media/small-1.txt"), []byte("different length"), 0o644)
		}},
		{"rename", "docs", func(s string) error {
			return os.Rename(filepath.Join(s, "docs/readonly.txt"), filepath.Join(s, "docs/readonly2.txt"))
		}},
		{"symlink target", "docs", func(s string) error {
			p := filepath.Join(s, "docs/rel-link")
			os.Remove(p)
			return os.Symlink("script.sh", p)
		}},
		{"new file deep down", "deep", func(s string) error {
			matches, _ := filepath.Glob(filepath.Join(s, "deep/*/*/*"))
			return os.WriteFile(filepath.Join(matches[0], "new"), nil, 0o644)
		}},
		{"loose file", "", func(s string) error { return os.WriteFile(filepath.Join(s, "loose 1.txt"), []byte("x"), 0o644) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, list := setup(t)
			before := runScan(t, list, 40, 0)
			if err := tc.change(src); err != nil {
				t.Fatal(err)
			}
			after := runScan(t, list, 40, 0)
			for k, a := range before {
				want := src + "/" + tc.atom
				changed := after[k].hash != a.hash
				if (k == want) != changed {
					t.Errorf("%s: changed=%v, want changed only for %s", k, changed, want)
				}
			}
		})
	}
}

// Split points cut an atom larger than the target into parts of at most
// the target, except a single larger file, and cover every file once.
func TestSplitPoints(t *testing.T) {
	src, list := setup(t)
	for i := 0; i < 30; i++ {
		os.WriteFile(filepath.Join(src, "media", fmt.Sprintf("f%02d", i)), bytes.Repeat([]byte{'x'}, 40000), 0o644)
	}
	atoms := runScan(t, list, 0.0001, 0) // 100 kB
	m := atoms[src+"/media"]
	if len(m.parts) < 3 {
		t.Fatalf("want several parts, got %v", m.parts)
	}
	var files, bytes int64
	for i, p := range m.parts {
		files += p.Files
		bytes += p.Bytes
		if p.Bytes > 100000 && p.Files != 1 {
			t.Errorf("part %d holds %d bytes in %d files", i, p.Bytes, p.Files)
		}
	}
	if files != m.files || bytes != m.bytes {
		t.Fatalf("parts hold %d files/%d bytes, atom %d/%d", files, bytes, m.files, m.bytes)
	}
	if first := m.parts[0].From; first != src+"/media/big.bin" {
		t.Fatalf("first part starts at %s", first)
	}
}
