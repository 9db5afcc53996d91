package plan

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/inventory"
)

// Why an operation packs an atom again (the flag that asked for it).
const (
	ResetSource       = "reset-source"
	ResetBag          = "reset-bag"
	Repack            = "repack"
	RepackUnderfilled = "repack-underfilled"
)

type operations struct {
	reset map[string]string // inventory atom key -> operation
	names []string          // for the summary: "--reset-bag bag_000003"
}

// operationAtoms works out which inventory atoms the operations pack
// again, refusing names that are not in the inventory. Pinned atoms move
// only when their source or bag is named.
func operationAtoms(inv *inventory.Inventory, opts Options, target int64) (operations, error) {
	ops := operations{reset: map[string]string{}}
	mark := func(op string, pick func(k string, a *inventory.Atom) bool) int {
		n := 0
		for k, a := range inv.Atoms {
			if ops.reset[k] == "" && pick(k, a) {
				ops.reset[k] = op
				n++
			}
		}
		return n
	}
	for _, src := range opts.ResetSources {
		clean := filepath.Clean(src)
		if inv.Sources[clean] == nil && mark(ResetSource, func(_ string, a *inventory.Atom) bool { return a.Source == clean }) == 0 {
			return ops, &config.Error{Msg: fmt.Sprintf("--reset-source %s: no such source in the inventory", src), Hint: "name the source as list.txt had it, without its ::tags (jq '.sources | keys' inventory.json lists them)"}
		}
		mark(ResetSource, func(_ string, a *inventory.Atom) bool { return a.Source == clean })
		ops.names = append(ops.names, "--reset-source "+clean)
	}
	for _, id := range opts.ResetBags {
		if _, err := inventory.ParseBagID(id); err != nil {
			return ops, &config.Error{Msg: fmt.Sprintf("--reset-bag %s: %v", id, err), Hint: "bag ids look like bag_000042 (gb-find or inventory.json shows them)"}
		}
		bg := inv.Bags[id]
		if bg == nil {
			return ops, &config.Error{Msg: fmt.Sprintf("--reset-bag %s: no such bag in the inventory", id)}
		}
		if mark(ResetBag, func(_ string, a *inventory.Atom) bool { return slices.Contains(a.Bags, id) }) == 0 && !bg.RetiredAt.IsZero() {
			return ops, &config.Error{Msg: fmt.Sprintf("--reset-bag %s: the bag is retired, no atom is in it any more", id), Hint: "gb-prune deletes it once it is free to delete"}
		}
		ops.names = append(ops.names, "--reset-bag "+id)
	}
	if opts.Repack {
		mark(Repack, func(_ string, a *inventory.Atom) bool { return !a.Pinned })
		ops.names = append(ops.names, "--repack")
	}
	if pct := opts.RepackUnderfilled; pct != 0 {
		if pct < 0 || pct > 100 {
			return ops, &config.Error{Msg: fmt.Sprintf("--repack-underfilled %g: give a percentage of target_bag_gb, above 0 and at most 100", pct)}
		}
		limit := int64(pct / 100 * float64(target))
		under := map[string]bool{}
		for id, bg := range inv.Bags {
			if bg.RetiredAt.IsZero() && bg.Bytes < limit {
				under[id] = true
			}
		}
		// A split atom's last part is small by nature; packing the whole
		// atom again to fill it would move far more than it saves.
		mark(RepackUnderfilled, func(_ string, a *inventory.Atom) bool {
			return !a.Pinned && len(a.Bags) == 1 && under[a.Bags[0]]
		})
		ops.names = append(ops.names, "--repack-underfilled "+strconv.FormatFloat(pct, 'f', -1, 64))
	}
	return ops, nil
}
