package analysis

import (
	"fmt"
	"time"

	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/store"
)

// Retained reports whether objects of class are billed for a minimum
// duration: every class but STANDARD (Deep Archive 180 days, and gb uses
// min_retention_days for any cold class a provider has).
func Retained(class string) bool { return class != "" && class != store.Standard }

// Age is what an object's age means for deleting it at a given time.
type Age struct {
	Days float64
	// Fee is the early-deletion fee of deleting it now, unrounded.
	Fee float64
	// DeletableFrom is when deleting it costs nothing more (the end of
	// its minimum storage duration), or for an incomplete upload when it
	// becomes older than abort_uploads_after; zero when that is now.
	DeletableFrom time.Time
}

// AgeOf is the age of a stored object at now.
func AgeOf(info store.ObjectInfo, p cost.Prices, now time.Time) Age {
	a := Age{Days: cost.AgeDays(info.UploadedAt, now)}
	if Retained(info.StorageClass) {
		fee, free := p.EarlyDeletion(info.Size, info.UploadedAt, now)
		a.Fee = fee
		if fee > 0 {
			a.DeletableFrom = free
		}
	}
	return a
}

// UploadAge is the age of an incomplete upload at now; it may be aborted
// once older than abortAfter.
func UploadAge(u store.Upload, now time.Time, abortAfter time.Duration) Age {
	a := Age{Days: cost.AgeDays(u.Initiated, now)}
	start := u.Initiated
	if start.After(now) {
		start = now
	}
	if at := start.Add(abortAfter); at.After(now) {
		a.DeletableFrom = at
	}
	return a
}

// Waiting reports whether an orphan is a retired bag still inside its
// minimum storage duration at now: the normal life of an archive backed
// up more often than that, not a problem.
func Waiting(o Orphan, p cost.Prices, now time.Time) bool {
	return o.Object == ObjectBag && o.Reason == ReasonRetired && AgeOf(o.Info, p, now).DeletableFrom.After(now)
}

// Refusal is an analysis that must not be acted on: the inventory does
// not describe this store.
type Refusal struct{ Msg, Hint string }

func (e *Refusal) Error() string    { return e.Msg }
func (e *Refusal) HintText() string { return e.Hint }

// CheckInventory refuses an inventory that would make every stored bag
// look like an orphan: a missing file while the store holds bags, or one
// whose referenced bags are all absent from the store (a wrong dest or the
// inventory of another archive).
func CheckInventory(invFile string, invMissing bool, a *Analysis, st fmt.Stringer) error {
	if invMissing && a.Bags > 0 {
		return &Refusal{fmt.Sprintf("inventory %s does not exist, but %s holds %d bags; without it every bag would look like an orphan", invFile, st, a.Bags),
			"set inventory_file to the inventory of this archive, or restore it from " + layout.InventoryPattern}
	}
	if n := len(a.Referenced); n > 0 && len(a.Missing) == n {
		return &Refusal{fmt.Sprintf("%s holds none of the %d bags %s refers to; is this the right destination?", st, n, invFile),
			"check dest (or s3_bucket) and inventory_file; gb-audit lists the missing bags"}
	}
	return nil
}
