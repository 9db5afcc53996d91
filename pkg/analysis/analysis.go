// Package analysis compares the inventory with the store's listing: which
// stored objects the inventory needs, which it does not (orphans), which
// it needs and the store lacks, what each orphan costs to keep or delete,
// and the incomplete uploads still billed. gb-prune, gb-audit and
// gb-report are its clients. Everything here but the listings and Read is a
// pure function of its arguments.
package analysis

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"

	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/store"
)

// What an orphan is.
const (
	ObjectBag      = "bag"
	ObjectManifest = "manifest"
	ObjectUpload   = "upload"
)

// Why it is an orphan.
const (
	// ReasonRetired: a bag the inventory has, but no atom refers to.
	ReasonRetired = "retired"
	// ReasonNotInInventory: a bag the inventory does not have: uploaded
	// by a run that never committed it, or left by a source that was
	// reset or an inventory that was lost.
	ReasonNotInInventory = "not-in-inventory"
	// ReasonBagOrphaned: a manifest whose bag is an orphan.
	ReasonBagOrphaned = "bag-orphaned"
	// ReasonBagMissing: a manifest whose bag is not in the store and not
	// referenced by the inventory.
	ReasonBagMissing = "bag-missing"
	// ReasonIncompleteUpload: a multipart upload never completed.
	ReasonIncompleteUpload = "incomplete-upload"
)

// BagIDOfKey returns the bag id in a bag or manifest key gb wrote and
// ObjectBag or ObjectManifest; "" and "" for any other key.
func BagIDOfKey(key string) (id string, object string) {
	switch id, kind := layout.BagOf(key); kind {
	case layout.Bag:
		return id, ObjectBag
	case layout.Manifest:
		return id, ObjectManifest
	}
	return "", ""
}

// Orphan is a stored object no inventory atom needs.
type Orphan struct {
	Object string // ObjectBag or ObjectManifest
	Reason string
	Key    string
	Bag    string // bag id
	BagKey string // manifests with ReasonBagOrphaned: their bag's key
	Info   store.ObjectInfo
}

// Analysis is the store's listing compared with the inventory.
type Analysis struct {
	Objects map[string]store.ObjectInfo // every object listed, by key
	// Orphans in key order.
	Orphans []Orphan
	// Referenced: bag ids some atom refers to.
	Referenced map[string]bool
	// Missing: referenced bag ids whose key is not in the store.
	Missing []string
	// GoneRetired: bag ids the inventory has, no atom refers to, and
	// whose object is not in the store (deleted by hand, or by a prune
	// that stopped before it saved the inventory).
	GoneRetired []string
	// Misnamed: bags and manifests that carry the id of a referenced bag
	// under a key the inventory does not name. Never orphans: gb does not
	// delete anything with a referenced id.
	Misnamed []store.ObjectInfo
	// SystemYears: years whose system folder holds an
	// inventory.json (or inventory.json.age), ascending.
	SystemYears []int
	// Bags and Manifests count the bag and manifest objects listed; Other
	// counts objects gb did not write (left alone).
	Bags, Manifests, Other int
}

