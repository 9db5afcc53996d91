package find

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/exitcode"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/keys"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
	"github.com/tidwall/gjson"
)

var t0 = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// manifestBytes is a manifest as gb-pack writes it.
func manifestBytes(t testing.TB, bag, key, source string, enc bool, paths []string, atoms []string, end bool) []byte {
	var b bytes.Buffer
	w := json.NewEncoder(&b)
	w.SetEscapeHTML(false)
	h := manifest.Header{Kind: manifest.KindHeader, Bag: bag, Key: key, Source: source, CreatedAt: t0, Layers: []string{"tar", "zstd"}, Open: "zstd -d"}
	if enc {
		h.Layers = append(h.Layers, "age")
		h.Encryption = &manifest.Encryption{Scheme: keys.X25519, Recipients: []string{"age1x"}, Keys: "age-x25519:0"}
	}
	must(t, w.Encode(h))
	for i, p := range paths {
		d, b64 := records.EncodePath(p)
		ad, ab := records.EncodePath(atoms[i])
		e := manifest.Entry{Kind: manifest.KindFile, Path: d, PathB64: b64, Type: "file", Size: int64(1000 * (i + 1)),
			Mtime: t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339Nano), Mode: "0644", SHA256: fmt.Sprintf("%064x", i), Atom: ad, AtomB64: ab}
		if strings.HasSuffix(p, "/") {
			e.Path, e.Type, e.Size, e.SHA256 = strings.TrimSuffix(d, "/"), "dir", 0, ""
		}
		must(t, w.Encode(e))
	}
	if end {
		must(t, w.Encode(manifest.End{Kind: manifest.KindEnd, Files: int64(len(paths))}))
	}
	return b.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fixture is a state directory with manifests and an inventory:
//
//	bag_000001  retired: the old copy of /src/docs/taxes
//	bag_000002  /src/docs/taxes (current), /src/docs/photos (moved on to
//	            bag_000003: superseded) and /src/docs/old (forgotten)
//	bag_000003  /src/docs/photos: a name that is not UTF-8, a line over
//	            64 KiB, names JSON escapes
//	bag_000004  encrypted, /src/vault
//	bag_000009  not in the inventory
type fixture struct {
	dir  string
	st   *config.Settings
	long string
}

func newFixture(t testing.TB) *fixture {
	dir := t.TempDir()
	f := &fixture{dir: dir, st: &config.Settings{ManifestDir: filepath.Join(dir, "manifests"), InventoryFile: filepath.Join(dir, "inventory.json")}}
	must(t, os.MkdirAll(f.st.ManifestDir, 0o755))
	f.long = "/src/docs/photos/" + strings.Repeat("long/", 14000) + "deep.jpg" // a 70 kB line
	key := func(id string) string { return "2026-backup/src-docs_" + id + ".tar.zst" }
	put := func(id, source string, enc bool, paths, atoms []string) {
		k := key(id)
		if enc {
			k = "2026-backup/encrypted_" + id + ".tar.zst.age"
		}
		must(t, os.WriteFile(filepath.Join(f.st.ManifestDir, manifest.FileName(k)), manifestBytes(t, id, k, source, enc, paths, atoms, true), 0o644))
	}
	put("bag_000001", "/src/docs", false, []string{"/src/docs/taxes/", "/src/docs/taxes/2024.pdf"}, []string{"/src/docs/taxes", "/src/docs/taxes"})
	put("bag_000002", "/src/docs", false,
		[]string{"/src/docs/taxes/2024.pdf", "/src/docs/photos/2024.pdf", "/src/docs/old/2024.pdf", "/src/docs/taxes/notes.txt"},
		[]string{"/src/docs/taxes", "/src/docs/photos", "/src/docs/old", "/src/docs/taxes"})
	put("bag_000003", "/src/docs", false,
		[]string{"/src/docs/photos/bad\xff\xfe.jpg", f.long, "/src/docs/photos/say \"cheese\".jpg", "/src/docs/photos/new\nline.jpg", "/src/docs/photos/2024.pdf"},
		[]string{"/src/docs/photos", "/src/docs/photos", "/src/docs/photos", "/src/docs/photos", "/src/docs/photos"})
	put("bag_000004", "/src/vault", true, []string{"/src/vault/2024.pdf"}, []string{"/src/vault"})
	put("bag_000009", "/src/docs", false, []string{"/src/docs/taxes/2024.pdf"}, []string{"/src/docs/taxes"})

	inv := inventory.New()
	bag := func(id string, retired bool, atoms ...string) {
		b := &inventory.Bag{Key: key(id), Source: "/src/docs", StorageClass: store.DeepArchive, UploadedAt: t0, Atoms: atoms}
		if id == "bag_000004" {
			b.Key, b.Source, b.Encrypt = "2026-backup/encrypted_bag_000004.tar.zst.age", "/src/vault", true
		}
		if retired {
			b.RetiredAt = t0
		}
		inv.Bags[id] = b
	}
	bag("bag_000001", true)
	bag("bag_000002", false, "/src/docs/taxes", "/src/docs/photos", "/src/docs/old")
	bag("bag_000003", false, "/src/docs/photos")
	bag("bag_000004", false, "/src/vault")
	atom := func(key string, bags ...string) {
		inv.Atoms[key] = &inventory.Atom{Source: "/src/docs", Type: "dir", Bags: bags, TarID: bags[0], ArchiveKey: inv.Bags[bags[0]].Key}
	}
	atom("/src/docs/taxes", "bag_000002")
	atom("/src/docs/photos", "bag_000003")
	atom("/src/vault", "bag_000004")
	must(t, inv.Save(f.st.InventoryFile))
	return f
}

