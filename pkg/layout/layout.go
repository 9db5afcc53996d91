// Package layout is the one place that builds and parses the names gb
// gives things: the keys of the store (bags, manifests and system files
// under <year>-backup/) and the local file names beside them (staged
// bags, their sidecars and upload journals, manifests, .partial files).
// Nothing else formats or matches these names; a test keeps it so.
//
// The store's layout:
//
//	<year>-backup/<label>_<bag id>.tar[.zst][.age]                a bag
//	<year>-backup/manifests/<label>_<bag id>.manifest.ndjson[.age] its manifest
//	<year>-backup/system/<name>[.age]                             system files
//
// Anything else in the store was not written by gb and is left alone.
package layout

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Name parts.
const (
	yearDirSuffix = "-backup"
	manifestsDir  = "manifests"
	systemDir     = "system"

	// SealedExt ends every name encrypted with age.
	SealedExt = ".age"
	// TarExt and ZstdExt end a bag's name, before SealedExt.
	TarExt  = ".tar"
	ZstdExt = ".zst"
	// ManifestExt ends a manifest's name, before SealedExt.
	ManifestExt = ".manifest.ndjson"
	// PartialExt ends a file being written; it is renamed to its name
	// without PartialExt when whole.
	PartialExt = ".partial"
	// SidecarExt ends the file beside a staged bag that says which plan
	// record it was packed from.
	SidecarExt = ".packed.json"
	// JournalExt ends the file beside a staged bag that lets an
	// interrupted multipart upload resume.
	JournalExt = ".upload.json"
)

// System files: what a new machine needs to carry on, stored under
// <year>-backup/system/ (those that name sources or atoms as NAME.age once
// anything is encrypted).
const (
	Inventory = "inventory.json"
	Recovery  = "RECOVERY.md"
	Config    = "glacier.cfg"
	List      = "list.txt"
	Exclude   = "exclude.txt"
	Encrypt   = "encrypt.txt"
)

// Descriptions of the layout for people (error messages, help).
const (
	// SystemDirPattern names the system folder of any year.
	SystemDirPattern = "<year>-backup/" + systemDir + "/"
	// InventoryPattern names the stored inventory of any year.
	InventoryPattern = SystemDirPattern + Inventory
)

// Kind is what a store key names.
type Kind int

// Kinds of keys.
const (
	Bag Kind = iota + 1
	Manifest
	System
)

func (k Kind) String() string {
	switch k {
	case Bag:
		return "bag"
	case Manifest:
		return "manifest"
	case System:
		return "system"
	}
	return "unknown"
}

// Key is a store key gb wrote, taken apart.
type Key struct {
	Kind  Kind
	Year  int
	Label string // bags and manifests: the label before _<bag id>
	Bag   string // bags and manifests: the bag id (bag_NNNNNN)
	Name  string // system files: the file name, SealedExt included
	// Zstd: a bag compressed with zstd.
	Zstd bool
	// Sealed: encrypted with age (the name ends in SealedExt).
	Sealed bool
}

var (
	bagRE      = regexp.MustCompile(`^([0-9]{4})-backup/([^/]+)_(bag_[0-9]{6,})\.tar(\.zst)?(\.age)?$`)
	manifestRE = regexp.MustCompile(`^([0-9]{4})-backup/manifests/([^/]+)_(bag_[0-9]{6,})\.manifest\.ndjson(\.age)?$`)
	systemRE   = regexp.MustCompile(`^([0-9]{4})-backup/system/([^/]+)$`)
	// A manifest in manifest_dir: any number of digits, as the local
	// names of older bags may have.
	localManifestRE = regexp.MustCompile(`^[^/]+_(bag_[0-9]+)\.manifest\.ndjson$`)
)

// Parse takes a store key apart. ok is false for a key gb does not write
// (objects a person put beside gb's are never taken for gb's own).
func Parse(key string) (k Key, ok bool) {
	if m := bagRE.FindStringSubmatch(key); m != nil {
		return Key{Kind: Bag, Year: year(m[1]), Label: m[2], Bag: m[3], Zstd: m[4] != "", Sealed: m[5] != ""}, true
	}
	if m := manifestRE.FindStringSubmatch(key); m != nil {
		return Key{Kind: Manifest, Year: year(m[1]), Label: m[2], Bag: m[3], Sealed: m[4] != ""}, true
	}
	if m := systemRE.FindStringSubmatch(key); m != nil {
		return Key{Kind: System, Year: year(m[1]), Name: m[2], Sealed: strings.HasSuffix(m[2], SealedExt)}, true
	}
	return Key{}, false
}

func year(s string) int {
	y, _ := strconv.Atoi(s)
	return y
}

// String builds the key back.
func (k Key) String() string {
	switch k.Kind {
	case Bag:
		return BagKey(k.Year, k.Label, k.Bag, k.Zstd, k.Sealed)
	case Manifest:
		m := path.Join(YearDir(k.Year), manifestsDir, k.Label+"_"+k.Bag+ManifestExt)
		if k.Sealed {
			m = Seal(m)
		}
		return m
	case System:
		return SystemKey(k.Year, k.Name)
	}
	return ""
}

// BagOf returns the bag id of a bag or manifest key gb wrote, and what the
// key names; "" and 0 for any other key.
func BagOf(key string) (id string, kind Kind) {
	k, ok := Parse(key)
	if !ok || k.Kind == System {
		return "", 0
	}
	return k.Bag, k.Kind
}

