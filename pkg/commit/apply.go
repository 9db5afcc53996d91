package commit

import (
	"fmt"
	"sort"
	"time"

	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/records"
)

// The changes gb-commit makes to the inventory. They touch the inventory
// in memory only; Run reads the records before and saves after.

// ledger is what a commit has applied so far.
type ledger struct {
	inv     *inventory.Inventory
	now     time.Time
	bags    map[string]*plannedBag    // the plan's bags by id
	partsUp map[string]map[int]string // atom -> part -> stored bag id
	done    map[string]bool           // atoms applied this run
	spent   int                       // highest bag id whose key holds an object
	sum     *records.Committed
}

func newLedger(inv *inventory.Inventory, now time.Time, sum *records.Committed) *ledger {
	return &ledger{inv: inv, now: now, bags: map[string]*plannedBag{}, partsUp: map[string]map[int]string{}, done: map[string]bool{}, sum: sum}
}

// apply records a stored bag and points every atom whose parts are now
// all stored at its new bags. An atom split over several bags keeps its
// old entry until its last part is stored.
func (g *ledger) apply(b *plannedBag, stored inventory.Bag) error {
	b.uploaded = true
	for _, a := range b.atoms {
		stored.Atoms = append(stored.Atoms, a.key)
	}
	stored.Encrypt, stored.Keys = b.encrypt, b.keys
	g.inv.Bags[b.id] = &stored
	g.spend(b.id)
	if g.spent >= g.inv.NextBag {
		g.inv.NextBag = g.spent + 1
	}
	g.sum.BagsCommitted++
	g.sum.BytesCommitted += stored.Bytes
	for _, a := range b.atoms {
		if g.partsUp[a.key] == nil {
			g.partsUp[a.key] = map[int]string{}
		}
		g.partsUp[a.key][a.part] = b.id
		if len(g.partsUp[a.key]) < a.parts {
			continue
		}
		na, err := g.packedAtom(b, a)
		if err != nil {
			return err
		}
		if old := g.inv.Atoms[a.key]; old != nil {
			na.FirstSeen, na.Pinned = old.FirstSeen, old.Pinned
		}
		g.inv.Atoms[a.key] = na
		g.done[a.key] = true
		g.sum.AtomsPacked++
	}
	return nil
}

// packedAtom is the inventory entry of an atom whose every part is stored,
// the last in bag b.
func (g *ledger) packedAtom(b *plannedBag, a plannedAtom) (*inventory.Atom, error) {
	var ids []string
	incomplete := false
	var files, bytes int64
	for i := 1; i <= a.parts; i++ {
		id := g.partsUp[a.key][i]
		if id == "" {
			return nil, fmt.Errorf("atom %s: part %d of %d has no bag", a.key, i, a.parts)
		}
		ids = append(ids, id)
		pb := g.bags[id]
		if pb.incomplete[a.key] {
			incomplete = true
		}
		for _, pa := range pb.atoms {
			if pa.key == a.key {
				files += pa.files
				bytes += pa.bytes
			}
		}
	}
	sort.Strings(ids)
	na := &inventory.Atom{Source: b.source, Type: a.typ, LastMetadataHash: a.hash, TarID: ids[0], ArchiveKey: g.inv.Bags[ids[0]].Key,
		Bags: ids, Files: files, Bytes: bytes, FirstSeen: g.now, LastSeen: g.now, PackedAt: g.now, Incomplete: incomplete,
		Encrypt: b.encrypt, Keys: b.keys}
	if a.parts == 1 {
		na.Files, na.Bytes = a.files, a.bytes
	}
	return na, nil
}

// spend marks a bag id as used by an object in the store.
func (g *ledger) spend(id string) {
	if n, err := inventory.ParseBagID(id); err == nil && n > g.spent {
		g.spent = n
	}
}

// keep marks the kept atoms as seen now and back on disk, and returns how
// many it touched: atoms packed this run are already up to date.
func keep(inv *inventory.Inventory, keys []string, done map[string]bool, now time.Time) int {
	n := 0
	for _, k := range keys {
		if a := inv.Atoms[k]; a != nil && !done[k] {
			a.LastSeen = now
			a.GoneSince = time.Time{}
			n++
		}
	}
	return n
}