type result struct {
	out, errOut string
	err         error
	matches     []gjson.Result
}

func (f *fixture) run(t testing.TB, opts Options) result {
	t.Helper()
	opts.Settings = f.st
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	var out, errOut bytes.Buffer
	err := Run(context.Background(), nil, &out, &errOut, opts)
	r := result{out: out.String(), errOut: errOut.String(), err: err}
	if opts.Format != FormatText {
		for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
			if l != "" {
				if !gjson.Valid(l) {
					t.Fatalf("not JSON: %s", l)
				}
				r.matches = append(r.matches, gjson.Parse(l))
			}
		}
	}
	return r
}

// summary lists "bag path current reason" per match.
func (r result) summary() []string {
	var s []string
	for _, m := range r.matches {
		p, _ := records.DecodePath(m.Get("path").String(), m.Get("path_b64").String())
		if len(p) > 60 {
			p = p[:20] + "…" + p[len(p)-20:]
		}
		s = append(s, fmt.Sprintf("%s %q %v %s", m.Get("bag"), p, m.Get("current").Bool(), m.Get("reason")))
	}
	return s
}

func TestRunCurrentAndOlder(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name    string
		opts    Options
		want    []string
		code    int // exit code (exitcode.Of)
		summary string
	}{
		{
			name: "current only",
			opts: Options{Pattern: "2024.pdf"},
			want: []string{
				`bag_000002 "/src/docs/taxes/2024.pdf" true `,
				`bag_000003 "/src/docs/photos/2024.pdf" true `,
				`bag_000004 "/src/vault/2024.pdf" true `,
			},
			summary: "gb-find: 3 matches in 3 bags (5 manifests searched); 4 older matches in retired bags or superseded copies not shown (--all shows them)\n",
		},
		{
			name: "all",
			opts: Options{Pattern: "2024.pdf", All: true},
			want: []string{
				`bag_000001 "/src/docs/taxes/2024.pdf" false retired`,
				`bag_000002 "/src/docs/taxes/2024.pdf" true `,
				`bag_000002 "/src/docs/photos/2024.pdf" false superseded`,
				`bag_000002 "/src/docs/old/2024.pdf" false forgotten`,
				`bag_000003 "/src/docs/photos/2024.pdf" true `,
				`bag_000004 "/src/vault/2024.pdf" true `,
				`bag_000009 "/src/docs/taxes/2024.pdf" false not-in-inventory`,
			},
			summary: "gb-find: 7 matches in 5 bags, 4 of them not current (5 manifests searched)\n",
		},
		{
			name:    "no match",
			opts:    Options{Pattern: "2025.pdf"},
			code:    exitcode.NoMatch,
			summary: "gb-find: no matches (5 manifests searched)\n",
		},
		{
			name:    "only older matches",
			opts:    Options{Pattern: "/src/docs/old/*"},
			code:    exitcode.NoMatch,
			summary: "gb-find: no matches (5 manifests searched); 1 older match in retired bags or superseded copies not shown (--all shows them)\n",
		},
		{
			name: "a name that is not UTF-8, by its bytes",
			opts: Options{Pattern: "bad\xff*"},
			want: []string{`bag_000003 "/src/docs/photos/bad\xff\xfe.jpg" true `},
		},
		{
			name: "a line longer than 64 KiB",
			opts: Options{Pattern: "/src/docs/photos/**/deep.jpg"},
			want: []string{`bag_000003 "/src/docs/photos/lon…g/long/long/deep.jpg" true `},
		},
		{
			name: "names JSON escapes",
			opts: Options{Pattern: `say "cheese"*`},
			want: []string{`bag_000003 "/src/docs/photos/say \"cheese\".jpg" true `},
		},
		{
			name: "newline in a name, by regex",
			opts: Options{Pattern: `new\nline`, Regex: true},
			want: []string{`bag_000003 "/src/docs/photos/new\nline.jpg" true `},
		},
		{
			name: "ignore case, directories only",
			opts: Options{Pattern: "TAXES/", IgnoreCase: true, All: true},
			want: []string{`bag_000001 "/src/docs/taxes" false retired`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.run(t, tc.opts)
			if code, ok := exitcode.Of(r.err); !ok || code != tc.code {
				t.Fatalf("err = %v (exit %d), want exit %d; stderr:\n%s", r.err, code, tc.code, r.errOut)
			}
			if got := strings.Join(r.summary(), "\n"); got != strings.Join(tc.want, "\n") {
				t.Errorf("matches:\n%s\nwant:\n%s", got, strings.Join(tc.want, "\n"))
			}
			if tc.summary != "" && r.errOut != tc.summary {
				t.Errorf("stderr:\n%s\nwant:\n%s", r.errOut, tc.summary)
			}
		})
	}
}