// Analyze compares the store's objects with the inventory. An orphan is a
// stored bag no inventory atom references, or a manifest whose bag is an
// orphan or missing. Nothing the inventory references, by key or by bag
// id, is ever an orphan, and system files never are.
func Analyze(inv *inventory.Inventory, objects []store.ObjectInfo) *Analysis {
	a := &Analysis{Objects: map[string]store.ObjectInfo{}, Referenced: inv.Referenced()}
	refKeys := map[string]bool{}
	refManifests := map[string]bool{}
	for id := range a.Referenced {
		b := inv.Bags[id]
		refKeys[b.Key] = true
		if b.ManifestKey != "" {
			refManifests[b.ManifestKey] = true
		}
	}
	sorted := append([]store.ObjectInfo(nil), objects...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	orphanBagByID := map[string]string{}
	for _, o := range sorted {
		a.Objects[o.Key] = o
		id, kind := layout.BagOf(o.Key)
		if kind != layout.Bag {
			continue
		}
		a.Bags++
		switch {
		case refKeys[o.Key]:
		case a.Referenced[id]:
			a.Misnamed = append(a.Misnamed, o)
		default:
			reason := ReasonNotInInventory
			if b := inv.Bags[id]; b != nil && b.Key == o.Key {
				reason = ReasonRetired
			}
			orphanBagByID[id] = o.Key
			a.Orphans = append(a.Orphans, Orphan{Object: ObjectBag, Reason: reason, Key: o.Key, Bag: id, Info: o})
		}
	}
	years := map[int]bool{}
	for _, o := range sorted {
		k, ok := layout.Parse(o.Key)
		switch {
		case !ok:
			a.Other++
			continue
		case k.Kind == layout.System:
			if layout.IsInventory(k.Name) {
				years[k.Year] = true
			}
			continue
		case k.Kind == layout.Bag:
			continue
		}
		a.Manifests++
		id := k.Bag
		switch {
		case refManifests[o.Key]:
		case a.Referenced[id]:
			// The inventory names another manifest key for this bag; an
			// empty manifest_key (never stored) names none.
			if inv.Bags[id].ManifestKey != "" {
				a.Misnamed = append(a.Misnamed, o)
			}
		case orphanBagByID[id] != "":
			a.Orphans = append(a.Orphans, Orphan{Object: ObjectManifest, Reason: ReasonBagOrphaned, Key: o.Key, Bag: id, BagKey: orphanBagByID[id], Info: o})
		default:
			a.Orphans = append(a.Orphans, Orphan{Object: ObjectManifest, Reason: ReasonBagMissing, Key: o.Key, Bag: id, Info: o})
		}
	}
	sort.Slice(a.Orphans, func(i, j int) bool { return a.Orphans[i].Key < a.Orphans[j].Key })
	for y := range years {
		a.SystemYears = append(a.SystemYears, y)
	}
	sort.Ints(a.SystemYears)
	for _, id := range inv.SortedBagIDs() {
		b := inv.Bags[id]
		_, stored := a.Objects[b.Key]
		switch {
		case stored || b.Key == "":
		case a.Referenced[id]:
			a.Missing = append(a.Missing, id)
		default:
			a.GoneRetired = append(a.GoneRetired, id)
		}
	}
	return a
}

// ListObjects lists every object in the store.
func ListObjects(ctx context.Context, st store.Store) ([]store.ObjectInfo, error) {
	var objs []store.ObjectInfo
	err := st.List(ctx, "", func(o store.ObjectInfo) error {
		objs = append(objs, o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", st, err)
	}
	return objs, nil
}

// ListUploads lists the store's incomplete uploads; a store that keeps
// none (store.UploadLister not implemented) has none.
func ListUploads(ctx context.Context, st store.Store) ([]store.Upload, error) {
	ul, ok := st.(store.UploadLister)
	if !ok {
		return nil, nil
	}
	var ups []store.Upload
	err := ul.ListUploads(ctx, "", func(u store.Upload) error {
		ups = append(ups, u)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list incomplete uploads in %s: %w", st, err)
	}
	return ups, nil
}

// Snapshot is an inventory and the listing of the store it describes, read
// together, and their analysis.
type Snapshot struct {
	Inventory *inventory.Inventory
	Objects   []store.ObjectInfo
	Analysis  *Analysis
	// InventoryMissing: there was no inventory file (an empty inventory
	// was analysed); CheckInventory says whether that may be acted on.
	InventoryMissing bool
}

// Read loads the inventory invFile, lists the store and analyses them.
func Read(ctx context.Context, invFile string, st store.Store) (*Snapshot, error) {
	_, statErr := os.Stat(invFile)
	inv, err := inventory.Load(invFile)
	if err != nil {
		return nil, err
	}
	objs, err := ListObjects(ctx, st)
	if err != nil {
		return nil, err
	}
	return &Snapshot{Inventory: inv, Objects: objs, Analysis: Analyze(inv, objs), InventoryMissing: errors.Is(statErr, fs.ErrNotExist)}, nil
}