// markGone stamps the first run that missed each atom; a later run keeps
// the first stamp, which keep_deleted_days counts from.
func markGone(inv *inventory.Inventory, gones map[string]time.Time) {
	for k, since := range gones {
		if a := inv.Atoms[k]; a != nil && a.GoneSince.IsZero() {
			a.GoneSince = since
		}
	}
}

// forget deletes the forgotten atoms and returns how many there were. A
// source the scan did not list and that has no atom left (it was reset)
// leaves the inventory too.
func forget(inv *inventory.Inventory, keys []string, scanned map[string]inventory.Source) int {
	n := 0
	for _, k := range keys {
		if inv.Atoms[k] != nil {
			delete(inv.Atoms, k)
			n++
		}
	}
	left := map[string]bool{}
	for _, a := range inv.Atoms {
		left[a.Source] = true
	}
	for src := range inv.Sources {
		if _, ok := scanned[src]; !ok && !left[src] {
			delete(inv.Sources, src)
		}
	}
	return n
}

// updateSources records the scanned sources as seen now, keeping when each
// was first seen.
func updateSources(inv *inventory.Inventory, scanned map[string]inventory.Source, now time.Time) {
	for src, so := range scanned {
		so.FirstSeen, so.LastSeen = now, now
		if old := inv.Sources[src]; old != nil {
			so.FirstSeen = old.FirstSeen
		}
		inv.Sources[src] = &so
	}
}

// pending counts the atoms of the plan's bags that were not stored this
// run (they keep their previous entry and are packed again next run).
// planDirty is the plan's count of atoms to pack: bags dropped between
// plan and commit never show up here, but are still pending; -1 when the
// plan summary never came.
func pending(bags []*plannedBag, done map[string]bool, planDirty, packed int) int {
	n := 0
	for _, b := range bags {
		if b.uploaded {
			continue
		}
		for _, a := range b.atoms {
			if !done[a.key] {
				n++
			}
		}
	}
	if planDirty >= 0 && planDirty-packed > n {
		n = planDirty - packed
	}
	return n
}

// advanceNextBag moves the plan's next_bag past the spent ids. Only ids
// whose key now holds an object (stored, or refused because something else
// is there) are spent. A bag that was planned but never stored (dropped by
// a stage, or cut off mid-upload) keeps its id: the next run plans the
// same bag under it and gb-put resumes or adopts. A dry run spends every
// planned id (maxID), as if all were stored.
func advanceNextBag(inv *inventory.Inventory, spent, maxID int, dryRun bool) {
	if dryRun && maxID >= inv.NextBag {
		inv.NextBag = maxID + 1
	}
	if spent >= inv.NextBag {
		inv.NextBag = spent + 1
	}
}

// stampRetired sets retired_at on the bags no atom refers to any more, now
// for those newly unreferenced, and clears it on bags referenced again. It
// returns the bags retired now, in id order.
func stampRetired(inv *inventory.Inventory, now time.Time) []string {
	var retired []string
	ref := inv.Referenced()
	for _, id := range inv.SortedBagIDs() {
		b := inv.Bags[id]
		switch {
		case !ref[id] && b.RetiredAt.IsZero():
			b.RetiredAt = now
			retired = append(retired, id)
		case ref[id]:
			b.RetiredAt = time.Time{}
		}
	}
	return retired
}

// addRun appends this commit to the inventory's runs.
func addRun(inv *inventory.Inventory, sum records.Committed, now time.Time) {
	inv.Runs = append(inv.Runs, inventory.Run{At: now, DryRun: sum.DryRun, BagsAdded: sum.BagsCommitted, BytesAdded: sum.BytesCommitted,
		AtomsPacked: sum.AtomsPacked, AtomsKept: sum.AtomsKept, Forgotten: sum.AtomsForgotten, Pending: sum.AtomsPending})
}