func TestMatchRecord(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, Options{Pattern: "bad\xff\xfe.jpg"})
	if len(r.matches) != 1 {
		t.Fatalf("matches: %s", r.out)
	}
	m := r.matches[0]
	want := map[string]any{
		"kind": "match", "path": "/src/docs/photos/bad\uFFFD.jpg", "path_b64": "L3NyYy9kb2NzL3Bob3Rvcy9iYWT//i5qcGc=", "type": "file",
		"size": 1000.0, "mtime": "2026-03-01T02:00:00Z", "sha256": strings.Repeat("0", 64), "atom": "/src/docs/photos", "source": "/src/docs",
		"bag": "bag_000003", "key": "2026-backup/src-docs_bag_000003.tar.zst", "storage_class": "DEEP_ARCHIVE", "current": true,
		"manifest": filepath.Join(f.st.ManifestDir, "src-docs_bag_000003.manifest.ndjson"),
	}
	got := m.Value().(map[string]any)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected field %s = %v", k, got[k])
		}
	}
	r = f.run(t, Options{Pattern: "/src/vault/*"})
	if len(r.matches) != 1 || !r.matches[0].Get("encrypted").Bool() {
		t.Errorf("encrypted bag's match: %s", r.out)
	}
}

func TestTextFormat(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, Options{Pattern: "*.jpg", Format: FormatText, All: true})
	if r.err != nil {
		t.Fatal(r.err, r.errOut)
	}
	lines := strings.Split(strings.TrimSuffix(r.out, "\n"), "\n")
	want := []string{
		`2026-03-01 02:00    1.0 kB  $'/src/docs/photos/bad\xff\xfe.jpg'  [bag_000003 src-docs_bag_000003.tar.zst]`,
		`2026-03-01 02:01    2.0 kB  /src/docs/photos/long/`,
		`2026-03-01 02:02    3.0 kB  /src/docs/photos/say "cheese".jpg  [bag_000003 src-docs_bag_000003.tar.zst]`,
		`2026-03-01 02:03    4.0 kB  $'/src/docs/photos/new\nline.jpg'  [bag_000003 src-docs_bag_000003.tar.zst]`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(lines), r.out)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d:\n%.200s\nwant prefix:\n%s", i, lines[i], want[i])
		}
	}
}

