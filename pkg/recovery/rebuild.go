package recovery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
)

// storedBag is one bag found in the store, with its manifest's header.
type storedBag struct {
	id       string
	info     store.ObjectInfo
	manKey   string
	manifest []byte // plain
	hdr      manifest.Header
	end      manifest.End
}

// rebuild reconstructs an inventory from the store listing and the
// manifests alone, for when no system/inventory.json survives. Each
// manifest's header names the atoms (and parts) its bag holds with their
// metadata hashes, so an atom's newest complete set of bags is known
// exactly; bags no atom points to come back retired. skipped counts the
// bags left out (no manifest, or one that cannot be read).
func rebuild(ctx context.Context, st store.Store, ids []age.Identity, now time.Time, errOut io.Writer) (inv *inventory.Inventory, bags []*storedBag, skipped int, err error) {
	bags, maxID, skipped, err := readBags(ctx, st, ids, errOut)
	if err != nil {
		return nil, nil, 0, err
	}
	inv = inventory.New()
	inv.NextBag = maxID + 1
	referenced := addAtoms(inv, bags, errOut)
	addBags(inv, bags, referenced, now)
	return inv, bags, skipped, nil
}

// readBags lists the bags in the store and reads each one's manifest.
func readBags(ctx context.Context, st store.Store, ids []age.Identity, errOut io.Writer) (bags []*storedBag, maxID, skipped int, err error) {
	objs := map[string]store.ObjectInfo{}
	err = st.List(ctx, "", func(o store.ObjectInfo) error {
		objs[o.Key] = o
		return nil
	})
	if err != nil {
		return nil, 0, 0, err
	}
	for key, o := range objs {
		id, kind := layout.BagOf(key)
		if kind != layout.Bag {
			continue
		}
		n, _ := inventory.ParseBagID(id)
		maxID = max(maxID, n)
		b := &storedBag{id: id, info: o, manKey: layout.StoredManifestKey(key)}
		if _, ok := objs[b.manKey]; !ok {
			fmt.Fprintf(errOut, "gb-recover: warning: %s has no manifest in the store; it is left out (gb-prune lists it)\n", key)
			skipped++
			continue
		}
		raw, err := getAll(ctx, st, b.manKey)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("%s: %w", b.manKey, err)
		}
		if layout.IsSealed(b.manKey) {
			if ids == nil {
				skipped++
				continue
			}
			if raw, err = decrypt(raw, ids); err != nil {
				return nil, 0, 0, fmt.Errorf("%s: %w", b.manKey, err)
			}
		}
		b.manifest = raw
		if err := parseManifest(b); err != nil {
			fmt.Fprintf(errOut, "gb-recover: warning: %s: %v; bag left out\n", b.manKey, err)
			skipped++
			continue
		}
		bags = append(bags, b)
	}
	sort.Slice(bags, func(i, j int) bool { return bags[i].id < bags[j].id })
	return bags, maxID, skipped, nil
}

// part is one bag's share of an atom.
type part struct {
	bag  *storedBag
	atom manifest.Atom
}

// addAtoms adds to inv every atom with a complete set of parts in the
// store, and its source; it returns the bags those atoms refer to.
func addAtoms(inv *inventory.Inventory, bags []*storedBag, errOut io.Writer) (referenced map[string]bool) {
	byAtom := map[string][]part{}
	for _, b := range bags {
		for _, a := range b.hdr.Atoms {
			k := atomKey(a)
			byAtom[k] = append(byAtom[k], part{b, a})
		}
	}
	referenced = map[string]bool{}
	for k, parts := range byAtom {
		chosen := newestComplete(parts)
		if chosen == nil {
			fmt.Fprintf(errOut, "gb-recover: warning: atom %s has no complete set of parts in the store; left out\n", k)
			continue
		}
		first := chosen[0]
		a := &inventory.Atom{Source: first.bag.hdr.Source, Type: first.atom.Type, LastMetadataHash: first.atom.Hash, TarID: first.bag.id,
			ArchiveKey: first.bag.hdr.Key, FirstSeen: first.bag.hdr.CreatedAt, LastSeen: first.bag.hdr.CreatedAt, PackedAt: first.bag.hdr.CreatedAt}
		for _, c := range chosen {
			a.Bags = append(a.Bags, c.bag.id)
			a.Files += c.atom.Files
			a.Bytes += c.atom.Bytes
			referenced[c.bag.id] = true
			if e := c.bag.hdr.Encryption; e != nil {
				a.Encrypt, a.Keys = true, e.Keys
			}
		}
		inv.Atoms[k] = a
		src := inv.Sources[a.Source]
		if src == nil {
			mode := "MUTABLE"
			if a.Type == "tree" {
				mode = "IMMUTABLE"
			}
			src = &inventory.Source{Mode: mode, FirstSeen: a.FirstSeen, LastSeen: a.LastSeen}
			inv.Sources[a.Source] = src
		}
		if a.LastSeen.After(src.LastSeen) {
			src.LastSeen = a.LastSeen
		}
	}
	return referenced
}

