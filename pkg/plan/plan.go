// Package plan is the gb-plan stage: it compares scan records with the
// inventory and decides what to keep, what to pack into which new bag,
// what to forget and which bags lose their last reference, with the cost
// of it all.
package plan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/tidwall/gjson"
)

// Options configure a plan.
type Options struct {
	Settings *config.Settings
	Now      time.Time
	Input    string // name of the input for errors ("stdin")

	// Operations (the seed's): each packs again atoms that did not change.
	ResetSources      []string // forget these sources' atoms; a listed source is packed afresh
	ResetBags         []string // pack these bags' atoms again (a source's small bags are consolidated)
	Repack            bool     // pack everything again, pinned atoms excepted
	RepackUnderfilled float64  // pack again the atoms of bags filled below this percent of the target
	// AllowEarly lets an operation leave bags younger than
	// min_retention_days unreferenced, which costs their remaining days.
	AllowEarly bool
}

// BagAtom is an atom, or one part of a split atom, inside a bag.
type BagAtom struct {
	Atom    string `json:"atom"`
	AtomB64 string `json:"atom_b64,omitempty"`
	Path    string `json:"path"`
	PathB64 string `json:"path_b64,omitempty"`
	Type    string `json:"type"`
	Hash    string `json:"hash"`
	Files   int64  `json:"files"`
	Bytes   int64  `json:"bytes"`
	// Split atoms: this bag holds part Part of Parts, the entries from
	// From (inclusive) to To (exclusive; "" for the last part) in
	// canonical walk order.
	Part    int    `json:"part,omitempty"`
	Parts   int    `json:"parts,omitempty"`
	From    string `json:"from,omitempty"`
	FromB64 string `json:"from_b64,omitempty"`
	To      string `json:"to,omitempty"`
	ToB64   string `json:"to_b64,omitempty"`
}

// BagRecord is a new bag to pack and upload.
type BagRecord struct {
	Kind     string    `json:"kind"`
	ID       string    `json:"id"`
	Key      string    `json:"key"`
	Source   string    `json:"source"`
	Mode     string    `json:"mode"`
	Label    string    `json:"label"`
	Compress string    `json:"compress"`
	Encrypt  bool      `json:"encrypt"`
	Keys     string    `json:"keys,omitempty"` // the keys' ID when encrypted (see docs/records.md)
	Excludes []string  `json:"excludes"`
	Files    int64     `json:"files"`
	Bytes    int64     `json:"bytes"`
	Atoms    []BagAtom `json:"atoms"`
}

// Keep is an unchanged atom.
type Keep struct {
	Kind    string   `json:"kind"`
	Atom    string   `json:"atom"`
	AtomB64 string   `json:"atom_b64,omitempty"`
	Source  string   `json:"source"`
	Hash    string   `json:"hash"`
	Bags    []string `json:"bags"`
}

// Forget is an atom gone from disk.
type Forget struct {
	Kind    string   `json:"kind"`
	Atom    string   `json:"atom"`
	AtomB64 string   `json:"atom_b64,omitempty"`
	Source  string   `json:"source"`
	Bags    []string `json:"bags"`
	Reason  string   `json:"reason"`
}

// Retire is a bag that this plan leaves no longer fully referenced.
type Retire struct {
	Kind       string    `json:"kind"`
	Bag        string    `json:"bag"`
	Key        string    `json:"key"`
	Reason     string    `json:"reason"` // unreferenced | partly-superseded
	AtomsLeft  int       `json:"atoms_left"`
	Bytes      int64     `json:"bytes"`
	UploadedAt time.Time `json:"uploaded_at"`
	AgeDays    float64   `json:"age_days"`
	// What deleting it now would cost; prune waits until it is free.
	EarlyDeletionFee float64 `json:"early_deletion_fee_usd"`
}