// Whatever the number of workers, the output is the same: manifests in
// bag order, entries in manifest order.
func TestParallelDeterminism(t *testing.T) {
	dir := t.TempDir()
	st := &config.Settings{ManifestDir: filepath.Join(dir, "m"), InventoryFile: filepath.Join(dir, "inventory.json")}
	must(t, os.MkdirAll(st.ManifestDir, 0o755))
	inv := inventory.New()
	const bags, files = 40, 700  // several batches per manifest
	for i := bags; i >= 1; i-- { // written in reverse, named so that name order is not bag order
		id := inventory.BagID(i * 7 % 101)
		key := fmt.Sprintf("2026-backup/%c-src_%s.tar.zst", 'z'-rune(i%26), id)
		atom := fmt.Sprintf("/src/a%d", i)
		var paths, atoms []string
		for j := range files {
			paths = append(paths, fmt.Sprintf("%s/f%04d.txt", atom, j))
			atoms = append(atoms, atom)
		}
		must(t, os.WriteFile(filepath.Join(st.ManifestDir, manifest.FileName(key)), manifestBytes(t, id, key, "/src", false, paths, atoms, true), 0o644))
		inv.Bags[id] = &inventory.Bag{Key: key, Source: "/src", StorageClass: store.DeepArchive, Atoms: []string{atom}}
		inv.Atoms[atom] = &inventory.Atom{Source: "/src", Bags: []string{id}, TarID: id, ArchiveKey: key}
	}
	must(t, inv.Save(st.InventoryFile))
	var first string
	for _, workers := range []int{1, 2, 8, 64} {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), nil, &out, &errOut, Options{Settings: st, Pattern: "f0[0-6]*.txt", Workers: workers})
		if err != nil {
			t.Fatal(err, errOut.String())
		}
		if workers == 1 {
			first = out.String()
			if n := strings.Count(first, "\n"); n != bags*files {
				t.Fatalf("%d matches, want %d", n, bags*files)
			}
			last := -1
			prevPath := ""
			for _, l := range strings.Split(strings.TrimSpace(first), "\n") {
				n, _ := inventory.ParseBagID(gjson.Get(l, "bag").String())
				p := gjson.Get(l, "path").String()
				if n < last || (n == last && p <= prevPath) {
					t.Fatalf("out of order: bag %d %s after bag %d %s", n, p, last, prevPath)
				}
				last, prevPath = n, p
			}
			continue
		}
		if out.String() != first {
			t.Errorf("%d workers: output differs from 1 worker", workers)
		}
	}
}

