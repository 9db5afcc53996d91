package report

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/records"
)

// Text renders the report as tables for people.
func Text(r *Report) string {
	var b strings.Builder
	for _, section := range []func(*strings.Builder, *Report){textHeader, textSources, textBill, textBags, textRestores, textRuns, textChurn, textFooter} {
		section(&b, r)
	}
	return b.String()
}

// textHeader says when, of what, and over which runs.
func textHeader(b *strings.Builder, r *Report) {
	s := r.Summary
	fmt.Fprintf(b, "gb report, %s: %s\n", s.At.Format("2006-01-02 15:04 MST"), show(s.Inventory))
	switch {
	case s.Runs == 0:
		b.WriteString("No runs yet.\n")
	case s.Runs == 1:
		fmt.Fprintf(b, "1 run, on %s.\n", day(s.LastRun))
	default:
		fmt.Fprintf(b, "%d runs, from %s to %s.\n", s.Runs, day(s.FirstRun), day(s.LastRun))
	}
}

// textSources is the table of sources.
func textSources(b *strings.Builder, r *Report) {
	s := r.Summary
	b.WriteString("\n")
	tw := table(b)
	fmt.Fprintln(tw, "SOURCE\tMODE\tENCRYPTED\tATOMS\tFILES\tCONTENT\tBAGS\tSTORED\tRETIRED\t$/MONTH")
	for _, x := range r.Sources {
		enc := "no"
		switch {
		case x.Encrypt:
			enc = "yes"
		case x.AtomsEncrypted > 0:
			enc = fmt.Sprintf("%d of %d atoms", x.AtomsEncrypted, x.Atoms)
		}
		mode := x.Mode
		if mode == "" {
			mode = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", show(sourceOf(x.Source, x.SourceB64)), mode, enc, atoms(x.Atoms, x.AtomsGone), x.Files,
			cost.Bytes(x.Bytes), x.Bags, cost.Bytes(x.BagBytes), retired(x.BagsRetired, x.RetiredBytes), cost.USD(x.monthly))
	}
	enc := "no"
	if s.AtomsEncrypted > 0 {
		enc = fmt.Sprintf("%d of %d atoms", s.AtomsEncrypted, s.Atoms)
	}
	fmt.Fprintf(tw, "total\t\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", enc, atoms(s.Atoms, s.AtomsGone), s.Files, cost.Bytes(s.Bytes), s.BagsInUse, cost.Bytes(s.InUseBytes),
		retired(s.BagsRetired, s.RetiredBytes), cost.USD(s.monthly))
	tw.Flush()
	if s.AtomsGone > 0 {
		verb := "are"
		if s.AtomsGone == 1 {
			verb = "is"
		}
		fmt.Fprintf(b, "%s missing from disk %s kept (with their bags) until keep_deleted_days have passed.\n", plural(s.AtomsGone, "atom"), verb)
	}
}

// textBill is what storage costs, and what retired bags add to it.
func textBill(b *strings.Builder, r *Report) {
	s := r.Summary
	fmt.Fprintf(b, "\nStorage: %s a month (%s a year) for %s, %s, each billed 40 KB more than its bytes.\n",
		cost.USD(s.monthly), cost.USD(12*s.monthly), plural(s.Bags, "bag"), cost.Bytes(s.BagBytes))
	if s.BagsRetired > 0 {
		fmt.Fprintf(b, "Of that, %s a month is for %s no atom needs any more, billed until gb-prune deletes them: ", cost.USD(s.monthlyRetired), plural(s.BagsRetired, "retired bag"))
		switch {
		case s.RetiredYoung == 0:
			b.WriteString("all are free to delete now.\n")
		default:
			fmt.Fprintf(b, "%d free to delete now, %d from %s on (deleting those now costs %s).\n", s.RetiredFreeNow, s.RetiredYoung, day(s.NextFreeFrom), cost.USD(s.fees))
		}
	}
	if ss := s.Store; ss != nil {
		fmt.Fprintf(b, "Store %s: %s, %s; %s cold (%s a month), %s STANDARD (manifests, system files; priced by your provider's STANDARD rate, not in [pricing]).\n",
			ss.URL, plural(ss.Objects, "object"), cost.Bytes(ss.Bytes), plural(ss.ColdObjects, "object"), cost.USD(s.storeMonthly), cost.Bytes(ss.StandardBytes))
		if ss.BagsMissing > 0 || ss.BagsUnknown > 0 {
			fmt.Fprintf(b, "%d bags of the inventory are not in the store, %d bags in the store are not in the inventory: run gb-audit.\n", ss.BagsMissing, ss.BagsUnknown)
		}
	}
}

// textBags is the table of bags.
func textBags(b *strings.Builder, r *Report) {
	if len(r.Bags) > 0 {
		b.WriteString("\n")
		tw := table(b)
		fmt.Fprintf(tw, "BAG\tSTATE\tSOURCE\tSTORED\tUPLOADED\tFREE FROM\tDELETE NOW\t$/MONTH\n")
		for _, x := range r.Bags {
			free := "-"
			if !x.FreeFrom.IsZero() {
				free = day(x.FreeFrom)
			}
			state := x.State
			if x.Encrypt {
				state += ", encrypted"
			}
			if x.InStore != nil && !*x.InStore {
				state += ", NOT IN STORE"
			}
			fee := cost.USD(x.fee)
			if x.State == StateInUse {
				fee = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Bag, state, show(sourceOf(x.Source, x.SourceB64)), cost.Bytes(x.Bytes), day(x.UploadedAt),
				free, fee, cost.USD(x.monthly))
		}
		tw.Flush()
		fmt.Fprintf(b, "A bag is free to delete %s days after its upload; DELETE NOW is the early-deletion fee of deleting a retired bag now.\n", strconv.FormatFloat(r.MinRetentionDays, 'f', -1, 64))
	}
}

