// Package audit is gb-audit: it compares inventory.json with the store and
// reports every disagreement as a "finding" record: bags the inventory
// needs that are missing or differ (size, recorded SHA-256, storage
// class), missing manifests and system files, orphans the inventory does
// not need, and incomplete uploads still billed. It changes nothing.
//
// The checksum compared is the one the store recorded when the bag was
// uploaded (the local store's sidecar, S3's gb-sha256 metadata), not a
// hash of the bytes: reading a Deep Archive bag needs a restore.
package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gbarchive/gb/pkg/analysis"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/exitcode"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
	"golang.org/x/sync/errgroup"
)

// Problems a finding names.
const (
	MissingBag        = "missing-bag"
	SizeMismatch      = "size-mismatch"
	ChecksumMismatch  = "checksum-mismatch"
	ChecksumUnknown   = "checksum-unknown"
	ClassMismatch     = "class-mismatch"
	MissingManifest   = "missing-manifest"
	MissingSystemFile = "missing-system-file"
	Misnamed          = "misnamed"
	RetiredBagGone    = "retired-bag-gone"
	Orphan            = "orphan"
	OpenUpload        = "open-upload"
)

// Severities.
const (
	// SevError: a bag the inventory relies on may not restore, or the
	// store cannot be bootstrapped from.
	SevError = "error"
	// SevWarning: the inventory is out of date, nothing is at risk.
	SevWarning = "warning"
	// SevCost: something is billed that nothing needs (gb-prune removes it).
	SevCost = "cost"
	// SevWaiting: a retired bag (or its manifest) inside its minimum
	// storage period: the normal life of an archive that is backed up
	// more often than every 180 days. gb-prune deletes it once it is free
	// to; it does not make the audit unclean.
	SevWaiting = "waiting"
)

var severity = map[string]string{
	MissingBag: SevError, SizeMismatch: SevError, ChecksumMismatch: SevError, ChecksumUnknown: SevError, ClassMismatch: SevError,
	MissingManifest: SevError, MissingSystemFile: SevError, Misnamed: SevError,
	RetiredBagGone: SevWarning,
	Orphan:         SevCost, OpenUpload: SevCost,
}

// Options configure an audit.
type Options struct {
	Settings *config.Settings
	Store    store.Store
	Now      time.Time
	// Parallel HEAD requests for bags whose listing carries no checksum
	// (S3); default 8.
	Parallel int
}

// ProblemsError is what Run returns when the audit found something: the
// store and the inventory disagree. The command exits 3 (done, with
// findings); a failure to audit is any other error (exit 1).
type ProblemsError struct {
	Summary records.Audit
	hint    string
}

func (e *ProblemsError) Error() string {
	var names []string
	for p := range e.Summary.Problems {
		names = append(names, p)
	}
	sort.Slice(names, func(i, j int) bool {
		return rank(names[i]) < rank(names[j]) || rank(names[i]) == rank(names[j]) && names[i] < names[j]
	})
	var parts []string
	for _, p := range names {
		parts = append(parts, fmt.Sprintf("%d %s", e.Summary.Problems[p], p))
	}
	return fmt.Sprintf("%s (%s) between %s and %s", plural(e.Summary.Findings, "problem"), strings.Join(parts, ", "), e.Summary.Inventory, e.Summary.Store)
}

// HintText says what to do about the worst problem found.
func (e *ProblemsError) HintText() string { return e.hint }

// ExitCode implements exitcode.Coder: findings are an outcome, not a
// failure to audit.
func (e *ProblemsError) ExitCode() int { return exitcode.Warnings }

func rank(problem string) int {
	switch severity[problem] {
	case SevError:
		return 0
	case SevWarning:
		return 1
	}
	return 2
}

// auditor is one audit: what it read and what it found.
type auditor struct {
	opts     Options
	inv      *inventory.Inventory
	a        *analysis.Analysis
	uploads  []store.Upload
	sum      records.Audit
	findings []records.Finding
	atoms    map[string]int // bag id -> atoms referring to it
}

// Run audits the store against the inventory. It reads no input (in may
// be nil). It returns a *ProblemsError when there are findings.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) error {
	au, err := load(ctx, opts)
	if err != nil {
		return err
	}
	if err := au.checkBags(ctx); err != nil {
		return err
	}
	au.checkManifests()
	au.checkSystem()
	au.checkStrays()
	au.checkOrphans()
	au.checkUploads()
	return au.report(out, errOut)
}