// newestComplete is an atom's current copy: the last complete set of
// parts of one packing (same hash, every part present), in bag order;
// nil when there is none.
func newestComplete(parts []part) []part {
	slices.SortFunc(parts, func(x, y part) int { return strings.Compare(y.bag.id, x.bag.id) })
	for _, p := range parts {
		want := max(p.atom.Parts, 1)
		set := map[int]part{}
		for _, q := range parts {
			if q.atom.Hash == p.atom.Hash && max(q.atom.Parts, 1) == want && q.bag.id <= p.bag.id {
				if _, dup := set[max(q.atom.Part, 1)]; !dup {
					set[max(q.atom.Part, 1)] = q
				}
			}
		}
		if len(set) == want {
			var chosen []part
			for _, q := range set {
				chosen = append(chosen, q)
			}
			sort.Slice(chosen, func(i, j int) bool { return chosen[i].bag.id < chosen[j].bag.id })
			return chosen
		}
	}
	return nil
}

// addBags adds every bag read to inv; those no atom refers to retired.
func addBags(inv *inventory.Inventory, bags []*storedBag, referenced map[string]bool, now time.Time) {
	for _, b := range bags {
		bg := &inventory.Bag{Key: b.hdr.Key, Source: b.hdr.Source, Bytes: b.info.Size, SHA256: b.end.BagSHA, StorageClass: b.info.StorageClass,
			UploadedAt: b.info.UploadedAt, Compress: "none", Files: 0, ManifestKey: b.manKey}
		if slices.Contains(b.hdr.Layers, "zstd") {
			bg.Compress = "zstd"
		}
		if e := b.hdr.Encryption; e != nil {
			bg.Encrypt, bg.Keys = true, e.Keys
		}
		for _, a := range b.hdr.Atoms {
			bg.Files += a.Files
			bg.Atoms = append(bg.Atoms, atomKey(a))
		}
		if !referenced[b.id] {
			bg.RetiredAt = now
		}
		inv.Bags[b.id] = bg
	}
}

// parseManifest reads the header and end lines; the manifest must come
// from gb with atoms in its header (gb-pack writes them).
func parseManifest(b *storedBag) error {
	lines := bytes.Split(bytes.TrimRight(b.manifest, "\n"), []byte("\n"))
	if len(lines) < 2 {
		return fmt.Errorf("not a complete manifest")
	}
	if err := json.Unmarshal(lines[0], &b.hdr); err != nil {
		return fmt.Errorf("header line: %w", err)
	}
	if err := json.Unmarshal(lines[len(lines)-1], &b.end); err != nil {
		return fmt.Errorf("last line: %w", err)
	}
	if b.hdr.Kind != manifest.KindHeader || b.end.Kind != manifest.KindEnd {
		return fmt.Errorf("not a complete manifest (no header or end line)")
	}
	if b.hdr.Bag != b.id || b.hdr.Key != b.info.Key {
		return fmt.Errorf("it describes %s (%s), not %s", b.hdr.Bag, b.hdr.Key, b.info.Key)
	}
	if b.hdr.Atoms == nil {
		return fmt.Errorf("its header lists no atoms (written by an older gb)")
	}
	return nil
}

// atomKey is the inventory's key for a manifest header's atom.
func atomKey(a manifest.Atom) string {
	p, err := records.DecodePath(a.Atom, a.AtomB64)
	if err != nil {
		p = a.Atom
	}
	return inventory.KeyOf(p)
}
