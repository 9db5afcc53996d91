// Package prune is gb-prune: it lists the bags and manifests in the store
// that the inventory no longer needs (orphans), says what deleting each
// would cost, and with --delete deletes those that are free to delete. It
// also aborts incomplete multipart uploads older than abort_uploads_after.
//
// Safety rules, in order of importance:
//   - Nothing the inventory references (by key or by bag id) is deleted,
//     and nothing among the system files or that gb did not write.
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
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gbarchive/gb/pkg/analysis"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
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

// candidate is an orphan record with what --delete decides about it.
type candidate struct {
	records.Orphan
	fee       float64 // unrounded
	deletable bool
	retired   bool
}

// tally is what the one-line summary needs beyond the prune record:
// unrounded fees and what a dry run would delete.
type tally struct {
	uploadBytes, bagBytes     int64
	wouldBags, wouldManifests int
	fees, feesNow, wouldFees  float64
}

// describe builds the orphan record of o at now.
func describe(o analysis.Orphan, p cost.Prices, now time.Time) candidate {
	age := analysis.AgeOf(o.Info, p, now)
	return candidate{Orphan: records.Orphan{Kind: records.KindOrphan, Object: o.Object, Key: o.Key, Bag: o.Bag, BagKey: o.BagKey, Reason: o.Reason,
		Bytes: o.Info.Size, StorageClass: o.Info.StorageClass, UploadedAt: o.Info.UploadedAt, AgeDays: age.Days,
		Fee: cost.Round(age.Fee), DeletableFrom: age.DeletableFrom},
		fee: age.Fee, retired: o.Reason == analysis.ReasonRetired}
}