func TestRunProblems(t *testing.T) {
	t.Run("incomplete manifest and bad lines", func(t *testing.T) {
		f := newFixture(t)
		b := manifestBytes(t, "bag_000002", "2026-backup/src-docs_bag_000002.tar.zst", "/src/docs", false,
			[]string{"/src/docs/taxes/2024.pdf"}, []string{"/src/docs/taxes"}, false)
		b = append(b, "not json 2024.pdf\n"...)
		must(t, os.WriteFile(filepath.Join(f.st.ManifestDir, "src-docs_bag_000002.manifest.ndjson"), b, 0o644))
		must(t, os.WriteFile(filepath.Join(f.st.ManifestDir, "x_bag_000005.manifest.ndjson"), []byte(`{"kind":"file"}`+"\n"), 0o644))
		must(t, os.WriteFile(filepath.Join(f.st.ManifestDir, "y_bag_000006.manifest.ndjson.partial"), []byte("junk"), 0o644))
		r := f.run(t, Options{Pattern: "2024.pdf"})
		if code, _ := exitcode.Of(r.err); code != exitcode.Warnings || !errors.Is(r.err, records.ErrWarnings) {
			t.Fatalf("err = %v", r.err)
		}
		for _, w := range []string{
			"src-docs_bag_000002.manifest.ndjson: 1 lines are not records and were not searched (first: " + f.st.ManifestDir + "/src-docs_bag_000002.manifest.ndjson:3: not valid JSON)",
			"src-docs_bag_000002.manifest.ndjson: has no manifest_end line (incomplete, or damaged); matches may be missing",
			"x_bag_000005.manifest.ndjson: line 1 is not a manifest header; not searched",
			"gb-find: 3 matches in 3 bags (5 manifests searched)",
		} {
			if !strings.Contains(r.errOut, w) {
				t.Errorf("stderr lacks %q:\n%s", w, r.errOut)
			}
		}
		if len(r.matches) != 3 {
			t.Errorf("matches: %v", r.summary())
		}
	})
	t.Run("no inventory", func(t *testing.T) {
		f := newFixture(t)
		must(t, os.Remove(f.st.InventoryFile))
		r := f.run(t, Options{Pattern: "2024.pdf"})
		if r.err != nil || len(r.matches) != 7 {
			t.Fatalf("err %v, %d matches; %s", r.err, len(r.matches), r.errOut)
		}
		for _, m := range r.matches {
			if m.Get("current").Bool() || m.Get("reason").String() != ReasonNoInventory {
				t.Errorf("%s", m.Raw)
			}
		}
		if !strings.Contains(r.errOut, "no inventory at "+f.st.InventoryFile+"; every match is shown, with current false (reason no-inventory)") ||
			!strings.Contains(r.errOut, "7 matches in 5 bags, not checked against an inventory") {
			t.Errorf("stderr:\n%s", r.errOut)
		}
	})
	t.Run("no manifests", func(t *testing.T) {
		f := newFixture(t)
		f.st.ManifestDir = filepath.Join(f.dir, "none")
		r := f.run(t, Options{Pattern: "x"})
		var h interface{ HintText() string }
		if r.err == nil || !errors.As(r.err, &h) || !strings.Contains(h.HintText(), "--remote") {
			t.Fatalf("err = %v", r.err)
		}
		if _, ok := exitcode.Of(r.err); ok {
			t.Errorf("err = %v carries an exit code; could not search is a plain failure (exit 1)", r.err)
		}
	})
	t.Run("usage", func(t *testing.T) {
		f := newFixture(t)
		for _, o := range []Options{{Pattern: ""}, {Pattern: "(", Regex: true}, {Pattern: "x", Identity: "id.txt"}, {Pattern: "x", Format: "yaml"}} {
			if r := f.run(t, o); !config.IsConfigError(r.err) {
				t.Errorf("%+v: err = %v, want a usage error", o, r.err)
			}
		}
	})
}

// remoteFixture stores the fixture's manifests (bag_000004's encrypted,
// as gb-put does) and its inventory (encrypted) in a local store, and
// returns it with the identity file.
func remoteFixture(t *testing.T) (*fixture, store.Store, string) {
	f := newFixture(t)
	must(t, os.MkdirAll(filepath.Join(f.dir, "store"), 0o755))
	st, err := store.NewLocal(filepath.Join(f.dir, "store"), store.LocalOptions{})
	must(t, err)
	id := filepath.Join(f.dir, "id.txt")
	pub, err := keys.Generate(id, "test")
	must(t, err)
	rf := filepath.Join(f.dir, "recipients.txt")
	must(t, os.WriteFile(rf, []byte(pub+"\n"), 0o644))
	k, err := keys.LoadRecipients(rf)
	must(t, err)
	ctx := context.Background()
	put := func(key string, b []byte) {
		_, err := st.Put(ctx, key, bytes.NewReader(b), int64(len(b)), store.PutOptions{StorageClass: store.Standard})
		must(t, err)
	}
	ents, err := os.ReadDir(f.st.ManifestDir)
	must(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(f.st.ManifestDir, e.Name()))
		must(t, err)
		key := "2026-backup/manifests/" + e.Name()
		if strings.HasPrefix(e.Name(), "encrypted_") {
			b, err = k.EncryptBytes(b)
			must(t, err)
			key += ".age"
		}
		put(key, b)
	}
	b, err := os.ReadFile(f.st.InventoryFile)
	must(t, err)
	enc, err := k.EncryptBytes(b)
	must(t, err)
	put("2026-backup/system/inventory.json.age", enc)
	put("2025-backup/system/inventory.json", []byte(`{"version":1,"next_bag":1,"atoms":{},"bags":{},"sources":{},"runs":[]}`))
	put("2026-backup/src-docs_bag_000002.tar.zst", []byte("not a manifest"))
	return f, st, id
}

