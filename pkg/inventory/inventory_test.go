package inventory_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/inventory"
)

var t0 = time.Date(2027, 1, 15, 2, 0, 0, 0, time.UTC)

func sample() *inventory.Inventory {
	inv := inventory.New()
	inv.NextBag = 4
	inv.Bags["bag_000001"] = &inventory.Bag{Key: "2027-backup/home-me-Books_bag_000001.tar.zst", Source: "/home/me/Books", Bytes: 123,
		SHA256: strings.Repeat("ab", 32), StorageClass: "DEEP_ARCHIVE", UploadedAt: t0, Compress: "zstd", Files: 3,
		Atoms: []string{"/home/me/Books/a", "/home/me/Books/"}, ManifestKey: "2027-backup/manifests/bag_000001.ndjson"}
	inv.Bags["bag_000003"] = &inventory.Bag{Key: "k3", Source: "/home/me/Photos", Bytes: 9, UploadedAt: t0.Add(time.Hour),
		Atoms: []string{inventory.KeyOf("/home/me/Photos/\xff")}, RetiredAt: t0.Add(48 * time.Hour)}
	inv.Atoms["/home/me/Books/a"] = &inventory.Atom{Source: "/home/me/Books", Type: "dir", LastMetadataHash: "h1", TarID: "bag_000001",
		ArchiveKey: "2027-backup/home-me-Books_bag_000001.tar.zst", Bags: []string{"bag_000001"}, Pinned: true, Files: 2, Bytes: 100,
		FirstSeen: t0, LastSeen: t0.Add(time.Minute), PackedAt: t0}
	inv.Atoms["/home/me/Books/"] = &inventory.Atom{Source: "/home/me/Books", Type: "loose", LastMetadataHash: "h2", Bags: []string{"bag_000001"}, Incomplete: true}
	inv.Atoms[inventory.KeyOf("/home/me/Photos/\xff")] = &inventory.Atom{Source: "/home/me/Photos", Type: "dir", Bags: []string{"bag_000003"}}
	inv.Sources["/home/me/Books"] = &inventory.Source{Mode: "MUTABLE", FirstSeen: t0, LastSeen: t0}
	inv.Sources["/home/me/Photos"] = &inventory.Source{Mode: "IMMUTABLE", Encrypt: false}
	inv.Runs = append(inv.Runs, inventory.Run{At: t0, DryRun: true, BagsAdded: 2, BytesAdded: 132, AtomsPacked: 3, AtomsKept: 1, Forgotten: 1, Pending: 2})
	return inv
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "inventory.json")
	inv := sample()
	if err := inv.Save(p); err != nil {
		t.Fatal(err)
	}
	got, err := inventory.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, inv) {
		a, _ := got.Marshal()
		b, _ := inv.Marshal()
		t.Fatalf("round trip differs:\n%s\nwant\n%s", a, b)
	}
	// Saving what was loaded gives the same bytes.
	first, _ := os.ReadFile(p)
	if err := got.Save(p); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(p)
	if !bytes.Equal(first, second) {
		t.Error("re-saving a loaded inventory changed the file")
	}
	if !bytes.HasSuffix(first, []byte("}\n")) || !bytes.Contains(first, []byte("\n  \"atoms\": {")) {
		t.Errorf("file is not indented JSON with a final newline:\n%s", first)
	}
	// Seed field names are kept.
	for _, f := range []string{`"last_metadata_hash"`, `"tar_id"`, `"archive_key"`, `"pinned"`, `"next_bag"`} {
		if !bytes.Contains(first, []byte(f)) {
			t.Errorf("file lacks %s", f)
		}
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("inventory mode %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestLoadMissingIsEmpty(t *testing.T) {
	inv, err := inventory.Load(filepath.Join(t.TempDir(), "none.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(inv, inventory.New()) {
		t.Errorf("missing file gave %+v", inv)
	}
	if inv.NextBag != 1 || inv.Version != inventory.Version || inv.Atoms == nil || inv.Bags == nil || inv.Sources == nil {
		t.Errorf("New() = %+v", inv)
	}
}

func TestLoadUnreadable(t *testing.T) {
	// A directory where the file should be is a read error, not an empty inventory.
	if _, err := inventory.Load(t.TempDir()); err == nil {
		t.Fatal("no error reading a directory")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		line int    // 0: error not tied to a line
		msg  string // substring
	}{
		{
			name: "syntax error in the middle",
			doc:  "{\n  \"version\": 1,\n  \"next_bag\": 3,\n  \"atoms\": {\n    \"/a\": {\"source\": \"/s\",}\n  },\n  \"bags\": {}\n}\n",
			line: 5, msg: "invalid character",
		},
		{
			name: "missing colon",
			doc:  "{\n\"version\": 1,\n\"next_bag\" 3\n}\n",
			line: 3, msg: "after object key",
		},
		{
			name: "truncated file",
			doc:  "{\n  \"version\": 1,\n  \"atoms\": {\n",
			line: 3, msg: "unexpected EOF",
		},
		{
			name: "unknown top-level field",
			doc:  "{\n  \"version\": 1,\n  \"bogus\": 2,\n  \"atoms\": {},\n  \"bags\": {}\n}\n",
			line: 3, msg: `unknown field "bogus"`,
		},
		{
			name: "unknown field in an atom",
			doc:  "{\n  \"version\": 1,\n  \"atoms\": {\n    \"/s/a\": {\n      \"source\": \"/s\",\n      \"colour\": \"red\"\n    }\n  },\n  \"bags\": {}\n}\n",
			line: 6, msg: `unknown field "colour"`,
		},
		{
			name: "field known elsewhere is unknown in an atom",
			doc:  "{\n  \"bags\": {\n    \"bag_000001\": {\"key\": \"k\"}\n  },\n  \"atoms\": {\n    \"/s/a\": {\n      \"key\": \"k\"\n    }\n  }\n}\n",
			line: 7, msg: `unknown field "key"`,
		},
		{
			name: "map key that looks like a field",
			doc:  "{\n  \"atoms\": {\n    \"source\": {}\n  },\n  \"runs\": [\n    {\"at\": \"2027-01-01T00:00:00Z\"},\n    {\"source\": 1}\n  ]\n}\n",
			line: 7, msg: `unknown field "source"`,
		},
		{
			name: "type error",
			doc:  "{\n  \"version\": 1,\n  \"next_bag\": \"three\",\n  \"atoms\": {}\n}\n",
			line: 3, msg: "cannot unmarshal string",
		},
		{
			name: "type error in a bag",
			doc:  "{\n  \"bags\": {\n    \"bag_000001\": {\n      \"key\": \"k\",\n      \"bytes\": \"big\"\n    }\n  }\n}\n",
			line: 5, msg: "cannot unmarshal",
		},
		{
			name: "bad time",
			doc:  "{\n  \"runs\": [\n    {\"at\": \"yesterday\"}\n  ]\n}\n",
			line: 3, msg: "not a valid inventory",
		},
		{
			name: "not an object",
			doc:  "[]\n",
			line: 1, msg: "cannot unmarshal array",
		},
		{name: "empty file", doc: "", line: 1, msg: "empty file"},
		{name: "only spaces", doc: "\n\n  \n", line: 1, msg: "empty file"},
		{
			name: "data after the object",
			doc:  "{\"version\": 1}\n\n{\"version\": 1}\n",
			line: 3, msg: "data after the JSON object",
		},
		{
			name: "newer version",
			doc:  "{\"version\": 2}\n",
			msg:  "inventory version 2 is newer",
		},
		{
			name: "atom refers to a missing bag",
			doc:  "{\n\"atoms\": {\"/s/a\": {\"bags\": [\"bag_000001\", \"bag_000002\"]}},\n\"bags\": {\"bag_000001\": {\"key\": \"k\"}}\n}\n",
			msg:  `atom "/s/a" refers to bag bag_000002, which the inventory does not have`,
		},
		{
			name: "null atom",
			doc:  "{\"atoms\": {\"/s/a\": null}}\n",
			msg:  `atom "/s/a" is null`,
		},
		{
			name: "null bag",
			doc:  "{\"bags\": {\"bag_000001\": null}}\n",
			msg:  `bag "bag_000001" is null`,
		},
		{
			name: "bad bag id",
			doc:  "{\"bags\": {\"tar_000001\": {\"key\": \"k\"}}}\n",
			msg:  `bad bag id "tar_000001"`,
		},
		{
			name: "bag id with trailing garbage",
			doc:  "{\"bags\": {\"bag_000001.old\": {\"key\": \"k\"}}}\n",
			msg:  `bad bag id "bag_000001.old"`,
		},
		{
			name: "bag zero",
			doc:  "{\"bags\": {\"bag_000000\": {}}}\n",
			msg:  `bad bag id "bag_000000"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := inventory.Parse("inventory.json", []byte(tt.doc))
			if err == nil {
				t.Fatalf("no error; got %+v", inv)
			}
			var ie *inventory.Error
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want *inventory.Error", err, err)
			}
			if ie.File != "inventory.json" || ie.Line != tt.line {
				t.Errorf("error at %s:%d, want inventory.json:%d (%v)", ie.File, ie.Line, tt.line, err)
			}
			if !strings.Contains(ie.Msg, tt.msg) {
				t.Errorf("message %q does not contain %q", ie.Msg, tt.msg)
			}
			if ie.HintText() == "" {
				t.Error("no hint")
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	if got := (&inventory.Error{File: "f", Line: 3, Msg: "m"}).Error(); got != "f:3: m" {
		t.Errorf("got %q", got)
	}
	if got := (&inventory.Error{File: "f", Msg: "m"}).Error(); got != "f: m" {
		t.Errorf("got %q", got)
	}
}

func TestParseNextBag(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want int
	}{
		{"empty object", `{}`, 1},
		{"kept when above bags", `{"next_bag": 20, "bags": {"bag_000007": {}}}`, 20},
		{"raised above the highest bag", `{"next_bag": 3, "bags": {"bag_000002": {}, "bag_000007": {}, "bag_000005": {}}}`, 8},
		{"equal to a bag", `{"next_bag": 7, "bags": {"bag_000007": {}}}`, 8},
		{"missing", `{"bags": {"bag_000041": {}}}`, 42},
		{"zero", `{"next_bag": 0}`, 1},
		{"negative", `{"next_bag": -5}`, 1},
		{"seven digits", `{"next_bag": 1, "bags": {"bag_1000000": {}}}`, 1000001},
		{"unpadded id", `{"bags": {"bag_12": {}}}`, 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := inventory.Parse("x", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if inv.NextBag != tt.want {
				t.Errorf("NextBag = %d, want %d", inv.NextBag, tt.want)
			}
			if inv.Atoms == nil || inv.Bags == nil || inv.Sources == nil {
				t.Error("nil maps after Parse")
			}
		})
	}
}

func TestParseFieldNamesFoldCase(t *testing.T) {
	// encoding/json matches field names without regard to case; the
	// unknown-field search must agree and not flag these.
	inv, err := inventory.Parse("x", []byte(`{"Version":1,"NEXT_BAG":5,"Atoms":{"/s/a":{"Source":"/s","Bags":[]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if inv.NextBag != 5 || inv.Atoms["/s/a"] == nil || inv.Atoms["/s/a"].Source != "/s" {
		t.Errorf("parsed %+v", inv)
	}
	_, err = inventory.Parse("x", []byte("{\n\"Version\": 1,\n\"Atoms\": {\"/s/a\": {\"Source\": \"/s\"}},\n\"runs\": [{\"At\": \"2027-01-01T00:00:00Z\", \"bags\": 1}]\n}"))
	var ie *inventory.Error
	if !errors.As(err, &ie) || ie.Line != 4 || !strings.Contains(ie.Msg, `unknown field "bags"`) {
		t.Errorf("unknown field in a run: %v", err)
	}
}

func TestParseNullMaps(t *testing.T) {
	inv, err := inventory.Parse("x", []byte(`{"version":1,"atoms":null,"bags":null,"sources":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Atoms == nil || inv.Bags == nil || inv.Sources == nil {
		t.Error("null maps are not replaced by empty ones")
	}
}

func TestBagID(t *testing.T) {
	for _, n := range []int{1, 2, 42, 999999, 1000000, 12345678} {
		id := inventory.BagID(n)
		got, err := inventory.ParseBagID(id)
		if err != nil || got != n {
			t.Errorf("ParseBagID(BagID(%d) = %q) = %d, %v", n, id, got, err)
		}
	}
	if got := inventory.BagID(42); got != "bag_000042" {
		t.Errorf("BagID(42) = %q", got)
	}
	good := map[string]int{"bag_000001": 1, "bag_1": 1, "bag_0000042": 42}
	for id, want := range good {
		if got, err := inventory.ParseBagID(id); err != nil || got != want {
			t.Errorf("ParseBagID(%q) = %d, %v; want %d", id, got, err, want)
		}
	}
	for _, id := range []string{"", "bag_", "bag_0", "bag_000000", "bag_-1", "bag_+1", "bag_ 1", "bag_1x", "bag_000001.tar",
		"bag_1 ", "Bag_000001", "tar_000001", "xbag_000001", "bag_0x10", "bag_99999999999999999999999"} {
		if n, err := inventory.ParseBagID(id); err == nil {
			t.Errorf("ParseBagID(%q) = %d, want an error", id, n)
		}
	}
}

func TestReferencedAndSortedBagIDs(t *testing.T) {
	inv := sample()
	inv.Bags["bag_000002"] = &inventory.Bag{Key: "k2"}
	ref := inv.Referenced()
	if !ref["bag_000001"] || !ref["bag_000003"] || ref["bag_000002"] || len(ref) != 2 {
		t.Errorf("Referenced() = %v", ref)
	}
	if got := inv.SortedBagIDs(); !slices.Equal(got, []string{"bag_000001", "bag_000002", "bag_000003"}) {
		t.Errorf("SortedBagIDs() = %v", got)
	}
	if got := inventory.New().SortedBagIDs(); len(got) != 0 {
		t.Errorf("empty SortedBagIDs() = %v", got)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "new", "deeper", "f.json")
	if err := inventory.WriteFileAtomic(p, []byte("one"), 0o640); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("content %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode())
	}
	if err := inventory.WriteFileAtomic(p, []byte("two, longer"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two, longer" {
		t.Errorf("content after replace %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after replace %v, want 0600", fi.Mode())
	}
	if names := dirNames(t, filepath.Dir(p)); !slices.Equal(names, []string{"f.json"}) {
		t.Errorf("directory holds %q, want only f.json", names)
	}
	if err := inventory.WriteFileAtomic(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil || len(b) != 0 {
		t.Errorf("empty write: %q, %v", b, err)
	}
}

func TestWriteFileAtomicFailureLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	// The target is a non-empty directory: the rename fails.
	target := filepath.Join(dir, "target")
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := inventory.WriteFileAtomic(target, []byte("data"), 0o600); err == nil {
		t.Fatal("replacing a directory succeeded")
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"target"}) {
		t.Errorf("after a failed write the directory holds %q", names)
	}
}

func TestBackupDaily(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.json")
	bak := filepath.Join(dir, "invbak")

	// No inventory yet: nothing to back up.
	if dst, err := inventory.BackupDaily(inv, bak, t0); err != nil || dst != "" {
		t.Fatalf("no inventory: %q, %v", dst, err)
	}
	if _, err := os.Stat(bak); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("backup dir created without an inventory: %v", err)
	}

	write := func(s string) {
		if err := inventory.WriteFileAtomic(inv, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("v1")
	dst, err := inventory.BackupDaily(inv, bak, t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(bak, "inventory-2027-01-15.json"); dst != want {
		t.Errorf("backup at %q, want %q", dst, want)
	}
	// Later the same day: the first copy of the day stays.
	write("v2")
	for _, at := range []time.Time{t0.Add(time.Hour), t0.Add(21*time.Hour + 59*time.Minute)} {
		dst, err := inventory.BackupDaily(inv, bak, at)
		if err != nil || dst != "" {
			t.Errorf("second backup at %v: %q, %v; want none", at, dst, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(bak, "inventory-2027-01-15.json")); string(b) != "v1" {
		t.Errorf("today's backup holds %q, want v1", b)
	}
	// The next day gets its own copy.
	dst, err = inventory.BackupDaily(inv, bak, t0.Add(24*time.Hour))
	if err != nil || dst != filepath.Join(bak, "inventory-2027-01-16.json") {
		t.Fatalf("next day: %q, %v", dst, err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "v2" {
		t.Errorf("next day's backup holds %q", b)
	}
	if names := dirNames(t, bak); !slices.Equal(names, []string{"inventory-2027-01-15.json", "inventory-2027-01-16.json"}) {
		t.Errorf("backup dir holds %q", names)
	}
}

func TestAcquire(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state", "inventory.json")
	l1, err := inventory.Acquire(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p + ".lock"); err != nil {
		t.Errorf("lock file: %v", err)
	}
	// A second open file description conflicts with the first: flock
	// locks belong to the open file, not the process.
	start := time.Now()
	l2, err := inventory.Acquire(p)
	if err == nil {
		l2.Release()
		t.Fatal("second Acquire succeeded while the lock is held")
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Acquire waited %v; it must fail at once", time.Since(start))
	}
	if !strings.Contains(err.Error(), "locked by another gb-commit") || !strings.Contains(err.Error(), p+".lock") {
		t.Errorf("error %q does not say who holds the lock and where", err)
	}
	l1.Release()
	l1.Release() // twice is harmless
	l3, err := inventory.Acquire(p)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l3.Release()
	var nilLock *inventory.Lock
	nilLock.Release()
}

func TestKeyOfPathOf(t *testing.T) {
	tests := []struct {
		path string
		key  string // "" when the key is "b64:"-prefixed
	}{
		{"/home/me/Books/a", "/home/me/Books/a"},
		{"/home/me/Books/", "/home/me/Books/"},
		{"/a b\nc\t\\", "/a b\nc\t\\"},
		{"/Bücher", "/Bücher"},
		{"/a\uFFFD", "/a\uFFFD"},
		{"/B\xfccher", ""},
		{"/\xff\xfe/", ""},
		{"/x/\xed\xa0\x80", ""},
	}
	for _, tt := range tests {
		k := inventory.KeyOf(tt.path)
		if tt.key != "" && k != tt.key {
			t.Errorf("KeyOf(%q) = %q, want %q", tt.path, k, tt.key)
		}
		if tt.key == "" && !strings.HasPrefix(k, "b64:") {
			t.Errorf("KeyOf(%q) = %q, want a b64: key", tt.path, k)
		}
		if got := inventory.PathOf(k); got != tt.path {
			t.Errorf("PathOf(KeyOf(%q)) = %q", tt.path, got)
		}
	}
	// A b64 key that does not decode is taken as it is.
	if got := inventory.PathOf("b64:!!"); got != "b64:!!" {
		t.Errorf("PathOf(bad) = %q", got)
	}
}

// Invalid UTF-8 atom paths survive Save and Load through their keys.
func TestInvalidUTF8KeysSurviveSave(t *testing.T) {
	p := filepath.Join(t.TempDir(), "inventory.json")
	inv := sample()
	if err := inv.Save(p); err != nil {
		t.Fatal(err)
	}
	got, err := inventory.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for k := range got.Atoms {
		if inventory.PathOf(k) == "/home/me/Photos/\xff" {
			found = true
		}
	}
	if !found {
		t.Errorf("atom with an invalid UTF-8 path lost: %v", got.Atoms)
	}
}