// load reads the inventory and lists the store.
func load(ctx context.Context, opts Options) (*auditor, error) {
	st := opts.Settings
	snap, err := analysis.Read(ctx, st.InventoryFile, opts.Store)
	if err != nil {
		return nil, err
	}
	inv, objs, a := snap.Inventory, snap.Objects, snap.Analysis
	// Bags the inventory lacks are findings here, not a refusal; only a
	// missing inventory file would make every stored bag one.
	if snap.InventoryMissing && a.Bags > 0 {
		return nil, analysis.CheckInventory(st.InventoryFile, true, a, opts.Store)
	}
	uploads, err := analysis.ListUploads(ctx, opts.Store)
	if err != nil {
		return nil, err
	}
	au := &auditor{opts: opts, inv: inv, a: a, uploads: uploads, atoms: map[string]int{},
		sum: records.Audit{Kind: records.KindAudit, Store: opts.Store.String(), Inventory: st.InventoryFile, At: opts.Now, Objects: len(objs),
			Problems: map[string]int{}, Bags: len(a.Referenced), BagsRetired: len(inv.Bags) - len(a.Referenced), Uploads: len(uploads)}}
	for _, at := range inv.Atoms {
		for _, id := range at.Bags {
			au.atoms[id]++
		}
	}
	return au, nil
}

func (au *auditor) add(f records.Finding) {
	f.Kind, f.Severity = records.KindFinding, severity[f.Problem]
	au.findings = append(au.findings, f)
}

// checkBags compares each bag the inventory needs with what the store
// recorded of it.
func (au *auditor) checkBags(ctx context.Context) error {
	inv, a := au.inv, au.a
	var present []string
	for _, id := range inv.SortedBagIDs() {
		if _, ok := a.Objects[inv.Bags[id].Key]; ok && a.Referenced[id] {
			present = append(present, id)
		}
	}
	infos, err := describe(ctx, au.opts, a, inv, present)
	if err != nil {
		return err
	}
	missing := map[string]bool{}
	for _, id := range a.Missing {
		missing[id] = true
	}
	for _, id := range inv.SortedBagIDs() {
		b := inv.Bags[id]
		switch {
		case !a.Referenced[id]:
		case missing[id]:
			au.add(records.Finding{Problem: MissingBag, Key: b.Key, Bag: id, Atoms: au.atoms[id], Bytes: b.Bytes,
				Detail: fmt.Sprintf("%s is not in the store; %s", id, notBackedUp(au.atoms[id]))})
		default:
			au.sum.BagsChecked++
			au.compare(id, b, infos[id])
		}
	}
	return nil
}

// compare checks one stored bag against the inventory's record of it.
func (au *auditor) compare(id string, b *inventory.Bag, o store.ObjectInfo) {
	atoms := au.atoms[id]
	if o.Size != b.Bytes {
		au.add(records.Finding{Problem: SizeMismatch, Key: b.Key, Bag: id, Atoms: atoms, Expected: b.Bytes, Found: o.Size,
			Detail: fmt.Sprintf("%s is %d bytes in the store, %d in the inventory", id, o.Size, b.Bytes)})
	}
	switch {
	case o.SHA256 == "":
		au.add(records.Finding{Problem: ChecksumUnknown, Key: b.Key, Bag: id, Atoms: atoms, Expected: b.SHA256,
			Detail: fmt.Sprintf("the store has no SHA-256 recorded for %s (replaced outside gb?)", id)})
	case b.SHA256 != "" && !strings.EqualFold(o.SHA256, b.SHA256):
		au.add(records.Finding{Problem: ChecksumMismatch, Key: b.Key, Bag: id, Atoms: atoms, Expected: b.SHA256, Found: o.SHA256,
			Detail: fmt.Sprintf("%s has SHA-256 %s in the store, %s in the inventory", id, short(o.SHA256), short(b.SHA256))})
	}
	if b.StorageClass != "" && o.StorageClass != b.StorageClass {
		au.add(records.Finding{Problem: ClassMismatch, Key: b.Key, Bag: id, Atoms: atoms, Expected: b.StorageClass, Found: o.StorageClass,
			Detail: fmt.Sprintf("%s is %s in the store, %s in the inventory", id, o.StorageClass, b.StorageClass)})
	}
}