// describeUpload builds the orphan record of an incomplete upload at now.
func describeUpload(u store.Upload, now time.Time, abortAfter time.Duration) candidate {
	age := analysis.UploadAge(u, now, abortAfter)
	return candidate{Orphan: records.Orphan{Kind: records.KindOrphan, Object: analysis.ObjectUpload, Key: u.Key, UploadID: u.ID,
		Reason: analysis.ReasonIncompleteUpload, Bytes: u.Size, StorageClass: u.StorageClass, UploadedAt: u.Initiated, AgeDays: age.Days,
		DeletableFrom: age.DeletableFrom}}
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

// run is one prune: what it read, decided and did.
type run struct {
	opts    Options
	inv     *inventory.Inventory
	a       *analysis.Analysis
	w       *records.Writer
	errOut  io.Writer
	sum     records.Prune
	t       tally
	orphans []candidate // bags and manifests, in key order
	uploads []candidate
	failed  []string
	changed bool // the inventory lost bags
}

// Run lists orphans and, with opts.Delete, deletes those free to delete.
// It reads no input (in may be nil).
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) error {
	st := opts.Settings
	if opts.Delete {
		lock, err := inventory.Acquire(st.InventoryFile)
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	r, err := analyze(ctx, opts, errOut)
	if err != nil {
		return err
	}
	r.w = records.NewWriter(out)
	r.decide()
	if err := r.list(); err != nil {
		return err
	}
	if opts.Delete {
		r.deleteAll(ctx)
	} else if n := len(r.a.GoneRetired); n > 0 {
		fmt.Fprintf(errOut, "gb-prune: %s in the inventory no longer in the store; --delete drops them from the inventory\n", plural(n, "retired bag"))
	}
	r.sum.Fees = cost.Round(r.t.fees)
	r.sum.Failed = len(r.failed)
	if err := r.saveInventory(ctx); err != nil {
		return err
	}
	return r.finish(ctx)
}

// analyze reads the inventory and the store and refuses an inventory that
// does not describe the store.
func analyze(ctx context.Context, opts Options, errOut io.Writer) (*run, error) {
	st := opts.Settings
	snap, err := analysis.Read(ctx, st.InventoryFile, opts.Store)
	if err != nil {
		return nil, err
	}
	inv, a := snap.Inventory, snap.Analysis
	if err := analysis.CheckInventory(st.InventoryFile, snap.InventoryMissing, a, opts.Store); err != nil {
		return nil, err
	}
	ups, err := analysis.ListUploads(ctx, opts.Store)
	if err != nil {
		return nil, err
	}
	r := &run{opts: opts, inv: inv, a: a, errOut: errOut,
		sum: records.Prune{Kind: records.KindPrune, Store: opts.Store.String(), Inventory: st.InventoryFile, At: opts.Now, DryRun: !opts.Delete}}
	for _, u := range ups {
		r.uploads = append(r.uploads, describeUpload(u, opts.Now, opts.AbortUploadsAfter))
	}
	return r, nil
}

// decide says, for every orphan, what --delete does with it.
func (r *run) decide() {
	prices := r.opts.Settings.Prices()
	r.orphans = make([]candidate, len(r.a.Orphans))
	bagKept := map[string]bool{}
	for i, o := range r.a.Orphans {
		c := describe(o, prices, r.opts.Now)
		if o.Object == analysis.ObjectBag {
			c.deletable = c.fee == 0 || r.opts.AllowEarly
			if !c.deletable {
				c.Kept = KeptYoung
				bagKept[o.Key] = true
			}
		}
		r.orphans[i] = c
	}
	for i, o := range r.a.Orphans {
		c := &r.orphans[i]
		if o.Object != analysis.ObjectManifest {
			continue
		}
		switch {
		case bagKept[o.BagKey]:
			c.Kept = KeptBagKept
		case c.fee > 0 && !r.opts.AllowEarly:
			c.Kept = KeptYoung
		default:
			c.deletable = true
		}
	}
	for i := range r.uploads {
		c := &r.uploads[i]
		c.deletable = c.DeletableFrom.IsZero()
		if !c.deletable {
			c.Kept = KeptRecent
		}
	}
}

// list writes the orphan records and counts them.
func (r *run) list() error {
	sum, t := &r.sum, &r.t
	for _, c := range append(append([]candidate(nil), r.orphans...), r.uploads...) {
		if err := r.w.Write(c.Orphan); err != nil {
			return err
		}
		sum.OrphanBytes += c.Bytes
		switch {
		case c.Object == analysis.ObjectUpload:
			sum.Uploads++
			t.uploadBytes += c.Bytes
			continue
		case c.Object == analysis.ObjectBag:
			sum.OrphanBags++
			t.bagBytes += c.Bytes
			if c.deletable {
				t.wouldBags++
			}
		default:
			sum.OrphanManifests++
			if c.deletable {
				t.wouldManifests++
			}
		}
		if c.deletable {
			t.wouldFees += c.fee
		}
		if c.Kept == KeptYoung && c.Object == analysis.ObjectBag {
			sum.KeptYoung++
			sum.KeptYoungBytes += c.Bytes
			t.feesNow += c.fee
			if sum.NextDeletable.IsZero() || c.DeletableFrom.Before(sum.NextDeletable) {
				sum.NextDeletable = c.DeletableFrom
			}
			if c.DeletableFrom.After(sum.LastDeletable) {
				sum.LastDeletable = c.DeletableFrom
			}
		}
	}
	sum.FeesIfDeletedNow = cost.Round(t.feesNow)
	return nil
}

// stopped says why deleting must stop: the context, or a record that
// could not be written (nothing is deleted without its record); what was
// done is still saved.
func (r *run) stopped(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.w.Err()
}

// deleteAll deletes the orphans free to delete (bags first: a manifest
// goes only once its bag is gone), aborts old uploads, and drops retired
// bags already gone from the inventory.
func (r *run) deleteAll(ctx context.Context) {
	deleted := map[string]bool{}
	for _, object := range []string{analysis.ObjectBag, analysis.ObjectManifest} {
		for _, c := range r.orphans {
			if c.Object != object || !c.deletable || (object == analysis.ObjectManifest && c.BagKey != "" && !deleted[c.BagKey]) {
				continue
			}
			if err := r.deleteOne(ctx, c); err != nil {
				if r.stopped(ctx) != nil {
					break
				}
				r.failed = append(r.failed, err.Error())
				fmt.Fprintf(r.errOut, "gb-prune: warning: delete %s: %v\n", c.Key, err)
				continue
			}
			deleted[c.Key] = true
		}
	}
	r.abortUploads(ctx)
	for _, id := range r.a.GoneRetired {
		if r.stopped(ctx) != nil {
			break
		}
		b := r.inv.Bags[id]
		delete(r.inv.Bags, id)
		r.changed = true
		r.sum.InventoryDropped = append(r.sum.InventoryDropped, id)
		r.w.Write(records.Deleted{Kind: records.KindDeleted, Object: analysis.ObjectBag, Key: b.Key, Bag: id, Reason: analysis.ReasonRetired, Bytes: b.Bytes,
			StorageClass: b.StorageClass, UploadedAt: b.UploadedAt, AgeDays: cost.AgeDays(b.UploadedAt, r.opts.Now), InventoryDropped: true, AlreadyGone: true})
	}
}

// deleteOne deletes one orphan and writes its record.
func (r *run) deleteOne(ctx context.Context, c candidate) error {
	if err := r.stopped(ctx); err != nil {
		return err
	}
	// The last word before anything goes: never what the inventory
	// references.
	if id, _ := analysis.BagIDOfKey(c.Key); r.a.Referenced[id] || id == "" {
		return fmt.Errorf("%s: refusing to delete an object the inventory refers to", c.Key)
	}
	if err := r.opts.Store.Delete(ctx, c.Key); err != nil {
		return err
	}
	d := records.Deleted{Kind: records.KindDeleted, Object: c.Object, Key: c.Key, Bag: c.Bag, Reason: c.Reason, Bytes: c.Bytes,
		StorageClass: c.StorageClass, UploadedAt: c.UploadedAt, AgeDays: c.AgeDays, Fee: c.Fee}
	if c.Object == analysis.ObjectBag {
		if c.retired {
			delete(r.inv.Bags, c.Bag)
			d.InventoryDropped, r.changed = true, true
			r.sum.InventoryDropped = append(r.sum.InventoryDropped, c.Bag)
		}
		d.LocalManifest = localManifest(r.opts.Settings.ManifestDir, c.Key)
		r.sum.DeletedBags++
	} else {
		r.sum.DeletedManifests++
	}
	r.sum.DeletedBytes += c.Bytes
	r.t.fees += c.fee
	r.w.Write(d) // sticky: see stopped
	return nil
}

// abortUploads aborts the incomplete uploads old enough.
func (r *run) abortUploads(ctx context.Context) {
	ul, _ := r.opts.Store.(store.UploadLister)
	for _, c := range r.uploads {
		if !c.deletable || ul == nil || r.stopped(ctx) != nil {
			continue
		}
		if err := ul.AbortUpload(ctx, c.Key, c.UploadID); err != nil {
			r.failed = append(r.failed, err.Error())
			fmt.Fprintf(r.errOut, "gb-prune: warning: abort upload %s of %s: %v\n", c.UploadID, c.Key, err)
			continue
		}
		r.sum.UploadsAborted++
		r.w.Write(records.Deleted{Kind: records.KindDeleted, Object: analysis.ObjectUpload, Key: c.Key, UploadID: c.UploadID, Reason: c.Reason,
			Bytes: c.Bytes, StorageClass: c.StorageClass, UploadedAt: c.UploadedAt, AgeDays: c.AgeDays})
	}
}

// saveInventory saves the inventory when bags left it, and refreshes its
// copy in the store.
func (r *run) saveInventory(ctx context.Context) error {
	if !r.changed {
		return nil
	}
	st := r.opts.Settings
	if _, err := inventory.BackupDaily(st.InventoryFile, st.InventoryBakDir, r.opts.Now); err != nil {
		return fmt.Errorf("daily inventory backup: %w", err)
	}
	if err := r.inv.Save(st.InventoryFile); err != nil {
		return fmt.Errorf("save %s (the objects are deleted; the next gb-prune --delete drops them from the inventory): %w", st.InventoryFile, err)
	}
	keys, err := refreshSystem(ctx, r.opts.Store, r.a, r.inv, r.errOut)
	r.sum.SystemFiles = keys
	if err != nil {
		fmt.Fprintf(r.errOut, "gb-prune: warning: %v (the next gb-commit that changes something uploads it)\n", err)
	}
	return nil
}

// finish warns about what the analysis found, writes the summary and
// says what was done.
func (r *run) finish(ctx context.Context) error {
	if n := len(r.a.Missing); n > 0 {
		fmt.Fprintf(r.errOut, "gb-prune: warning: %s the inventory refers to not in %s; run gb-audit\n", plural(n, "bag"), r.opts.Store)
	}
	if n := len(r.a.Misnamed); n > 0 {
		fmt.Fprintf(r.errOut, "gb-prune: warning: %d objects carry the id of a bag in use under another key; left alone (run gb-audit)\n", n)
	}
	var failed error
	if len(r.failed) > 0 {
		failed = fmt.Errorf("%d deletions failed (first: %s); run gb-prune --delete again", len(r.failed), r.failed[0])
	} else {
		failed = ctx.Err()
	}
	r.sum.Status = records.StatusOK
	if failed != nil {
		r.sum.Status, r.sum.Error = records.StatusFailed, failed.Error()
	}
	if err := r.w.Write(r.sum); err != nil {
		return err
	}
	if err := r.w.Err(); err != nil {
		return err
	}
	fmt.Fprintf(r.errOut, "gb-prune: %s\n", line(r.sum, r.t, r.opts.Settings.MinRetentionDays, r.opts.AbortUploadsAfter))
	return failed
}

// localManifest removes the local copy of a deleted bag's manifest, which
// would otherwise lead a search to a bag that is gone, and returns its
// path ("" when there was none).
func localManifest(dir, bagKey string) string {
	if dir == "" {
		return ""
	}
	p := filepath.Join(dir, layout.ManifestFile(bagKey))
	if err := os.Remove(p); err != nil {
		return ""
	}
	return p
}

// refreshSystem replaces <year>-backup/system/inventory.json of the latest
// year that has one, so a machine bootstrapped from the store does not
// count deleted bags. An encrypted copy (inventory.json.age) is left for
// the next gb-commit, which holds the keys.
func refreshSystem(ctx context.Context, st store.Store, a *analysis.Analysis, inv *inventory.Inventory, errOut io.Writer) ([]string, error) {
	if len(a.SystemYears) == 0 {
		return nil, nil
	}
	key := layout.SystemKey(a.SystemYears[len(a.SystemYears)-1], layout.Inventory)
	if _, ok := a.Objects[key]; !ok || inv.UsesEncryption() {
		// Never a plain copy of an inventory that names encrypted atoms.
		fmt.Fprintf(errOut, "gb-prune: %s is encrypted; the next gb-commit that changes something refreshes it\n", layout.Seal(key))
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

// line is the one-line human summary.
func line(s records.Prune, t tally, minDays float64, abortAfter time.Duration) string {
	var parts []string
	head := "no orphans"
	if s.OrphanBags+s.OrphanManifests > 0 {
		head = fmt.Sprintf("%s, %s", plural(s.OrphanBags, "orphan bag"), cost.Bytes(t.bagBytes))
		if s.OrphanManifests > 0 {
			head += fmt.Sprintf(" (and %s)", plural(s.OrphanManifests, "orphan manifest"))
		}
	}
	if s.DryRun {
		head = "dry run: " + head
	}
	parts = append(parts, head)
	var act []string
	bags, mans, fees := s.DeletedBags, s.DeletedManifests, t.fees
	if s.DryRun {
		bags, mans, fees = t.wouldBags, t.wouldManifests, t.wouldFees
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
			verb, s.KeptYoung, strconv.FormatFloat(minDays, 'f', -1, 64), dateRange(s.NextDeletable, s.LastDeletable), costs, cost.USD(t.feesNow)))
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
		u := fmt.Sprintf("%s, %s", plural(s.Uploads, "incomplete upload"), cost.Bytes(t.uploadBytes))
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
