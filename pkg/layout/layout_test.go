package layout

import "testing"

func TestParseRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want Key
	}{
		{"2026-backup/data-books_bag_000001.tar", Key{Kind: Bag, Year: 2026, Label: "data-books", Bag: "bag_000001"}},
		{"2026-backup/data-books_bag_000001.tar.zst", Key{Kind: Bag, Year: 2026, Label: "data-books", Bag: "bag_000001", Zstd: true}},
		{"2027-backup/encrypted_bag_000004.tar.zst.age", Key{Kind: Bag, Year: 2027, Label: "encrypted", Bag: "bag_000004", Zstd: true, Sealed: true}},
		{"2027-backup/encrypted_bag_000004.tar.age", Key{Kind: Bag, Year: 2027, Label: "encrypted", Bag: "bag_000004", Sealed: true}},
		// The label is everything before the last _bag_: labels may hold
		// underscores.
		{"2027-backup/home_ann_bag_1234567.tar", Key{Kind: Bag, Year: 2027, Label: "home_ann", Bag: "bag_1234567"}},
		{"2026-backup/manifests/data-books_bag_000001.manifest.ndjson", Key{Kind: Manifest, Year: 2026, Label: "data-books", Bag: "bag_000001"}},
		{"2026-backup/manifests/encrypted_bag_000002.manifest.ndjson.age", Key{Kind: Manifest, Year: 2026, Label: "encrypted", Bag: "bag_000002", Sealed: true}},
		{"2026-backup/system/inventory.json", Key{Kind: System, Year: 2026, Name: "inventory.json"}},
		{"2026-backup/system/inventory.json.age", Key{Kind: System, Year: 2026, Name: "inventory.json.age", Sealed: true}},
		{"2026-backup/system/RECOVERY.md", Key{Kind: System, Year: 2026, Name: "RECOVERY.md"}},
		{"2026-backup/system/glacier.cfg", Key{Kind: System, Year: 2026, Name: "glacier.cfg"}},
		{"2026-backup/system/list.txt.age", Key{Kind: System, Year: 2026, Name: "list.txt.age", Sealed: true}},
	} {
		got, ok := Parse(tc.key)
		if !ok || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.key, got, ok, tc.want)
			continue
		}
		if back := got.String(); back != tc.key {
			t.Errorf("Parse(%q).String() = %q", tc.key, back)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, key := range []string{
		"",
		"2026-backup/",
		"2026-backup/notes.txt",               // a person's file
		"2026-backup/books_bag_00001.tar",     // id too short
		"2026-backup/books_bag_000001.tar.gz", // not an extension gb writes
		"2026-backup/books_bag_000001.tar.age.zst",                   // layers in the wrong order
		"2026-backup/_bag_000001.tar",                                // no label
		"2026-backup/books_bag_000001.zst",                           // no .tar
		"26-backup/books_bag_000001.tar",                             // not a year
		"2026-backups/books_bag_000001.tar",                          // not the year folder
		"x/2026-backup/books_bag_000001.tar",                         // below another folder
		"2026-backup/sub/books_bag_000001.tar",                       // one folder too deep
		"2026-backup/manifests/books_bag_000001.tar",                 // a bag among manifests
		"2026-backup/books_bag_000001.manifest.ndjson",               // a manifest beside the bags
		"2026-backup/manifests/books.manifest.ndjson",                // no bag id
		"2026-backup/manifests/books_bag_000001.manifest.ndjson.zst", // not sealed, not plain
		"2026-backup/system/",                                        // no name
		"2026-backup/system/a/inventory.json",                        // too deep
		"2026-backup/inventory.json",                                 // not in system/
	} {
		if k, ok := Parse(key); ok {
			t.Errorf("Parse(%q) = %+v, want refused", key, k)
		}
		if id, kind := BagOf(key); id != "" || kind != 0 {
			t.Errorf("BagOf(%q) = %q, %v", key, id, kind)
		}
	}
}