// checkManifests looks for the manifest of every bag the inventory needs.
func (au *auditor) checkManifests() {
	for _, id := range au.inv.SortedBagIDs() {
		b := au.inv.Bags[id]
		if !au.a.Referenced[id] || b.ManifestKey == "" {
			continue
		}
		if _, ok := au.a.Objects[b.ManifestKey]; !ok {
			au.add(records.Finding{Problem: MissingManifest, Key: b.ManifestKey, Bag: id,
				Detail: fmt.Sprintf("the manifest of %s is not in the store; its files cannot be found without a restore", id)})
		}
	}
}

// checkSystem looks for the inventory of the latest run in the store.
func (au *auditor) checkSystem() {
	year := systemYear(au.inv)
	if year == 0 {
		return
	}
	au.sum.SystemYear = year
	key := layout.SystemKey(year, layout.Inventory)
	_, plain := au.a.Objects[key]
	_, sealed := au.a.Objects[layout.Seal(key)]
	if !plain && !sealed {
		au.add(records.Finding{Problem: MissingSystemFile, Key: key,
			Detail: fmt.Sprintf("%s of the latest run is not in the store; a new machine could not carry on from the store", layout.Inventory)})
	}
}

// checkStrays reports objects with a used bag id under another key, and
// retired bags gone from the store but still in the inventory.
func (au *auditor) checkStrays() {
	inv := au.inv
	for _, o := range au.a.Misnamed {
		id, _ := analysis.BagIDOfKey(o.Key)
		au.add(records.Finding{Problem: Misnamed, Key: o.Key, Bag: id, Expected: inv.Bags[id].Key, Found: o.Key, Bytes: o.Size,
			Detail: fmt.Sprintf("%s carries the id of %s, which the inventory keeps at %s", o.Key, id, inv.Bags[id].Key)})
	}
	for _, id := range au.a.GoneRetired {
		b := inv.Bags[id]
		au.add(records.Finding{Problem: RetiredBagGone, Key: b.Key, Bag: id, Bytes: b.Bytes,
			Detail: fmt.Sprintf("retired %s is no longer in the store but still in the inventory (gb-prune --delete drops it)", id)})
	}
}

// checkOrphans reports what the inventory does not need; retired bags
// (and their manifests) inside their minimum storage period are waiting,
// not problems.
func (au *auditor) checkOrphans() {
	prices, now := au.opts.Settings.Prices(), au.opts.Now
	waitingBags := map[string]bool{}
	for _, o := range au.a.Orphans {
		if analysis.Waiting(o, prices, now) {
			waitingBags[o.Bag] = true
		}
	}
	for _, o := range au.a.Orphans {
		age := analysis.AgeOf(o.Info, prices, now)
		fee := cost.Round(age.Fee)
		au.sum.Orphans++
		au.sum.OrphanBytes += o.Info.Size
		d := fmt.Sprintf("%s %s (%s), %s, %.1f days old", o.Object, o.Key, o.Reason, cost.Bytes(o.Info.Size), age.Days)
		if !age.DeletableFrom.IsZero() {
			d += fmt.Sprintf("; free to delete from %s", age.DeletableFrom.Format("2006-01-02"))
		}
		au.add(records.Finding{Problem: Orphan, Key: o.Key, Bag: o.Bag, Object: o.Object, Reason: o.Reason, Bytes: o.Info.Size,
			StorageClass: o.Info.StorageClass, UploadedAt: o.Info.UploadedAt, AgeDays: &age.Days, Fee: &fee, DeletableFrom: age.DeletableFrom, Detail: d})
		if waitingBags[o.Bag] {
			au.findings[len(au.findings)-1].Severity = SevWaiting
			au.sum.Waiting++
		}
	}
}

// checkUploads reports the incomplete uploads still billed.
func (au *auditor) checkUploads() {
	for _, u := range au.uploads {
		age := analysis.UploadAge(u, au.opts.Now, 0)
		au.sum.OrphanBytes += u.Size
		au.add(records.Finding{Problem: OpenUpload, Key: u.Key, Object: analysis.ObjectUpload, Reason: analysis.ReasonIncompleteUpload, UploadID: u.ID,
			Bytes: u.Size, StorageClass: u.StorageClass, UploadedAt: u.Initiated, AgeDays: &age.Days,
			Detail: fmt.Sprintf("an upload of %s started %s is incomplete: %s in %s billed", u.Key, u.Initiated.Format("2006-01-02"), cost.Bytes(u.Size), plural(u.Parts, "part"))})
	}
}

