package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
)

// Bag states in restore_status and restore_bag records.
const (
	StateFrozen   = "frozen"   // cold, no restore in progress (never requested, or the copy expired)
	StateThawing  = "thawing"  // a restore is on its way
	StateReady    = "ready"    // readable now (until expires_at)
	StateRestored = "restored" // fetch extracted it
	StateMissing  = "missing"  // the store has no such object
	StateFailed   = "failed"   // fetch: download, check or extraction failed
)

// bagState asks the store where a bag stands (not for restored bags).
func bagState(ctx context.Context, st store.Store, b *Bag, now time.Time) (records.RestoreStatus, error) {
	r := records.RestoreStatus{Kind: records.KindRestoreStatus, Bag: b.Bag, Key: b.Key, Bytes: b.Bytes, RequestedAt: b.RequestedAt, Tier: b.Tier}
	info, err := st.Head(ctx, b.Key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		r.State = StateMissing
		return r, nil
	case err != nil:
		return r, fmt.Errorf("bag %s: %w", b.Bag, err)
	}
	r.StorageClass = info.StorageClass
	if info.Restore.Tier != "" {
		r.Tier = info.Restore.Tier
	}
	if !info.Restore.RequestedAt.IsZero() {
		r.RequestedAt = info.Restore.RequestedAt
	}
	switch {
	case !store.IsCold(info.StorageClass):
		r.State = StateReady
	case info.Restore.Ongoing:
		r.State = StateThawing
		r.ReadyAt = info.Restore.ReadyAt // the local store knows; S3 does not say
		if r.ReadyAt.IsZero() && !r.RequestedAt.IsZero() {
			r.ReadyBy = r.RequestedAt.Add(time.Duration(cost.RestoreHours(r.Tier)) * time.Hour)
		}
	case info.Readable(now):
		r.State = StateReady
		r.ExpiresAt = info.Restore.ExpiresAt
	default:
		r.State = StateFrozen
	}
	return r, nil
}

// Status writes a restore_status record per bag and a summary on stderr.
// It returns ErrFrozen when some bag has no restore in progress, else
// ErrNotReady while some are thawing, else nil: every bag is ready or
// restored.
func Status(ctx context.Context, out, errOut io.Writer, opts Options) error {
	s, err := LoadState(opts.stateFile())
	if err != nil {
		return err
	}
	warnDest(errOut, s, opts)
	w := records.NewWriter(out)
	n := map[string]int{}
	var expires time.Time
	for _, b := range s.Bags {
		var r records.RestoreStatus
		if !b.RestoredAt.IsZero() {
			r = records.RestoreStatus{Kind: records.KindRestoreStatus, Bag: b.Bag, Key: b.Key, State: StateRestored, Bytes: b.Bytes, Tier: b.Tier,
				RequestedAt: b.RequestedAt, RestoredAt: b.RestoredAt, Target: b.Target}
		} else if r, err = bagState(ctx, opts.Store, b, opts.Now); err != nil {
			return err
		}
		n[r.State]++
		if !r.ExpiresAt.IsZero() && (expires.IsZero() || r.ExpiresAt.Before(expires)) {
			expires = r.ExpiresAt
		}
		if err := w.Write(r); err != nil {
			return err
		}
		line := fmt.Sprintf("gb-restore: %s %s: %s", b.Bag, cost.Bytes(b.Bytes), r.State)
		switch {
		case r.State == StateReady && !r.ExpiresAt.IsZero():
			line += " until " + r.ExpiresAt.Format(time.RFC3339)
		case r.State == StateThawing && !r.ReadyAt.IsZero():
			line += fmt.Sprintf(" (%s), ready at %s", r.Tier, r.ReadyAt.Format(time.RFC3339))
		case r.State == StateThawing && !r.ReadyBy.IsZero():
			line += fmt.Sprintf(" (%s), ready by %s at the latest", r.Tier, r.ReadyBy.Format(time.RFC3339))
		case r.State == StateRestored:
			line += " into " + r.Target
		}
		fmt.Fprintln(errOut, line)
	}
	sum := fmt.Sprintf("gb-restore: %d bags: %d restored, %d ready, %d thawing, %d frozen", len(s.Bags), n[StateRestored], n[StateReady], n[StateThawing], n[StateFrozen])
	if n[StateMissing] > 0 {
		sum += fmt.Sprintf(", %d missing from %s", n[StateMissing], opts.Store)
	}
	switch {
	case n[StateMissing] > 0:
		fmt.Fprintln(errOut, sum)
		return fmt.Errorf("%s not in the store; check the destination (dest) or run gb-audit", plural(int64(n[StateMissing]), "bag is", "bags are"))
	case n[StateFrozen] > 0:
		fmt.Fprintln(errOut, sum+"; next: gb-restore request (exit 6)")
		return ErrFrozen
	case n[StateThawing] > 0:
		fmt.Fprintln(errOut, sum+"; run gb-restore status again later (exit 5)")
		return ErrNotReady
	case n[StateReady] > 0:
		if !expires.IsZero() {
			sum += ", the first copy expires " + expires.Format(time.RFC3339)
		}
		fmt.Fprintln(errOut, sum+"; next: gb-restore fetch --target DIR")
	default:
		fmt.Fprintln(errOut, sum+"; done")
	}
	return nil
}
