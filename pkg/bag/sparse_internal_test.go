package bag

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A file with more data regions than the cap is stored as an ordinary
// entry, holes as zeros.
func TestSparseRegionCap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "many")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1 << 20)
	for i := int64(0); i < 4; i++ {
		f.WriteAt([]byte("data"), i*256<<10)
	}
	f.Sync()
	if regs := dataRegions(f, 1<<20); len(regs) != 5 || regs[4] != (region{1 << 20, 0}) {
		t.Fatalf("regions %v, want 4 data regions and the final (size, 0)", regs)
	}
	if off, _ := f.Seek(0, io.SeekCurrent); off != 0 {
		t.Fatalf("dataRegions left the offset at %d", off)
	}
	f.Close()

	defer func(n int) { maxSparseRegions = n }(maxSparseRegions)
	maxSparseRegions = 3
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, None)
	info, _ := os.Lstat(p)
	e, _, warn, err := w.Add(p, info)
	if err != nil || warn != nil || e.Sparse {
		t.Fatalf("Add past the cap: sparse=%v warn=%v err=%v", e.Sparse, warn, err)
	}
	w.Close()
	tr := tar.NewReader(&buf)
	hdr, _ := tr.Next()
	got, _ := io.ReadAll(tr)
	want, _ := os.ReadFile(p)
	if hdr.Size != 1<<20 || !bytes.Equal(got, want) {
		t.Fatalf("ordinary entry holds %d bytes", len(got))
	}
}

// A PAX record's length counts its own digits, also where adding them
// adds a digit.
func TestAppendPAXRecord(t *testing.T) {
	for n := 0; n < 1100; n++ {
		r := string(appendPAXRecord(nil, "k", strings.Repeat("v", n)))
		sp := strings.IndexByte(r, ' ')
		l, err := strconv.Atoi(r[:sp])
		if err != nil || l != len(r) {
			t.Fatalf("value of %d bytes: record %q says %d, is %d", n, r[:min(len(r), 12)], l, len(r))
		}
	}
}

func TestSplitUSTAR(t *testing.T) {
	long := strings.Repeat("d", 150)
	for _, tc := range []struct{ name, prefix, n string }{
		{"a/b", "", "a/b"},
		{long + "/GNUSparseFile.0/f", long, "GNUSparseFile.0/f"},
		{long + "/" + long, "", strings.Repeat("d", 100)},
		{long + "/x/" + strings.Repeat("e", 99), long + "/x", strings.Repeat("e", 99)},
	} {
		p, n := splitUSTAR(tc.name)
		if p != tc.prefix || n != tc.n || len(p) > 155 || len(n) > 100 {
			t.Errorf("splitUSTAR(%q) = %q, %q; want %q, %q", tc.name, p, n, tc.prefix, tc.n)
		}
	}
}