// report writes the findings and the summary, and says how it went.
func (au *auditor) report(out, errOut io.Writer) error {
	w := records.NewWriter(out)
	sum := &au.sum
	for _, f := range au.findings {
		if err := w.Write(f); err != nil {
			return err
		}
		if f.Severity == SevWaiting {
			fmt.Fprintf(errOut, "gb-audit: waiting: %s\n", f.Detail)
			continue
		}
		sum.Problems[f.Problem]++
		fmt.Fprintf(errOut, "gb-audit: %s: %s\n", f.Problem, f.Detail)
	}
	sum.Findings = len(au.findings) - sum.Waiting
	sum.Clean = sum.Findings == 0
	sum.Status = records.StatusOK
	if !sum.Clean {
		sum.Status = records.StatusWarnings
	}
	if err := w.Write(*sum); err != nil {
		return err
	}
	if err := w.Err(); err != nil {
		return err
	}
	if sum.Clean {
		fmt.Fprintf(errOut, "gb-audit: clean: %s\n", cleanLine(*sum, au.opts.Store))
		return nil
	}
	damaged := ""
	for _, f := range au.findings {
		if f.Severity == SevError && f.Bag != "" && f.Problem != MissingManifest && f.Problem != Misnamed && f.Problem != ClassMismatch {
			damaged = f.Bag
			break
		}
	}
	return &ProblemsError{Summary: *sum, hint: hint(*sum, damaged)}
}

func cleanLine(sum records.Audit, st fmt.Stringer) string {
	sys := "no system files expected yet"
	if sum.SystemYear > 0 {
		sys = fmt.Sprintf("system files of %d present", sum.SystemYear)
	}
	what := plural(sum.Bags, "bag") + " and their manifests"
	if sum.Bags == 1 {
		what = "1 bag and its manifest"
	}
	orphans := "no orphans"
	if sum.Waiting > 0 {
		orphans = plural(sum.Waiting, "retired object") + " waiting out the minimum storage period"
	}
	return fmt.Sprintf("%s as the inventory says, %s, %s, no incomplete uploads (%s)", what, sys, orphans, st)
}

// describe returns the store's description of each present bag. Listings
// that carry no checksum (S3's) are completed with HEAD requests.
func describe(ctx context.Context, opts Options, a *analysis.Analysis, inv *inventory.Inventory, ids []string) (map[string]store.ObjectInfo, error) {
	out := map[string]store.ObjectInfo{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	n := opts.Parallel
	if n <= 0 {
		n = 8
	}
	g.SetLimit(n)
	for _, id := range ids {
		o := a.Objects[inv.Bags[id].Key]
		if o.SHA256 != "" {
			mu.Lock()
			out[id] = o
			mu.Unlock()
			continue
		}
		g.Go(func() error {
			h, err := opts.Store.Head(gctx, o.Key)
			if errors.Is(err, store.ErrNotFound) {
				h = o // deleted since the listing: its size and class still tell
			} else if err != nil {
				return err
			}
			mu.Lock()
			out[id] = h
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

// systemYear is the year whose system/ must hold the inventory: that of
// the latest run that stored bags or forgot atoms (gb-commit uploads the
// system files after those), else 0.
func systemYear(inv *inventory.Inventory) int {
	year := 0
	for _, r := range inv.Runs {
		if !r.DryRun && (r.BagsAdded > 0 || r.Forgotten > 0) && r.At.Year() > year {
			year = r.At.Year()
		}
	}
	return year
}

func hint(s records.Audit, damaged string) string {
	p := s.Problems
	switch {
	case p[MissingBag] > 0 && p[MissingBag] == s.Bags:
		return "no bag the inventory needs is in the store: check dest (or s3_bucket) and inventory_file"
	case damaged != "":
		return fmt.Sprintf("the atoms in a missing or damaged bag may not restore; to have the next run pack them again, remove them from inventory.json: jq 'del(.atoms[] | select(.bags | index(\"%s\")))' (see docs/operations.md)", damaged)
	case p[MissingManifest]+p[MissingSystemFile] > 0:
		return "the next run that changes something uploads the system files again; a missing manifest can be uploaded by hand from manifest_dir"
	case p[ClassMismatch]+p[Misnamed] > 0:
		return "an object was changed outside gb; compare it with inventory.json before relying on it"
	}
	return "gb-prune lists orphans and incomplete uploads; gb-prune --delete removes those free to delete"
}

func notBackedUp(atoms int) string {
	if atoms == 1 {
		return "1 atom refers to it and is not backed up"
	}
	return fmt.Sprintf("%d atoms refer to it and are not backed up", atoms)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12] + "…"
	}
	return sha
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
