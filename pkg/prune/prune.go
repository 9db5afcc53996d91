// Package prune is gb-prune: it lists the bags and manifests in the store
// that the inventory no longer needs (orphans), says what deleting each
// would cost, and with --delete deletes those that are free to delete. It
// also aborts incomplete multipart uploads older than abort_uploads_after.
//
// Safety rules, in order of importance:
//   - Nothing the inventory references (by key or by bag id) is deleted,
//     and nothing under <year>-backup/system/ or that gb did not write.
//   - With --delete it holds the inventory lock (inventory.json.lock), so
//     it never runs beside a gb-commit whose bags are not yet committed.
//   - Without an inventory file, or when the store holds none of the bags
//     the inventory refers to (a wrong dest), it stops before deciding
//     anything: every bag would look like an orphan.
//   - A bag younger than min_retention_days is kept unless --allow-early
//     says to pay the early-deletion fee.
//
// Deleted bags that the inventory still lists (retired bags) are dropped
// from inventory.json, saved atomically under the lock, so its bag totals
// keep matching the bill.
package prune

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
)

// Record kinds written by gb-prune.
const (
	KindOrphan  = "orphan"
	KindDeleted = "deleted"
	KindPrune   = "prune"
)

// Why --delete leaves an orphan in place (the orphan record's "kept").
const (
	KeptYoung   = "young"    // younger than min_retention_days; --allow-early deletes it
	KeptBagKept = "bag-kept" // a manifest whose bag is kept
	KeptRecent  = "recent"   // an upload younger than abort_uploads_after
)

// Options configure a prune.
type Options struct {
	Settings *config.Settings
	Store    store.Store
	Now      time.Time
	// Delete deletes orphans (default: list them only).
	Delete bool
	// AllowEarly deletes bags younger than min_retention_days too, paying
	// the early-deletion fee.
	AllowEarly bool
	// AbortUploadsAfter: incomplete uploads at least this old are aborted
	// with Delete.
	AbortUploadsAfter time.Duration
}

// OrphanRecord is the "orphan" record: one object (or incomplete upload)
// the inventory does not need.
type OrphanRecord struct {
	Kind         string    `json:"kind"`
	Object       string    `json:"object"`
	Key          string    `json:"key"`
	Bag          string    `json:"bag,omitempty"`
	BagKey       string    `json:"bag_key,omitempty"`
	UploadID     string    `json:"upload_id,omitempty"`
	Reason       string    `json:"reason"`
	Bytes        int64     `json:"bytes"`
	StorageClass string    `json:"storage_class"`
	UploadedAt   time.Time `json:"uploaded_at"`
	AgeDays      float64   `json:"age_days"`
	Fee          float64   `json:"early_deletion_fee_usd"`
	// DeletableFrom is when --delete (without --allow-early) deletes it:
	// the end of its minimum storage duration, or for an upload when it
	// becomes older than abort_uploads_after. Left out when that is now.
	DeletableFrom time.Time `json:"deletable_from,omitzero"`
	Kept          string    `json:"kept,omitempty"`

	fee       float64 // unrounded
	deletable bool
	retired   bool
}

// DeletedRecord is the "deleted" record: an object deleted, an upload
// aborted, or a retired bag already gone dropped from the inventory.
type DeletedRecord struct {
	Kind             string    `json:"kind"`
	Object           string    `json:"object"`
	Key              string    `json:"key"`
	Bag              string    `json:"bag,omitempty"`
	UploadID         string    `json:"upload_id,omitempty"`
	Reason           string    `json:"reason"`
	Bytes            int64     `json:"bytes"`
	StorageClass     string    `json:"storage_class,omitempty"`
	UploadedAt       time.Time `json:"uploaded_at,omitzero"`
	AgeDays          float64   `json:"age_days"`
	Fee              float64   `json:"early_deletion_fee_usd"`
	InventoryDropped bool      `json:"inventory_dropped,omitempty"`
	AlreadyGone      bool      `json:"already_gone,omitempty"`
	LocalManifest    string    `json:"local_manifest,omitempty"`
}

