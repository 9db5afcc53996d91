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
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/prune"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
	"golang.org/x/sync/errgroup"
)

// Record kinds written by gb-audit.
const (
	KindFinding = "finding"
	KindAudit   = "audit"
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

// Finding is one disagreement between the inventory and the store.
type Finding struct {
	Kind     string `json:"kind"`
	Problem  string `json:"problem"`
	Severity string `json:"severity"`
	Key      string `json:"key"`
	Bag      string `json:"bag,omitempty"`
	Atoms    int    `json:"atoms,omitempty"`
	Expected any    `json:"expected,omitempty"`
	Found    any    `json:"found,omitempty"`
	// Orphans and uploads, as gb-prune's orphan record.
	Object        string    `json:"object,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	UploadID      string    `json:"upload_id,omitempty"`
	Bytes         int64     `json:"bytes,omitempty"`
	StorageClass  string    `json:"storage_class,omitempty"`
	UploadedAt    time.Time `json:"uploaded_at,omitzero"`
	AgeDays       *float64  `json:"age_days,omitempty"`
	Fee           *float64  `json:"early_deletion_fee_usd,omitempty"`
	DeletableFrom time.Time `json:"deletable_from,omitzero"`
	Detail        string    `json:"detail"`
}

// Summary is the "audit" record, written last.
type Summary struct {
	Kind        string         `json:"kind"`
	Store       string         `json:"store"`
	Inventory   string         `json:"inventory"`
	At          time.Time      `json:"at"`
	Bags        int            `json:"bags"`
	BagsRetired int            `json:"bags_retired"`
	BagsChecked int            `json:"bags_checked"`
	Objects     int            `json:"objects"`
	SystemYear  int            `json:"system_year,omitempty"`
	Orphans     int            `json:"orphans"`
	Waiting     int            `json:"orphans_waiting"` // retired bags and their manifests inside the minimum storage period; not problems
	OrphanBytes int64          `json:"orphan_bytes"`
	Uploads     int            `json:"uploads"`
	Findings    int            `json:"findings"`
	Problems    map[string]int `json:"problems"`
	Clean       bool           `json:"clean"`
}

// ProblemsError is what Run returns when the audit found something: the
// command exits 1.
type ProblemsError struct {
	Summary Summary
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

func rank(problem string) int {
	switch severity[problem] {
	case SevError:
		return 0
	case SevWarning:
		return 1
	}
	return 2
}

// Run audits the store against the inventory. It reads no input (in may
// be nil). It returns a *ProblemsError when there are findings.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) error {
	st := opts.Settings
	now := opts.Now
	_, statErr := os.Stat(st.InventoryFile)
	inv, err := inventory.Load(st.InventoryFile)
	if err != nil {
		return err
	}
	objs, err := prune.ListObjects(ctx, opts.Store)
	if err != nil {
		return err
	}
	a := prune.Analyze(inv, objs)
	if errors.Is(statErr, fs.ErrNotExist) && a.Bags > 0 {
		return prune.CheckInventory(st.InventoryFile, true, a, opts.Store)
	}
	uploads, err := prune.ListUploads(ctx, opts.Store)
	if err != nil {
		return err
	}

	w := records.NewWriter(out)
	sum := Summary{Kind: KindAudit, Store: opts.Store.String(), Inventory: st.InventoryFile, At: now, Objects: len(objs), Problems: map[string]int{},
		Bags: len(a.Referenced), BagsRetired: len(inv.Bags) - len(a.Referenced), Uploads: len(uploads)}
	var findings []Finding
	add := func(f Finding) {
		f.Kind, f.Severity = KindFinding, severity[f.Problem]
		findings = append(findings, f)
	}

	atoms := map[string]int{}
	for _, at := range inv.Atoms {
		for _, id := range at.Bags {
			atoms[id]++
		}
	}
	// Bags the inventory needs, with what the store recorded of them.
	var present []string
	for _, id := range inv.SortedBagIDs() {
		if _, ok := a.Objects[inv.Bags[id].Key]; ok && a.Referenced[id] {
			present = append(present, id)
		}
	}
	infos, err := describe(ctx, opts, a, inv, present)
	if err != nil {
		return err
	}
	missing := map[string]bool{}
	for _, id := range a.Missing {
		missing[id] = true
	}
	for _, id := range inv.SortedBagIDs() {
		b := inv.Bags[id]
		if !a.Referenced[id] {
			continue
		}
		if missing[id] {
			add(Finding{Problem: MissingBag, Key: b.Key, Bag: id, Atoms: atoms[id], Bytes: b.Bytes,
				Detail: fmt.Sprintf("%s is not in the store; %s", id, notBackedUp(atoms[id]))})
			continue
		}
		o := infos[id]
		sum.BagsChecked++
		if o.Size != b.Bytes {
			add(Finding{Problem: SizeMismatch, Key: b.Key, Bag: id, Atoms: atoms[id], Expected: b.Bytes, Found: o.Size,
				Detail: fmt.Sprintf("%s is %d bytes in the store, %d in the inventory", id, o.Size, b.Bytes)})
		}
		switch {
		case o.SHA256 == "":
			add(Finding{Problem: ChecksumUnknown, Key: b.Key, Bag: id, Atoms: atoms[id], Expected: b.SHA256,
				Detail: fmt.Sprintf("the store has no SHA-256 recorded for %s (replaced outside gb?)", id)})
		case b.SHA256 != "" && !strings.EqualFold(o.SHA256, b.SHA256):
			add(Finding{Problem: ChecksumMismatch, Key: b.Key, Bag: id, Atoms: atoms[id], Expected: b.SHA256, Found: o.SHA256,
				Detail: fmt.Sprintf("%s has SHA-256 %s in the store, %s in the inventory", id, short(o.SHA256), short(b.SHA256))})
		}
		if b.StorageClass != "" && o.StorageClass != b.StorageClass {
			add(Finding{Problem: ClassMismatch, Key: b.Key, Bag: id, Atoms: atoms[id], Expected: b.StorageClass, Found: o.StorageClass,
				Detail: fmt.Sprintf("%s is %s in the store, %s in the inventory", id, o.StorageClass, b.StorageClass)})
		}
	}
	for _, id := range inv.SortedBagIDs() {
		b := inv.Bags[id]
		if !a.Referenced[id] || b.ManifestKey == "" {
			continue
		}
		if _, ok := a.Objects[b.ManifestKey]; !ok {
			add(Finding{Problem: MissingManifest, Key: b.ManifestKey, Bag: id,
				Detail: fmt.Sprintf("the manifest of %s is not in the store; its files cannot be found without a restore", id)})
		}
	}
	if year := systemYear(inv); year > 0 {
		sum.SystemYear = year
		key := fmt.Sprintf("%d-backup/system/inventory.json", year)
		_, plain := a.Objects[key]
		_, sealed := a.Objects[key+".age"]
		if !plain && !sealed {
			add(Finding{Problem: MissingSystemFile, Key: key,
				Detail: fmt.Sprintf("%s of the latest run is not in the store; a new machine could not carry on from the store", path.Base(key))})
		}
	}
	for _, o := range a.Misnamed {
		id, _ := prune.BagIDOfKey(o.Key)
		add(Finding{Problem: Misnamed, Key: o.Key, Bag: id, Expected: inv.Bags[id].Key, Found: o.Key, Bytes: o.Size,
			Detail: fmt.Sprintf("%s carries the id of %s, which the inventory keeps at %s", o.Key, id, inv.Bags[id].Key)})
	}
	for _, id := range a.GoneRetired {
		b := inv.Bags[id]
		add(Finding{Problem: RetiredBagGone, Key: b.Key, Bag: id, Bytes: b.Bytes,
			Detail: fmt.Sprintf("retired %s is no longer in the store but still in the inventory (gb-prune --delete drops it)", id)})
	}
	prices := st.Prices()
	waitingBags := map[string]bool{}
	for _, o := range a.Orphans {
		if r := prune.Describe(o, prices, now); r.Object == prune.ObjectBag && r.Reason == prune.ReasonRetired && r.DeletableFrom.After(now) {
			waitingBags[o.Bag] = true
		}
	}
	for _, o := range a.Orphans {
		r := prune.Describe(o, prices, now)
		sum.Orphans++
		sum.OrphanBytes += r.Bytes
		d := fmt.Sprintf("%s %s (%s), %s, %.1f days old", r.Object, o.Key, r.Reason, cost.Bytes(r.Bytes), r.AgeDays)
		if !r.DeletableFrom.IsZero() {
			d += fmt.Sprintf("; free to delete from %s", r.DeletableFrom.Format("2006-01-02"))
		}
		f := Finding{Problem: Orphan, Key: o.Key, Bag: o.Bag, Object: r.Object, Reason: r.Reason, Bytes: r.Bytes, StorageClass: r.StorageClass,
			UploadedAt: r.UploadedAt, AgeDays: &r.AgeDays, Fee: &r.Fee, DeletableFrom: r.DeletableFrom, Detail: d}
		add(f)
		if waitingBags[o.Bag] {
			findings[len(findings)-1].Severity = SevWaiting
			sum.Waiting++
		}
	}
	for _, u := range uploads {
		r := prune.DescribeUpload(u, now, 0)
		sum.OrphanBytes += u.Size
		add(Finding{Problem: OpenUpload, Key: u.Key, Object: prune.ObjectUpload, Reason: r.Reason, UploadID: u.ID, Bytes: u.Size,
			StorageClass: u.StorageClass, UploadedAt: u.Initiated, AgeDays: &r.AgeDays,
			Detail: fmt.Sprintf("an upload of %s started %s is incomplete: %s in %s billed", u.Key, u.Initiated.Format("2006-01-02"), cost.Bytes(u.Size), plural(u.Parts, "part"))})
	}

	for _, f := range findings {
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
	sum.Findings = len(findings) - sum.Waiting
	sum.Clean = sum.Findings == 0
	if err := w.Write(sum); err != nil {
		return err
	}
	if err := w.Err(); err != nil {
		return err
	}
	if sum.Clean {
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
		fmt.Fprintf(errOut, "gb-audit: clean: %s as the inventory says, %s, %s, no incomplete uploads (%s)\n", what, sys, orphans, opts.Store)
		return nil
	}
	damaged := ""
	for _, f := range findings {
		if f.Severity == SevError && f.Bag != "" && f.Problem != MissingManifest && f.Problem != Misnamed && f.Problem != ClassMismatch {
			damaged = f.Bag
			break
		}
	}
	return &ProblemsError{Summary: sum, hint: hint(sum, damaged)}
}

// describe returns the store's description of each present bag. Listings
// that carry no checksum (S3's) are completed with HEAD requests.
func describe(ctx context.Context, opts Options, a *prune.Analysis, inv *inventory.Inventory, ids []string) (map[string]store.ObjectInfo, error) {
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

func hint(s Summary, damaged string) string {
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