// Summary is the plan's last record.
type Summary struct {
	Kind             string    `json:"kind"`
	At               time.Time `json:"at"`
	Year             int       `json:"year"`
	TargetBytes      int64     `json:"target_bytes"`
	AtomsNew         int       `json:"atoms_new"`
	AtomsChanged     int       `json:"atoms_changed"`
	AtomsKept        int       `json:"atoms_kept"`
	AtomsForgotten   int       `json:"atoms_forgotten"`
	Bags             int       `json:"bags"`
	Files            int64     `json:"files"`
	Bytes            int64     `json:"bytes"`
	PutRequests      int       `json:"put_requests"`
	UploadCost       float64   `json:"upload_cost_usd"`
	MonthlyAdded     float64   `json:"monthly_storage_added_usd"`
	MonthlyTotal     float64   `json:"monthly_storage_total_usd"`
	BagsRetired      int       `json:"bags_retired"`
	RetiredBytes     int64     `json:"retired_bytes"`
	EarlyDeletionFee float64   `json:"early_deletion_fees_if_deleted_now_usd"`
	AtomsRepacked    int       `json:"atoms_repacked"` // unchanged atoms an operation packs again
	AtomsGone        int       `json:"atoms_gone"`     // gone from disk, kept for keep_deleted_days
	KeepDeletedDays  float64   `json:"keep_deleted_days"`
	Operations       []string  `json:"operations,omitempty"`
	OperationBytes   int64     `json:"operation_bytes"`    // bytes packed again because of the operations
	OperationFees    float64   `json:"operation_fees_usd"` // remaining minimum storage of young bags the operations leave unreferenced
	OperationYoung   []string  `json:"operation_young_bags,omitempty"`
	// Bags this plan leaves unreferenced while younger than
	// min_retention_days (their remaining days are early_deletion_fees…),
	// and when the last of them may be deleted free.
	YoungRetired  []string  `json:"young_retired_bags,omitempty"`
	YoungFreeFrom time.Time `json:"young_retired_free_from,omitzero"`
	FirstBag      string    `json:"first_bag,omitempty"`
	NextBag       int       `json:"next_bag"`
	NothingToDo   bool      `json:"nothing_to_do"`
}

type atomIn struct {
	key, keyB64   string // display forms
	exact         string // exact atom key bytes
	path, pathB64 string
	typ, mode     string
	source        string
	hash          string
	files, bytes  int64
	parts         []partIn
	encrypt       bool
	keys          string
}

type partIn struct {
	from, fromB64 string
	files, bytes  int64
}

// Run reads scan records from in and writes the plan to out.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) error {
	st := opts.Settings
	inv, err := inventory.Load(st.InventoryFile)
	if err != nil {
		return err
	}
	name := opts.Input
	if name == "" {
		name = "stdin"
	}
	// Operations naming what the inventory lacks stop before any input is
	// read.
	if _, err := operationAtoms(inv, opts, st.TargetBytes()); err != nil {
		return err
	}
	// Records passed through wait until the plan is decided: a refused
	// plan writes nothing at all.
	var passed bytes.Buffer
	input, err := readScan(ctx, in, name, records.NewWriter(&passed))
	if err != nil {
		return err
	}
	p, err := Decide(input, inv, opts, opts.Now)
	if err != nil {
		return err
	}
	for _, n := range p.Notes {
		fmt.Fprintln(errOut, n)
	}
	if err := writePlan(out, passed.Bytes(), p); err != nil {
		return err
	}
	fmt.Fprintln(errOut, "gb-plan: "+p.Summary.Human())
	return nil
}