// Summary is the "prune" record, written last.
type Summary struct {
	Kind             string    `json:"kind"`
	Store            string    `json:"store"`
	Inventory        string    `json:"inventory"`
	At               time.Time `json:"at"`
	DryRun           bool      `json:"dry_run"`
	OrphanBags       int       `json:"orphan_bags"`
	OrphanManifests  int       `json:"orphan_manifests"`
	OrphanBytes      int64     `json:"orphan_bytes"`
	DeletedBags      int       `json:"deleted_bags"`
	DeletedManifests int       `json:"deleted_manifests"`
	DeletedBytes     int64     `json:"deleted_bytes"`
	Fees             float64   `json:"early_deletion_fees_usd"`
	KeptYoung        int       `json:"kept_young"`
	KeptYoungBytes   int64     `json:"kept_young_bytes"`
	FeesIfDeletedNow float64   `json:"kept_young_fees_usd"`
	NextDeletable    time.Time `json:"next_deletable_from,omitzero"`
	LastDeletable    time.Time `json:"last_deletable_from,omitzero"`
	Uploads          int       `json:"uploads"`
	UploadsAborted   int       `json:"uploads_aborted"`
	InventoryDropped []string  `json:"inventory_dropped,omitempty"`
	SystemFiles      []string  `json:"system_files,omitempty"`
	Failed           int       `json:"failed,omitempty"`

	uploadBytes, bagBytes     int64
	wouldBags, wouldManifests int
	fees, feesNow, wouldFees  float64 // unrounded, for people
}

// Retained reports whether objects of class are billed for a minimum
// duration: every class but STANDARD (Deep Archive 180 days, and gb uses
// min_retention_days for any cold class a provider has).
func Retained(class string) bool { return class != "" && class != store.Standard }

// Describe builds the orphan record of o at now.
func Describe(o Orphan, p cost.Prices, now time.Time) OrphanRecord {
	r := OrphanRecord{Kind: KindOrphan, Object: o.Object, Key: o.Key, Bag: o.Bag, BagKey: o.BagKey, Reason: o.Reason,
		Bytes: o.Info.Size, StorageClass: o.Info.StorageClass, UploadedAt: o.Info.UploadedAt, AgeDays: cost.AgeDays(o.Info.UploadedAt, now),
		retired: o.Reason == ReasonRetired}
	if Retained(o.Info.StorageClass) {
		fee, free := p.EarlyDeletion(o.Info.Size, o.Info.UploadedAt, now)
		r.fee, r.Fee = fee, cost.Round(fee)
		if fee > 0 {
			r.DeletableFrom = free
		}
	}
	return r
}

// DescribeUpload builds the orphan record of an incomplete upload at now.
func DescribeUpload(u store.Upload, now time.Time, abortAfter time.Duration) OrphanRecord {
	r := OrphanRecord{Kind: KindOrphan, Object: ObjectUpload, Key: u.Key, UploadID: u.ID, Reason: ReasonIncompleteUpload,
		Bytes: u.Size, StorageClass: u.StorageClass, UploadedAt: u.Initiated, AgeDays: cost.AgeDays(u.Initiated, now)}
	start := u.Initiated
	if start.After(now) {
		start = now
	}
	if at := start.Add(abortAfter); at.After(now) {
		r.DeletableFrom = at
	}
	return r
}

// ParseAge reads abort_uploads_after: days ("7d", "1.5d"), a Go duration
// ("36h", "90m"), or "0".
func ParseAge(v string) (time.Duration, error) {
	s := strings.TrimSpace(v)
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var f float64
		f, err = strconv.ParseFloat(n, 64)
		d = time.Duration(f * float64(24*time.Hour))
	} else if s == "0" {
		d = 0
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < 0 || s == "" {
		return 0, &config.Error{Msg: fmt.Sprintf("abort_uploads_after: %q is not an age (use days such as 7d, hours such as 36h, or 0)", v)}
	}
	return d, nil
}

// refusal is an error that stops prune before it decides anything.
type refusal struct{ msg, hint string }

func (e *refusal) Error() string    { return e.msg }
func (e *refusal) HintText() string { return e.hint }

// CheckInventory refuses an inventory that would make every stored bag
// look like an orphan: a missing file while the store holds bags, or one
// whose referenced bags are all absent from the store (a wrong dest or the
// inventory of another archive).
func CheckInventory(invFile string, invMissing bool, a *Analysis, st store.Store) error {
	if invMissing && a.Bags > 0 {
		return &refusal{fmt.Sprintf("inventory %s does not exist, but %s holds %d bags; without it every bag would look like an orphan", invFile, st, a.Bags),
			"set inventory_file to the inventory of this archive, or restore it from <year>-backup/system/inventory.json"}
	}
	if n := len(a.Referenced); n > 0 && len(a.Missing) == n {
		return &refusal{fmt.Sprintf("%s holds none of the %d bags %s refers to; is this the right destination?", st, n, invFile),
			"check dest (or s3_bucket) and inventory_file; gb-audit lists the missing bags"}
	}
	return nil
}