func TestRemote(t *testing.T) {
	t.Run("new machine with the identity", func(t *testing.T) {
		f, st, id := remoteFixture(t)
		must(t, os.RemoveAll(f.st.ManifestDir))
		must(t, os.Remove(f.st.InventoryFile))
		r := f.run(t, Options{Pattern: "2024.pdf", Remote: true, Store: st, Identity: id})
		if r.err != nil {
			t.Fatalf("%v\n%s", r.err, r.errOut)
		}
		if len(r.matches) != 3 || r.matches[2].Get("bag").String() != "bag_000004" || !r.matches[2].Get("current").Bool() {
			t.Errorf("matches: %v", r.summary())
		}
		for _, w := range []string{"fetched 5 manifests (1 decrypted) from", "using the inventory from the store (2026-backup/system/inventory.json.age)"} {
			if !strings.Contains(r.errOut, w) {
				t.Errorf("stderr lacks %q:\n%s", w, r.errOut)
			}
		}
		fi, err := os.Stat(filepath.Join(f.st.ManifestDir, "encrypted_bag_000004.manifest.ndjson"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("decrypted manifest: %v %v", fi.Mode(), err)
		}
		if m, _ := filepath.Glob(filepath.Join(f.st.ManifestDir, "*.partial")); len(m) > 0 {
			t.Errorf("left %v", m)
		}
		if strings.Contains(r.errOut, "AGE-SECRET-KEY") {
			t.Error("a secret on stderr")
		}
		// Everything is local now: nothing more is fetched.
		r = f.run(t, Options{Pattern: "2024.pdf", Remote: true, Store: st, Identity: id})
		if r.err != nil || !strings.Contains(r.errOut, "holds no manifest that") {
			t.Errorf("%v\n%s", r.err, r.errOut)
		}
	})
	t.Run("without the identity", func(t *testing.T) {
		f, st, _ := remoteFixture(t)
		must(t, os.RemoveAll(f.st.ManifestDir))
		must(t, os.Remove(f.st.InventoryFile))
		r := f.run(t, Options{Pattern: "2024.pdf", Remote: true, Store: st})
		if !errors.Is(r.err, records.ErrWarnings) {
			t.Fatalf("err = %v", r.err)
		}
		for _, w := range []string{
			"fetched 4 manifests from",
			"1 encrypted manifest in " + st.String() + " was not searched (2026-backup/manifests/encrypted_bag_000004.manifest.ndjson.age): decrypting it needs the age identity (or passphrase file) the bags are encrypted to; add --identity FILE",
			"the inventory in the store (2026-backup/system/inventory.json.age) is encrypted; add --identity FILE",
		} {
			if !strings.Contains(r.errOut, w) {
				t.Errorf("stderr lacks %q:\n%s", w, r.errOut)
			}
		}
		if len(r.matches) != 6 {
			t.Errorf("matches: %v", r.summary())
		}
	})
	t.Run("local inventory kept, some manifests missing", func(t *testing.T) {
		f, st, id := remoteFixture(t)
		must(t, os.Remove(filepath.Join(f.st.ManifestDir, "encrypted_bag_000004.manifest.ndjson")))
		r := f.run(t, Options{Pattern: "2024.pdf", Remote: true, Store: st, Identity: id})
		if r.err != nil || len(r.matches) != 3 || !strings.Contains(r.errOut, "fetched 1 manifest (1 decrypted)") || strings.Contains(r.errOut, "using the inventory") {
			t.Errorf("%v %v\n%s", r.err, r.summary(), r.errOut)
		}
	})
	t.Run("identity readable by others", func(t *testing.T) {
		f, st, id := remoteFixture(t)
		must(t, os.Chmod(id, 0o644))
		r := f.run(t, Options{Pattern: "2024.pdf", Remote: true, Store: st, Identity: id})
		if !config.IsConfigError(r.err) || !strings.Contains(r.err.Error(), "readable by others") {
			t.Errorf("err = %v", r.err)
		}
	})
	t.Run("wrong identity", func(t *testing.T) {
		f, st, _ := remoteFixture(t)
		must(t, os.RemoveAll(f.st.ManifestDir))
		other := filepath.Join(f.dir, "other.txt")
		_, err := keys.Generate(other, "test")
		must(t, err)
		r := f.run(t, Options{Pattern: "2024.pdf", Remote: true, Store: st, Identity: other})
		if !errors.Is(r.err, records.ErrWarnings) || !strings.Contains(r.errOut, "encrypted_bag_000004.manifest.ndjson.age: cannot decrypt it with "+other+" (encrypted to other keys); not searched") {
			t.Errorf("%v\n%s", r.err, r.errOut)
		}
	})
}

// failingStore cannot be listed (the network is down).
type failingStore struct{ store.Store }

func (failingStore) List(context.Context, string, func(store.ObjectInfo) error) error {
	return errors.New("dial tcp: connection refused")
}
func (failingStore) String() string { return "s3://down" }

func TestRemoteUnreachable(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, Options{Pattern: "2024.pdf", Remote: true, Store: failingStore{}})
	if !errors.Is(r.err, records.ErrWarnings) || len(r.matches) != 3 ||
		!strings.Contains(r.errOut, "warning: list s3://down: dial tcp: connection refused; searching the manifests in "+f.st.ManifestDir+" only") {
		t.Errorf("%v %v\n%s", r.err, r.summary(), r.errOut)
	}
	f.st.ManifestDir = filepath.Join(f.dir, "none")
	r = f.run(t, Options{Pattern: "2024.pdf", Remote: true, Store: failingStore{}})
	if _, ok := r.err.(*noManifests); !ok {
		t.Errorf("err = %v", r.err)
	}
}

