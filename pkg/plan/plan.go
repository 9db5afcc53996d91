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

// Run reads scan records from in and writes the plan to out.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) (err error) {
	st := opts.Settings
	// On failure too the summary ends the output, and only it.
	sum, written := records.PlanSummary{Kind: records.KindPlan}, false
	defer func() { err = records.Finish(out, err, written, &sum) }()
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
	// plan writes its failed summary and nothing else.
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
	// A write that fails before the summary still ends with it, failed,
	// with the figures of the plan it could not write.
	sum = p.Summary
	w := records.NewWriter(out)
	if err := writePlan(w, passed.Bytes(), p); err != nil {
		return err
	}
	sum.Outcome, written = records.OutcomeOf(nil), true
	if err := w.Write(sum); err != nil {
		return err
	}
	fmt.Fprintln(errOut, "gb-plan: "+Human(p.Summary))
	return nil
}

// readScan reads the scan's records into the plan's input, writing the
// records it does not use to passed.
func readScan(ctx context.Context, in io.Reader, name string, passed *records.Writer) (Input, error) {
	input := Input{Unreachable: map[string]string{}}
	sources := map[string]int{} // location -> index in input.Sources
	complete := false
	seen := map[string]int{}
	up := records.NewUpstream("gb-scan", records.KindScan)
	err := records.NewReader(in, name).Each(func(l records.Line) error {
		switch l.Kind {
		case records.KindSource:
			src, err := records.Decode[records.Source](l)
			if err != nil {
				return err
			}
			if src.Error != "" {
				// A remote source gb-scan could not read: nothing is
				// known of it this run, so its atoms are kept as they
				// are, like those of a source not listed.
				input.Unreachable[src.Source] = src.Error
				return passed.WriteRaw(l.Raw)
			}
			so := SourceIn{Location: src.Source, Mode: src.Mode, Excludes: src.Excludes}
			if so.Excludes == nil {
				so.Excludes = []string{}
			}
			if i, ok := sources[src.Source]; ok {
				input.Sources[i] = so
			} else {
				sources[src.Source] = len(input.Sources)
				input.Sources = append(input.Sources, so)
			}
			if err := passed.WriteRaw(l.Raw); err != nil {
				return err
			}
		case records.KindAtom:
			a, exact, err := readAtom(l, name)
			if err != nil {
				return err
			}
			if prev, dup := seen[exact]; dup {
				return l.Errorf(name, "atom %s already appeared on line %d", a.Key, prev)
			}
			seen[exact] = l.No
			if _, ok := sources[a.Source]; !ok {
				return l.Errorf(name, "atom %s names source %s, which no source record introduced", a.Key, a.Source)
			}
			input.Atoms = append(input.Atoms, a)
		case records.KindScan:
			if up.Note(l); up.Failed() {
				return up.Err("")
			}
			sum, err := records.Decode[records.ScanSummary](l)
			if err != nil {
				return err
			}
			if !sum.Complete {
				return l.Errorf(name, "the scan summary says the scan did not complete")
			}
			complete = true
			// Passed on, so that the end of the pipe holds every stage's summary.
			return passed.WriteRaw(l.Raw)
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
		return input, up.Err("nothing was planned")
	}
	return input, passed.Err()
}

// writePlan writes the records passed through, then the plan's records;
// Run writes the summary after them.
func writePlan(w *records.Writer, passed []byte, p Plan) error {
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
	return writeAll(w, p.Retires)
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
func Human(s records.PlanSummary) string {
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
func dirty(old *inventory.Atom, a records.Atom, inv *inventory.Inventory) bool {
	if old.LastMetadataHash != a.Hash || old.Incomplete || old.Type != a.Type || len(old.Bags) == 0 {
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
func reencrypt(old *inventory.Atom, a records.Atom) bool {
	return old.Encrypt != a.Encrypt || (a.Encrypt && old.Keys != a.Keys)
}

// readAtom decodes and checks an atom record; exact is its key's bytes.
func readAtom(l records.Line, name string) (a records.Atom, exact string, err error) {
	if a, err = records.Decode[records.Atom](l); err != nil {
		return a, "", err
	}
	if exact, err = a.ExactKey(); err != nil {
		return a, "", l.Errorf(name, "atom: %v", err)
	}
	if a.Key == "" || a.Path == "" || a.Source == "" || a.Hash == "" {
		return a, "", l.Errorf(name, "atom record needs atom, path, source and hash")
	}
	switch a.Type {
	case "dir", "loose", "tree":
	default:
		return a, "", l.Errorf(name, "atom %s has unknown type %q", a.Key, a.Type)
	}
	if a.Encrypt && a.Keys == "" {
		return a, "", l.Errorf(name, "atom %s asks for encryption but names no keys; refusing to plan it", a.Key)
	}
	for _, p := range a.Parts {
		if _, err := p.ExactFrom(); err != nil {
			return a, "", l.Errorf(name, "atom %s: bad part: %v", a.Key, err)
		}
	}
	return a, exact, nil
}

// Pack groups the dirty atoms of one source into bags: atoms in scan order
// fill the open bag until the next would pass the target; an atom that was
// split gets one bag per part, emitted as it comes while the open bag keeps
// filling, so small atoms on both sides of it share bags (fewer objects,
// fewer requests); an IMMUTABLE atom never shares.
func Pack(atoms []records.Atom, immutable bool, target int64) [][]records.BagAtom {
	var bags [][]records.BagAtom
	var cur []records.BagAtom
	var curBytes int64
	flush := func() {
		if len(cur) > 0 {
			bags = append(bags, cur)
			cur, curBytes = nil, 0
		}
	}
	for _, a := range atoms {
		base := records.BagAtom{Atom: a.Key, AtomB64: a.KeyB64, Path: a.Path, PathB64: a.PathB64, Type: a.Type, Hash: a.Hash, Files: a.Files, Bytes: a.Bytes}
		if len(a.Parts) > 1 {
			for i, p := range a.Parts {
				ba := base
				ba.Part, ba.Parts = i+1, len(a.Parts)
				ba.Files, ba.Bytes = p.Files, p.Bytes
				ba.From, ba.FromB64 = p.From, p.FromB64
				if i+1 < len(a.Parts) {
					ba.To, ba.ToB64 = a.Parts[i+1].From, a.Parts[i+1].FromB64
				}
				bags = append(bags, []records.BagAtom{ba})
			}
			continue
		}
		if immutable {
			bags = append(bags, []records.BagAtom{base})
			continue
		}
		if len(cur) > 0 && curBytes+a.Bytes > target {
			flush()
		}
		cur = append(cur, base)
		curBytes += a.Bytes
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