// Run lists orphans and, with opts.Delete, deletes those free to delete.
// It reads no input (in may be nil).
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) error {
	st := opts.Settings
	prices := st.Prices()
	now := opts.Now
	if opts.Delete {
		lock, err := inventory.Acquire(st.InventoryFile)
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	_, statErr := os.Stat(st.InventoryFile)
	inv, err := inventory.Load(st.InventoryFile)
	if err != nil {
		return err
	}
	objs, err := ListObjects(ctx, opts.Store)
	if err != nil {
		return err
	}
	a := Analyze(inv, objs)
	if err := CheckInventory(st.InventoryFile, errors.Is(statErr, fs.ErrNotExist), a, opts.Store); err != nil {
		return err
	}
	uploads, err := ListUploads(ctx, opts.Store)
	if err != nil {
		return err
	}

	w := records.NewWriter(out)
	sum := Summary{Kind: KindPrune, Store: opts.Store.String(), Inventory: st.InventoryFile, At: now, DryRun: !opts.Delete}

	// Decide, for every orphan, what --delete does with it.
	recs := make([]OrphanRecord, len(a.Orphans))
	bagKept := map[string]bool{}
	for i, o := range a.Orphans {
		r := Describe(o, prices, now)
		if o.Object == ObjectBag {
			r.deletable = r.fee == 0 || opts.AllowEarly
			if !r.deletable {
				r.Kept = KeptYoung
				bagKept[o.Key] = true
			}
		}
		recs[i] = r
	}
	for i, o := range a.Orphans {
		r := &recs[i]
		if o.Object != ObjectManifest {
			continue
		}
		switch {
		case bagKept[o.BagKey]:
			r.Kept = KeptBagKept
		case r.fee > 0 && !opts.AllowEarly:
			r.Kept = KeptYoung
		default:
			r.deletable = true
		}
	}
	upRecs := make([]OrphanRecord, len(uploads))
	for i, u := range uploads {
		r := DescribeUpload(u, now, opts.AbortUploadsAfter)
		r.deletable = r.DeletableFrom.IsZero()
		if !r.deletable {
			r.Kept = KeptRecent
		}
		upRecs[i] = r
	}

	all := append(append([]OrphanRecord(nil), recs...), upRecs...)
	for _, r := range all {
		if err := w.Write(r); err != nil {
			return err
		}
		sum.OrphanBytes += r.Bytes
		switch {
		case r.Object == ObjectUpload:
			sum.Uploads++
			sum.uploadBytes += r.Bytes
			continue
		case r.Object == ObjectBag:
			sum.OrphanBags++
			sum.bagBytes += r.Bytes
			if r.deletable {
				sum.wouldBags++
			}
		default:
			sum.OrphanManifests++
			if r.deletable {
				sum.wouldManifests++
			}
		}
		if r.deletable {
			sum.wouldFees += r.fee
		}
		if r.Kept == KeptYoung && r.Object == ObjectBag {
			sum.KeptYoung++
			sum.KeptYoungBytes += r.Bytes
			sum.feesNow += r.fee
			if sum.NextDeletable.IsZero() || r.DeletableFrom.Before(sum.NextDeletable) {
				sum.NextDeletable = r.DeletableFrom
			}
			if r.DeletableFrom.After(sum.LastDeletable) {
				sum.LastDeletable = r.DeletableFrom
			}
		}
	}
	sum.FeesIfDeletedNow = cost.Round(sum.feesNow)

	var failed []string
	invChanged := false
	if opts.Delete {
		deleted := map[string]bool{}
		// A record that cannot be written stops the deleting (nothing is
		// deleted without its record), but what was done is still saved.
		stop := func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return w.Err()
		}
		del := func(r OrphanRecord) error {
			if err := stop(); err != nil {
				return err
			}
			// The last word before anything goes: never what the
			// inventory references.
			if id, _ := BagIDOfKey(r.Key); a.Referenced[id] || id == "" {
				return fmt.Errorf("%s: refusing to delete an object the inventory refers to", r.Key)
			}
			if err := opts.Store.Delete(ctx, r.Key); err != nil {
				return err
			}
			deleted[r.Key] = true
			d := DeletedRecord{Kind: KindDeleted, Object: r.Object, Key: r.Key, Bag: r.Bag, Reason: r.Reason, Bytes: r.Bytes,
				StorageClass: r.StorageClass, UploadedAt: r.UploadedAt, AgeDays: r.AgeDays, Fee: r.Fee}
			if r.Object == ObjectBag {
				if r.retired {
					delete(inv.Bags, r.Bag)
					d.InventoryDropped, invChanged = true, true
					sum.InventoryDropped = append(sum.InventoryDropped, r.Bag)
				}
				if lm := localManifest(st.ManifestDir, r.Key); lm != "" {
					d.LocalManifest = lm
				}
			}
			if r.Object == ObjectBag {
				sum.DeletedBags++
			} else {
				sum.DeletedManifests++
			}
			sum.DeletedBytes += r.Bytes
			sum.fees += r.fee
			w.Write(d) // sticky: see stop
			return nil
		}
		// Bags first: a manifest goes only once its bag is gone.
		for _, object := range []string{ObjectBag, ObjectManifest} {
			for _, r := range recs {
				if r.Object != object || !r.deletable || (object == ObjectManifest && r.BagKey != "" && !deleted[r.BagKey]) {
					continue
				}
				if err := del(r); err != nil {
					if stop() != nil {
						break
					}
					failed = append(failed, err.Error())
					fmt.Fprintf(errOut, "gb-prune: warning: delete %s: %v\n", r.Key, err)
				}
			}
		}
		ul, _ := opts.Store.(store.UploadLister)
		for _, r := range upRecs {
			if !r.deletable || ul == nil || stop() != nil {
				continue
			}
			if err := ul.AbortUpload(ctx, r.Key, r.UploadID); err != nil {
				failed = append(failed, err.Error())
				fmt.Fprintf(errOut, "gb-prune: warning: abort upload %s of %s: %v\n", r.UploadID, r.Key, err)
				continue
			}
			sum.UploadsAborted++
			w.Write(DeletedRecord{Kind: KindDeleted, Object: ObjectUpload, Key: r.Key, UploadID: r.UploadID, Reason: r.Reason,
				Bytes: r.Bytes, StorageClass: r.StorageClass, UploadedAt: r.UploadedAt, AgeDays: r.AgeDays})
		}
		// Retired bags already gone from the store leave the inventory too.
		for _, id := range a.GoneRetired {
			if stop() != nil {
				break
			}
			b := inv.Bags[id]
			delete(inv.Bags, id)
			invChanged = true
			sum.InventoryDropped = append(sum.InventoryDropped, id)
			w.Write(DeletedRecord{Kind: KindDeleted, Object: ObjectBag, Key: b.Key, Bag: id, Reason: ReasonRetired, Bytes: b.Bytes,
				StorageClass: b.StorageClass, UploadedAt: b.UploadedAt, AgeDays: cost.AgeDays(b.UploadedAt, now), InventoryDropped: true, AlreadyGone: true})
		}
	} else if n := len(a.GoneRetired); n > 0 {
		fmt.Fprintf(errOut, "gb-prune: %s in the inventory no longer in the store; --delete drops them from the inventory\n", plural(n, "retired bag"))
	}
	sum.Fees = cost.Round(sum.fees)
	sum.Failed = len(failed)

	if invChanged {
		if _, err := inventory.BackupDaily(st.InventoryFile, st.InventoryBakDir, now); err != nil {
			return fmt.Errorf("daily inventory backup: %w", err)
		}
		if err := inv.Save(st.InventoryFile); err != nil {
			return fmt.Errorf("save %s (the objects are deleted; the next gb-prune --delete drops them from the inventory): %w", st.InventoryFile, err)
		}
		keys, err := refreshSystem(ctx, opts.Store, a, inv, errOut)
		sum.SystemFiles = keys
		if err != nil {
			fmt.Fprintf(errOut, "gb-prune: warning: %v (the next gb-commit that changes something uploads it)\n", err)
		}
	}
	if n := len(a.Missing); n > 0 {
		fmt.Fprintf(errOut, "gb-prune: warning: %s the inventory refers to not in %s; run gb-audit\n", plural(n, "bag"), opts.Store)
	}
	if n := len(a.Misnamed); n > 0 {
		fmt.Fprintf(errOut, "gb-prune: warning: %d objects carry the id of a bag in use under another key; left alone (run gb-audit)\n", n)
	}
	if err := w.Write(sum); err != nil {
		return err
	}
	if err := w.Err(); err != nil {
		return err
	}
	fmt.Fprintf(errOut, "gb-prune: %s\n", sum.Line(st.MinRetentionDays, opts.AbortUploadsAfter))
	if len(failed) > 0 {
		return fmt.Errorf("%d deletions failed (first: %s); run gb-prune --delete again", len(failed), failed[0])
	}
	return ctx.Err()
}