func TestBuild(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{YearDir(2027), "2027-backup/"},
		{BagKey(2027, "data-books", "bag_000005", true, false), "2027-backup/data-books_bag_000005.tar.zst"},
		{BagKey(2027, "encrypted", "bag_000005", true, true), "2027-backup/encrypted_bag_000005.tar.zst.age"},
		{BagKey(2027, "data-vm", "bag_000006", false, false), "2027-backup/data-vm_bag_000006.tar"},
		{BagExt("zstd"), ".tar.zst"},
		{BagExt("none"), ".tar"},
		{ManifestFile("2027-backup/data-books_bag_000005.tar.zst"), "data-books_bag_000005.manifest.ndjson"},
		{ManifestFile("2027-backup/encrypted_bag_000005.tar.zst.age"), "encrypted_bag_000005.manifest.ndjson"},
		{ManifestKey("2027-backup/encrypted_bag_000005.tar.zst.age"), "2027-backup/manifests/encrypted_bag_000005.manifest.ndjson"},
		{StoredManifestKey("2027-backup/encrypted_bag_000005.tar.zst.age"), "2027-backup/manifests/encrypted_bag_000005.manifest.ndjson.age"},
		{StoredManifestKey("2027-backup/data-vm_bag_000006.tar"), "2027-backup/manifests/data-vm_bag_000006.manifest.ndjson"},
		{SystemDir(2026), "2026-backup/system/"},
		{SystemKey(2026, Inventory), "2026-backup/system/inventory.json"},
		{SystemKey(2026, Seal(List)), "2026-backup/system/list.txt.age"},
		{LocalManifest("2026-backup/manifests/encrypted_bag_000002.manifest.ndjson.age"), "encrypted_bag_000002.manifest.ndjson"},
		{StagedName("2026-backup/books_bag_000002.tar.zst"), "books_bag_000002.tar.zst"},
		{StagedManifest("2026-backup/encrypted_bag_000002.tar.zst.age"), "encrypted_bag_000002.manifest.ndjson.age"},
		{Partial("/s/books_bag_000002.tar.zst"), "/s/books_bag_000002.tar.zst.partial"},
		{Sidecar("/s/books_bag_000002.tar.zst"), "/s/books_bag_000002.tar.zst.packed.json"},
		{Journal("/s/books_bag_000002.tar.zst"), "/s/books_bag_000002.tar.zst.upload.json"},
		{TempPattern("inventory.json"), ".inventory.json.*.partial"},
		{SystemDirPattern, "<year>-backup/system/"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	// Every key built parses back to what it was built from.
	for _, key := range []string{
		BagKey(2027, "a_b", "bag_000001", false, true),
		StoredManifestKey(BagKey(2027, "a_b", "bag_000001", false, true)),
		SystemKey(2030, Seal(Inventory)),
	} {
		k, ok := Parse(key)
		if !ok || k.String() != key {
			t.Errorf("%q does not parse back (%+v, %v)", key, k, ok)
		}
	}
}

func TestLocalNames(t *testing.T) {
	for _, tc := range []struct {
		name                              string
		staged, partial, journal, sidecar bool
	}{
		{"books_bag_000001.tar.zst", true, false, false, false},
		{"books_bag_000001.tar.zst.partial", true, true, false, false},
		{"encrypted_bag_000001.manifest.ndjson.age", true, false, false, false},
		{"encrypted_bag_000001.manifest.ndjson", false, false, false, false},
		{"books_bag_000001.tar.zst.upload.json", true, false, true, false},
		{"books_bag_000001.tar.zst.packed.json", true, false, false, true},
		{"notes.txt", false, false, false, false},
		{"x.partial", false, true, false, false},
	} {
		_, sc := SidecarOf(tc.name)
		if IsStaged(tc.name) != tc.staged || IsPartial(tc.name) != tc.partial || IsJournal(tc.name) != tc.journal || sc != tc.sidecar {
			t.Errorf("%s: staged %v partial %v journal %v sidecar %v", tc.name, IsStaged(tc.name), IsPartial(tc.name), IsJournal(tc.name), sc)
		}
	}
	if s, ok := SidecarOf("/s/b_bag_000001.tar.packed.json"); !ok || s != "/s/b_bag_000001.tar" {
		t.Errorf("SidecarOf: %q %v", s, ok)
	}
	for name, want := range map[string]string{
		"books_bag_000042.manifest.ndjson":     "bag_000042",
		"encrypted_bag_0001.manifest.ndjson":   "bag_0001",
		"books_bag_000042.manifest.ndjson.age": "",
		"books_bag_000042.tar.zst":             "",
		"bag_000042.manifest.ndjson":           "",
	} {
		if got, ok := ManifestBag(name); got != want || ok != (want != "") {
			t.Errorf("ManifestBag(%q) = %q, %v", name, got, ok)
		}
	}
	for name, want := range map[string]bool{"inventory.json": true, "inventory.json.age": true, "list.txt": false, "inventory.json.bak": false} {
		if IsInventory(name) != want {
			t.Errorf("IsInventory(%q) = %v", name, !want)
		}
	}
}

func TestBagLayers(t *testing.T) {
	for _, tc := range []struct {
		key          string
		zstd, sealed bool
		ext          string
		bad          bool
	}{
		{"2026-backup/a_bag_000001.tar", false, false, ".tar", false},
		{"2026-backup/a_bag_000001.tar.zst", true, false, ".tar.zst", false},
		{"2026-backup/a_bag_000001.tar.zst.age", true, true, ".tar.zst.age", false},
		{"2026-backup/a_bag_000001.tar.age", false, true, ".tar.age", false},
		{"x/any.tar.zst", true, false, ".tar.zst", false},
		{"2026-backup/a_bag_000001.tar.gz", false, false, ".tar.gz", true},
		{"2026-backup/a_bag_000001.zip", false, false, "", true},
	} {
		z, s, err := BagLayers(tc.key)
		if (err != nil) != tc.bad || z != tc.zstd || s != tc.sealed || BagExtOf(tc.key) != tc.ext {
			t.Errorf("%s: zstd %v sealed %v err %v ext %q", tc.key, z, s, err, BagExtOf(tc.key))
		}
	}
}