// IsInventory reports whether a system file name is the inventory (plain
// or sealed).
func IsInventory(name string) bool { return Unseal(name) == Inventory }

// YearDir is the folder of one year's run: "2027-backup/".
func YearDir(year int) string { return fmt.Sprintf("%04d%s/", year, yearDirSuffix) }

// BagExt is a bag's extension for a compression ("zstd" or "none").
func BagExt(compress string) string {
	if compress == "zstd" {
		return TarExt + ZstdExt
	}
	return TarExt
}

// BagKey is the key of a bag: <year>-backup/<label>_<id>.tar[.zst][.age].
func BagKey(year int, label, id string, zstd, sealed bool) string {
	ext := TarExt
	if zstd {
		ext += ZstdExt
	}
	k := YearDir(year) + label + "_" + id + ext
	if sealed {
		k = Seal(k)
	}
	return k
}

// ManifestFile is the file name of a bag's manifest (the bag's name up to
// .tar, then ManifestExt): its name in manifest_dir and in the store.
func ManifestFile(bagKey string) string {
	base := path.Base(bagKey)
	if i := strings.Index(base, TarExt); i > 0 {
		base = base[:i]
	}
	return base + ManifestExt
}

// ManifestKey is where a bag's plain manifest is stored: in manifests/
// beside the bag. An encrypted bag's manifest is stored sealed:
// Seal(ManifestKey(bagKey)).
func ManifestKey(bagKey string) string {
	return path.Join(path.Dir(bagKey), manifestsDir, ManifestFile(bagKey))
}

// StoredManifestKey is the key a bag's manifest is stored under: sealed
// when the bag is.
func StoredManifestKey(bagKey string) string {
	k := ManifestKey(bagKey)
	if IsSealed(bagKey) {
		k = Seal(k)
	}
	return k
}

// SystemDir is the system folder of a year: "2027-backup/system/".
func SystemDir(year int) string { return YearDir(year) + systemDir + "/" }

// SystemKey is the key of a system file of a year.
func SystemKey(year int, name string) string { return SystemDir(year) + name }

// Seal is the name of the age-encrypted twin of name.
func Seal(name string) string { return name + SealedExt }

// IsSealed reports whether a name is that of an age-encrypted file.
func IsSealed(name string) bool { return strings.HasSuffix(name, SealedExt) }

// Unseal is the name without SealedExt (that of the plain twin).
func Unseal(name string) string { return strings.TrimSuffix(name, SealedExt) }

// LocalManifest is the local name of a stored manifest: the key's base
// name; an encrypted one is kept decrypted, without SealedExt.
func LocalManifest(key string) string { return Unseal(path.Base(key)) }

// ManifestBag is the bag id in the name of a complete manifest in
// manifest_dir (LocalManifest); ok is false for any other name.
func ManifestBag(name string) (bag string, ok bool) {
	m := localManifestRE.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// StagedName is a bag's file name in staging_dir: its key's base name.
func StagedName(key string) string { return path.Base(key) }

// StagedManifest is the file name in staging_dir of an encrypted bag's
// sealed manifest, as uploaded.
func StagedManifest(bagKey string) string { return Seal(ManifestFile(bagKey)) }

// Partial is the name p is written under until it is whole.
func Partial(p string) string { return p + PartialExt }

// IsPartial reports whether a name is that of a file being written.
func IsPartial(name string) bool { return strings.HasSuffix(name, PartialExt) }

// TempPattern is an os.CreateTemp pattern for a hidden partial twin of
// the file named base.
func TempPattern(base string) string { return "." + base + ".*" + PartialExt }

// Sidecar is the name of the sidecar of a staged bag.
func Sidecar(staged string) string { return staged + SidecarExt }

// SidecarOf returns the staged bag a sidecar belongs to, and false when
// name is not a sidecar.
func SidecarOf(name string) (staged string, ok bool) { return strings.CutSuffix(name, SidecarExt) }

// Journal is the name of the upload journal of a staged bag.
func Journal(staged string) string { return staged + JournalExt }

// IsJournal reports whether a name is that of an upload journal.
func IsJournal(name string) bool { return strings.HasSuffix(name, JournalExt) }

// IsStaged reports whether a file name in staging_dir is one gb-pack
// stages: a bag or an encrypted bag's sealed manifest (whole or partial).
func IsStaged(name string) bool {
	n := strings.TrimSuffix(name, PartialExt)
	return strings.Contains(n, "_bag_") && (strings.Contains(n, TarExt) || strings.HasSuffix(n, Seal(ManifestExt)))
}

// BagLayers says how a bag's bytes are wrapped, from the end of its key
// (NAME.tar[.zst][.age]); any folder and name before .tar are taken.
func BagLayers(key string) (zstd, sealed bool, err error) {
	switch BagExtOf(key) {
	case TarExt:
	case TarExt + ZstdExt:
		zstd = true
	case Seal(TarExt + ZstdExt):
		zstd, sealed = true, true
	case Seal(TarExt):
		sealed = true
	default:
		return false, false, fmt.Errorf("bag key %q does not end in %s, %s or %s", key, TarExt, TarExt+ZstdExt, Seal(TarExt+ZstdExt))
	}
	return zstd, sealed, nil
}

// BagExtOf is the extension of a bag's key: from .tar to the end, or ""
// when its name holds no .tar.
func BagExtOf(key string) string {
	base := path.Base(key)
	if i := strings.Index(base, TarExt); i >= 0 {
		return base[i:]
	}
	return ""
}