// localManifest removes the local copy of a deleted bag's manifest, which
// would otherwise lead a search to a bag that is gone, and returns its
// path ("" when there was none).
func localManifest(dir, bagKey string) string {
	if dir == "" {
		return ""
	}
	p := filepath.Join(dir, manifest.FileName(bagKey))
	if err := os.Remove(p); err != nil {
		return ""
	}
	return p
}

// refreshSystem replaces <year>-backup/system/inventory.json of the latest
// year that has one, so a machine bootstrapped from the store does not
// count deleted bags. An encrypted copy (inventory.json.age) is left for
// the next gb-commit, which holds the keys.
func refreshSystem(ctx context.Context, st store.Store, a *Analysis, inv *inventory.Inventory, errOut io.Writer) ([]string, error) {
	if len(a.SystemYears) == 0 {
		return nil, nil
	}
	prefix := fmt.Sprintf("%d-backup/system/", a.SystemYears[len(a.SystemYears)-1])
	key := path.Join(prefix, "inventory.json")
	if _, ok := a.Objects[key]; !ok || inv.UsesEncryption() {
		// Never a plain copy of an inventory that names encrypted atoms.
		fmt.Fprintf(errOut, "gb-prune: %s.age is encrypted; the next gb-commit that changes something refreshes it\n", key)
		return nil, nil
	}
	b, err := inv.Marshal()
	if err != nil {
		return nil, err
	}
	if err := store.PutReplace(ctx, st, key, b); err != nil {
		return nil, fmt.Errorf("refresh %s: %w", key, err)
	}
	return []string{key}, nil
}