// textRestores is the table of what restoring costs.
func textRestores(b *strings.Builder, r *Report) {
	s := r.Summary
	b.WriteString("\n")
	tw := table(b)
	fmt.Fprintf(tw, "RESTORE\tBAGS\tSTORED\tBULK (~%g h)\tSTANDARD (~%g h)\n", cost.RestoreHours(cost.TierBulk), cost.RestoreHours(cost.TierStandard))
	for i := 0; i+1 < len(r.Restores); i += 2 {
		bulk, std := r.Restores[i], r.Restores[i+1]
		name := "everything"
		switch bulk.Scope {
		case ScopeBag:
			name = "largest bag " + bulk.Bag
		case ScopeSource:
			name = show(sourceOf(bulk.Source, bulk.SourceB64))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", name, bulk.Bags, cost.Bytes(bulk.Bytes), cost.USD(bulk.total), cost.USD(std.total))
	}
	tw.Flush()
	b.WriteString("Thaw per GB + one request per bag + download per GB. Not included: the GETs, and the thawed copy's STANDARD storage while it is kept.\n")
	if s.BagsEncrypted > 0 {
		b.WriteString("Encrypted bags open only with your age identity (or key.txt's passphrase): keep it apart from this machine.\n")
	}
}

// textRuns is the table of runs.
func textRuns(b *strings.Builder, r *Report) {
	if len(r.Runs) > 0 {
		b.WriteString("\n")
		tw := table(b)
		fmt.Fprintln(tw, "RUN\tDATE\tBAGS\tUPLOADED\tPACKED\tNEW\tCHANGED\tKEPT\tFORGOTTEN\tSTORED\t$/MONTH")
		est := false
		var notes []string
		for _, x := range r.Runs {
			stored := cost.Bytes(x.StoredBytes)
			if x.Estimated {
				stored += " *"
				est = true
			}
			date := day(x.At)
			if x.DryRun {
				date += " (dry run)"
			}
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", x.Run, date, x.BagsAdded, cost.Bytes(x.BytesAdded), x.AtomsPacked, x.AtomsNew, x.AtomsChanged,
				x.AtomsKept, x.AtomsForgotten, stored, cost.USD(x.monthly))
			if n := x.AtomsRepacked - x.AtomsChanged; n > 0 {
				notes = append(notes, fmt.Sprintf("Run %d packed %s again unchanged (--repack, --reset-bag, new keys, or an incomplete pack).", x.Run, plural(n, "atom")))
			}
			if x.AtomsUntracked > 0 {
				notes = append(notes, fmt.Sprintf("Run %d packed %s that neither the inventory nor its daily copies show now (forgotten since, or that day's copy is gone).", x.Run, plural(x.AtomsUntracked, "more atom")))
			}
		}
		tw.Flush()
		b.WriteString("CHANGED: atoms packed again because they changed. STORED: bags the inventory held after the run.\n")
		if est {
			b.WriteString("* estimated: no daily inventory copy shows that state; prunes before it are not subtracted.\n")
		}
		for _, n := range notes {
			b.WriteString(n + "\n")
		}
	}
}

// textChurn is the table of atoms packed again and again.
func textChurn(b *strings.Builder, r *Report) {
	s := r.Summary
	switch {
	case s.ChurnRuns == 0:
		b.WriteString("\nChurn: no runs yet.\n")
	case len(r.Churn) == 0:
		fmt.Fprintf(b, "\nChurn over the last %s: no atom was packed again.\n", plural(s.ChurnRuns, "run"))
	default:
		fmt.Fprintf(b, "\nChurn over the last %s:\n", plural(s.ChurnRuns, "run"))
		tw := table(b)
		fmt.Fprintln(tw, "\tATOM\tSIZE\tCHANGED\tRE-UPLOADED")
		for _, x := range r.Churn {
			mark := ""
			if x.Candidate {
				mark = "*"
			}
			atom, _ := records.DecodePath(x.Atom, x.AtomB64)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d of %d runs\t%s\n", mark, show(atom), cost.Bytes(x.Bytes), x.Changes, x.Runs, cost.Bytes(x.ChangedBytes))
		}
		tw.Flush()
		b.WriteString("CHANGED: in how many of the runs since it first appeared it changed and was packed again.\n")
		if s.ChurnCandidates > 0 {
			b.WriteString("* changed in (nearly) every run: a candidate to split (make its sub-directories atoms: ::MUTABLE) or exclude (exclude.txt).\n")
		}
	}
}

// textFooter says what was not read, and where the chart is.
func textFooter(b *strings.Builder, r *Report) {
	s := r.Summary
	if s.HistoryFiles == 0 && s.Runs > 1 {
		b.WriteString("No daily inventory copies were read: each atom shows only the last run that packed it.\n")
	}
	if s.SVG != "" {
		fmt.Fprintf(b, "\nChart: %s\n", show(s.SVG))
	}
}

func table(b *strings.Builder) *tabwriter.Writer { return tabwriter.NewWriter(b, 0, 0, 2, ' ', 0) }

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func retired(n int, bytes int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%d, %s", n, cost.Bytes(bytes))
}

func atoms(n, gone int) string {
	if gone == 0 {
		return strconv.Itoa(n)
	}
	return fmt.Sprintf("%d (%d gone)", n, gone)
}

func sourceOf(display, b64 string) string {
	p, err := records.DecodePath(display, b64)
	if err != nil {
		return display
	}
	return p
}

// show writes a path for a terminal: as it is when it is printable UTF-8
// without tabs, else Go-quoted.
func show(p string) string {
	if utf8.ValidString(p) && strings.IndexFunc(p, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return p
	}
	return strconv.Quote(p)
}