func TestStoredKind(t *testing.T) {
	for _, c := range []struct {
		key      string
		manifest bool
		invYear  int
	}{
		{"2026-backup/manifests/home_bag_000001.manifest.ndjson", true, 0},
		{"2026-backup/manifests/encrypted_bag_000002.manifest.ndjson.age", true, 0},
		{"2026-backup/manifests/x.manifest.ndjson.partial", false, 0},
		{"2026-backup/manifests/sub/x.manifest.ndjson", false, 0},
		{"2027-backup/system/inventory.json", false, 2027},
		{"2027-backup/system/inventory.json.age", false, 2027},
		{"2027-backup/system/inventory.json.bak", false, 0},
		{"2026-backup/home_bag_000001.tar.zst", false, 0},
		{"archive/2026-backup/manifests/x.manifest.ndjson", false, 0},
	} {
		if m, y := storedKind(c.key); m != c.manifest || y != c.invYear {
			t.Errorf("storedKind(%q) = %v, %d; want %v, %d", c.key, m, y, c.manifest, c.invYear)
		}
	}
}

func TestMissing(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "a_bag_000001.manifest.ndjson"), nil, 0o644))
	stored := []string{
		"2026-backup/manifests/a_bag_000001.manifest.ndjson", // here already
		"2026-backup/manifests/b_bag_000002.manifest.ndjson",
		"2026-backup/manifests/b_bag_000002.manifest.ndjson.age", // the plain twin is fetched
		"2026-backup/manifests/c_bag_000003.manifest.ndjson.age",
	}
	for _, c := range []struct {
		canDecrypt bool
		todo, enc  []string
	}{
		{false, []string{stored[1]}, []string{stored[3]}},
		{true, []string{stored[1], stored[3]}, nil},
	} {
		todo, enc, have, all := missing(stored, dir, c.canDecrypt)
		if !slices.Equal(todo, c.todo) || !slices.Equal(enc, c.enc) || have != 1 || all != 3 {
			t.Errorf("canDecrypt %v: todo %v, encrypted %v, have %d of %d", c.canDecrypt, todo, enc, have, all)
		}
	}
}