// Line is the one-line human summary.
func (s Summary) Line(minDays float64, abortAfter time.Duration) string {
	var parts []string
	head := "no orphans"
	if s.OrphanBags+s.OrphanManifests > 0 {
		head = fmt.Sprintf("%s, %s", plural(s.OrphanBags, "orphan bag"), cost.Bytes(s.bagBytes))
		if s.OrphanManifests > 0 {
			head += fmt.Sprintf(" (and %s)", plural(s.OrphanManifests, "orphan manifest"))
		}
	}
	if s.DryRun {
		head = "dry run: " + head
	}
	parts = append(parts, head)
	var act []string
	bags, mans, fees := s.DeletedBags, s.DeletedManifests, s.fees
	if s.DryRun {
		bags, mans, fees = s.wouldBags, s.wouldManifests, s.wouldFees
	}
	if bags+mans > 0 {
		d := "deleted " + objects(bags, mans)
		if s.DryRun {
			d = "delete " + objects(bags, mans)
		}
		if fees > 0 {
			d += fmt.Sprintf(" (early-deletion fees %s)", cost.USD(fees))
		}
		act = append(act, d)
	}
	if s.KeptYoung > 0 {
		verb, costs := "kept", "costs"
		if s.DryRun {
			verb, costs = "keep", "would cost"
		}
		act = append(act, fmt.Sprintf("%s %d younger than %s days (free to delete %s; deleting now %s %s: --allow-early)",
			verb, s.KeptYoung, strconv.FormatFloat(minDays, 'f', -1, 64), dateRange(s.NextDeletable, s.LastDeletable), costs, cost.USD(s.feesNow)))
	}
	switch {
	case len(act) > 0 && s.DryRun:
		parts = append(parts, "--delete would "+strings.Join(act, " and "))
	case len(act) > 0:
		parts = append(parts, strings.Join(act, ", "))
	}
	if n := len(s.InventoryDropped); n > 0 {
		parts = append(parts, fmt.Sprintf("%s dropped from the inventory", plural(n, "bag")))
	}
	if s.Uploads > 0 {
		u := fmt.Sprintf("%s, %s", plural(s.Uploads, "incomplete upload"), cost.Bytes(s.uploadBytes))
		switch {
		case !s.DryRun:
			u += fmt.Sprintf(": %d aborted", s.UploadsAborted)
			if k := s.Uploads - s.UploadsAborted; k > 0 {
				u += fmt.Sprintf(", %d younger than %s kept", k, FormatAge(abortAfter))
			}
		default:
			u += fmt.Sprintf(" (--delete aborts those older than %s)", FormatAge(abortAfter))
		}
		parts = append(parts, u)
	}
	return strings.Join(parts, "; ")
}

func objects(bags, manifests int) string {
	switch {
	case manifests == 0:
		return plural(bags, "bag")
	case bags == 0:
		return plural(manifests, "manifest")
	}
	return plural(bags, "bag") + " and " + plural(manifests, "manifest")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func dateRange(first, last time.Time) string {
	a, b := first.Format("2006-01-02"), last.Format("2006-01-02")
	if a == b {
		return "from " + a
	}
	return "from " + a + " to " + b
}

// FormatAge writes an age as abort_uploads_after takes it.
func FormatAge(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