// readScan reads the scan's records into the plan's input, writing the
// records it does not use to passed.
func readScan(ctx context.Context, in io.Reader, name string, passed *records.Writer) (Input, error) {
	input := Input{Unreachable: map[string]string{}}
	sources := map[string]int{} // location -> index in input.Sources
	complete := false
	seen := map[string]int{}
	err := records.NewReader(in, name).Each(func(l records.Line) error {
		switch l.Kind {
		case records.KindSource:
			src := l.Get("source").String()
			if e := l.Get("error").String(); e != "" {
				// A remote source gb-scan could not read: nothing is
				// known of it this run, so its atoms are kept as they
				// are, like those of a source not listed.
				input.Unreachable[src] = e
				return passed.WriteRaw(l.Raw)
			}
			so := SourceIn{Location: src, Mode: l.Get("mode").String(), Excludes: []string{}}
			for _, x := range l.Get("excludes").Array() {
				so.Excludes = append(so.Excludes, x.String())
			}
			if i, ok := sources[src]; ok {
				input.Sources[i] = so
			} else {
				sources[src] = len(input.Sources)
				input.Sources = append(input.Sources, so)
			}
			if err := passed.WriteRaw(l.Raw); err != nil {
				return err
			}
		case records.KindAtom:
			a, err := parseAtom(l, name)
			if err != nil {
				return err
			}
			if prev, dup := seen[a.exact]; dup {
				return l.Errorf(name, "atom %s already appeared on line %d", a.key, prev)
			}
			seen[a.exact] = l.No
			if _, ok := sources[a.source]; !ok {
				return l.Errorf(name, "atom %s names source %s, which no source record introduced", a.key, a.source)
			}
			input.Atoms = append(input.Atoms, a)
		case records.KindScan:
			if !l.Get("complete").Bool() {
				return l.Errorf(name, "the scan summary says the scan did not complete")
			}
			complete = true
		default:
			if err := passed.WriteRaw(l.Raw); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return input, err
	}
	if !complete {
		return input, &records.LineError{Name: name, Line: 0, Msg: "input ended without the scan summary record; nothing planned", Hint: "was gb-scan interrupted or did it fail? run the scan again"}
	}
	return input, passed.Err()
}

// writePlan writes the records passed through, then the plan's records,
// its summary last.
func writePlan(out io.Writer, passed []byte, p Plan) error {
	w := records.NewWriter(out)
	for line := range bytes.Lines(passed) {
		if err := w.WriteRaw(bytes.TrimSuffix(line, []byte("\n"))); err != nil {
			return err
		}
	}
	if err := writeAll(w, p.Keeps); err != nil {
		return err
	}
	if err := writeAll(w, p.Gones); err != nil {
		return err
	}
	if err := writeAll(w, p.Forgets); err != nil {
		return err
	}
	if err := writeAll(w, p.Bags); err != nil {
		return err
	}
	if err := writeAll(w, p.Retires); err != nil {
		return err
	}
	return w.Write(p.Summary)
}

func writeAll[T any](w *records.Writer, recs []T) error {
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	return nil
}

// Human is the plan in one line for people and cron logs.
func (s Summary) Human() string {
	if s.NothingToDo {
		gone := ""
		if s.AtomsGone > 0 {
			gone = fmt.Sprintf(", %d gone from disk (kept with their bags for keep_deleted_days = %g)", s.AtomsGone, s.KeepDeletedDays)
		}
		return fmt.Sprintf("nothing to do: %d atoms unchanged%s, nothing to upload; storage %s/month", s.AtomsKept, gone, cost.USD(s.MonthlyTotal))
	}
	msg := fmt.Sprintf("%d new, %d changed, %d unchanged, %d gone atoms", s.AtomsNew, s.AtomsChanged, s.AtomsKept, s.AtomsForgotten+s.AtomsGone)
	if s.AtomsGone > 0 {
		msg += fmt.Sprintf(" (%d kept with their bags for keep_deleted_days = %g, %d forgotten)", s.AtomsGone, s.KeepDeletedDays, s.AtomsForgotten)
	}
	if s.AtomsRepacked > 0 {
		msg += fmt.Sprintf("; %d unchanged atoms packed again (%s) by %s", s.AtomsRepacked, cost.Bytes(s.OperationBytes), strings.Join(s.Operations, " "))
		if len(s.OperationYoung) > 0 {
			msg += fmt.Sprintf(", leaving %d bags younger than the minimum storage period billed %s more", len(s.OperationYoung), cost.USD(s.OperationFees))
		}
	}
	msg += fmt.Sprintf("; %d bags to upload (%s, %d files), %d PUT requests (%s); storage +%s/month, %s/month in all",
		s.Bags, cost.Bytes(s.Bytes), s.Files, s.PutRequests, cost.USD(s.UploadCost), cost.USD(s.MonthlyAdded), cost.USD(s.MonthlyTotal))
	if s.BagsRetired > 0 {
		msg += fmt.Sprintf("; %d bags (%s) no longer referenced", s.BagsRetired, cost.Bytes(s.RetiredBytes))
		if len(s.YoungRetired) > 0 {
			msg += fmt.Sprintf(", %d of them younger than the minimum storage period (%s): kept until %s, %s until then",
				len(s.YoungRetired), strings.Join(s.YoungRetired, " "), s.YoungFreeFrom.UTC().Format("2006-01-02"), cost.USD(s.EarlyDeletionFee))
		}
	}
	return msg
}

// EncryptedLabel starts the key of every encrypted bag in place of the
// source's label.
const EncryptedLabel = "encrypted"

// dirty reports whether an atom must be packed again.
func dirty(old *inventory.Atom, a atomIn, inv *inventory.Inventory) bool {
	if old.LastMetadataHash != a.hash || old.Incomplete || old.Type != a.typ || len(old.Bags) == 0 {
		return true
	}
	if reencrypt(old, a) {
		return true
	}
	for _, id := range old.Bags {
		if inv.Bags[id] == nil {
			return true
		}
	}
	return false
}

// reencrypt reports whether the atom's encryption changed: tagged or
// untagged, or other keys. Its bags then hold it the wrong way.
func reencrypt(old *inventory.Atom, a atomIn) bool {
	return old.Encrypt != a.encrypt || (a.encrypt && old.Keys != a.keys)
}

func parseAtom(l records.Line, name string) (atomIn, error) {
	var a atomIn
	var err error
	if a.exact, err = l.PathField("atom"); err != nil {
		return a, l.Errorf(name, "atom: %v", err)
	}
	a.key, a.keyB64 = l.Get("atom").String(), l.Get("atom_b64").String()
	a.path, a.pathB64 = l.Get("path").String(), l.Get("path_b64").String()
	a.typ, a.mode, a.source, a.hash = l.Get("type").String(), l.Get("mode").String(), l.Get("source").String(), l.Get("hash").String()
	a.files, a.bytes = l.Get("files").Int(), l.Get("bytes").Int()
	if a.key == "" || a.path == "" || a.source == "" || a.hash == "" {
		return a, l.Errorf(name, "atom record needs atom, path, source and hash")
	}
	switch a.typ {
	case "dir", "loose", "tree":
	default:
		return a, l.Errorf(name, "atom %s has unknown type %q", a.key, a.typ)
	}
	a.encrypt, a.keys = l.Get("encrypt").Bool(), l.Get("keys").String()
	if a.encrypt && a.keys == "" {
		return a, l.Errorf(name, "atom %s asks for encryption but names no keys; refusing to plan it", a.key)
	}
	var perr error
	l.Get("parts").ForEach(func(_, p gjson.Result) bool {
		if _, err := records.ResultPath(p, "from"); err != nil {
			perr = err
			return false
		}
		a.parts = append(a.parts, partIn{from: p.Get("from").String(), fromB64: p.Get("from_b64").String(), files: p.Get("files").Int(), bytes: p.Get("bytes").Int()})
		return true
	})
	if perr != nil {
		return a, l.Errorf(name, "atom %s: bad part: %v", a.key, perr)
	}
	return a, nil
}

// Pack groups the dirty atoms of one source into bags: atoms in scan order
// fill the open bag until the next would pass the target; an atom that was
// split gets one bag per part, emitted as it comes while the open bag keeps
// filling, so small atoms on both sides of it share bags (fewer objects,
// fewer requests); an IMMUTABLE atom never shares.
func Pack(atoms []atomIn, immutable bool, target int64) [][]BagAtom {
	var bags [][]BagAtom
	var cur []BagAtom
	var curBytes int64
	flush := func() {
		if len(cur) > 0 {
			bags = append(bags, cur)
			cur, curBytes = nil, 0
		}
	}
	for _, a := range atoms {
		base := BagAtom{Atom: a.key, AtomB64: a.keyB64, Path: a.path, PathB64: a.pathB64, Type: a.typ, Hash: a.hash, Files: a.files, Bytes: a.bytes}
		if len(a.parts) > 1 {
			for i, p := range a.parts {
				ba := base
				ba.Part, ba.Parts = i+1, len(a.parts)
				ba.Files, ba.Bytes = p.files, p.bytes
				ba.From, ba.FromB64 = p.from, p.fromB64
				if i+1 < len(a.parts) {
					ba.To, ba.ToB64 = a.parts[i+1].from, a.parts[i+1].fromB64
				}
				bags = append(bags, []BagAtom{ba})
			}
			continue
		}
		if immutable {
			bags = append(bags, []BagAtom{base})
			continue
		}
		if len(cur) > 0 && curBytes+a.bytes > target {
			flush()
		}
		cur = append(cur, base)
		curBytes += a.bytes
	}
	flush()
	return bags
}

// Label names a source inside bag keys: its location with "/" as "-" and
// anything outside [A-Za-z0-9._-] as "_"; a label that had to be changed
// or shortened ends in a short hash of the location. Labels are for
// people; two sources may share one ("/a-b" and "/a/b"), and keys stay
// unique through the bag id.
func Label(location string) string {
	var b strings.Builder
	changed := false
	for _, c := range []byte(strings.Trim(location, "/")) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
			b.WriteByte(c)
		case c == '/':
			b.WriteByte('-')
		default:
			b.WriteByte('_')
			changed = true
		}
	}
	s := b.String()
	if s == "" {
		s, changed = "root", true
	}
	if len(s) > 60 {
		s, changed = s[:60], true
	}
	if changed {
		h := sha256.Sum256([]byte(location))
		s += "-" + hex.EncodeToString(h[:3])
	}
	return s
}
