package restore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
)

// Request actions.
const (
	ActRequested  = "requested"   // a restore was requested now
	ActInProgress = "in-progress" // one is already on its way
	ActReady      = "ready"       // a restored copy is readable (or the bag is not cold)
	ActRestored   = "restored"    // fetch already extracted it
	ActMissing    = "missing"     // the store has no such object
	ActFailed     = "failed"      // the request failed
)

// Request asks for a restored copy of every planned bag that has none;
// bags being restored, already readable or already extracted are left
// alone, so running it again spends nothing more. It needs opts.Yes, or a
// "y" typed at the prompt when opts.Interactive.
func Request(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) error {
	path := opts.stateFile()
	tier := opts.Tier
	if tier == "" {
		tier = store.TierBulk
	}
	if tier != store.TierBulk && tier != store.TierStandard {
		return &config.Error{Msg: fmt.Sprintf("--tier %s: Deep Archive restores at Bulk (up to 48 h) or Standard (up to 12 h)", tier)}
	}
	unlock, err := lockState(path)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := LoadState(path)
	if err != nil {
		return err
	}
	days := opts.Days
	if days == 0 {
		days = s.Days
	}
	if days < 1 {
		days = DefaultDays
	}
	warnDest(errOut, s, opts)

	recs, need, err := survey(ctx, s, opts)
	if err != nil {
		return err
	}
	var needBytes int64
	for _, i := range need {
		needBytes += s.Bags[i].Bytes
	}
	c := Cost(opts.Settings.Prices(), tier, needBytes, len(need), days)
	if len(need) > 0 && !opts.Yes {
		what := fmt.Sprintf("request %s (%s) at %s, kept %d days: about %s", plural(int64(len(need)), "bag", "bags"), cost.Bytes(needBytes), tier, days, c.Describe())
		if err := confirm(in, errOut, what, opts.Interactive); err != nil {
			return err
		}
	}
	failed, err := ask(ctx, errOut, s, recs, need, store.RestoreRequest{Days: days, Tier: tier}, opts)
	if err != nil {
		s.Save(path) // keep what was asked before the interruption
		return err
	}
	if err := s.Save(path); err != nil {
		return err
	}
	w := records.NewWriter(out)
	counts := map[string]int{}
	for _, r := range recs {
		counts[r.Action]++
		if err := w.Write(r); err != nil {
			return err
		}
	}
	if counts[ActMissing] > 0 || failed > 0 {
		return fmt.Errorf("%d of %d bags could not be requested (%d missing from %s, %d failed); see the restore_request records",
			counts[ActMissing]+failed, len(s.Bags), counts[ActMissing], opts.Store, failed)
	}
	spent := "nothing requested"
	if n := counts[ActRequested]; n > 0 {
		spent = fmt.Sprintf("requested %s (%s) at %s for %d days, about %s; ready within %.0f h",
			plural(int64(n), "bag", "bags"), cost.Bytes(needBytes), tier, days, cost.USD(c.total), c.Hours)
	}
	fmt.Fprintf(errOut, "gb-restore: %s; %d already in progress, %d ready, %d restored; next: gb-restore status\n",
		spent, counts[ActInProgress], counts[ActReady], counts[ActRestored])
	return nil
}

// survey asks the store where each planned bag stands: a record per bag
// for those that need no request, and the indexes of those that do.
func survey(ctx context.Context, s *State, opts Options) ([]*records.RestoreRequest, []int, error) {
	recs := make([]*records.RestoreRequest, len(s.Bags))
	var need []int
	for i, b := range s.Bags {
		r := &records.RestoreRequest{Kind: records.KindRestoreRequest, Bag: b.Bag, Key: b.Key, Bytes: b.Bytes}
		recs[i] = r
		if !b.RestoredAt.IsZero() {
			r.Action = ActRestored
			continue
		}
		info, err := opts.Store.Head(ctx, b.Key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			r.Action, r.Error = ActMissing, err.Error()
		case err != nil:
			return nil, nil, fmt.Errorf("bag %s: %w", b.Bag, err)
		case !store.IsCold(info.StorageClass):
			r.Action = ActReady
		case info.Restore.Ongoing:
			r.Action, r.Tier = ActInProgress, orStr(info.Restore.Tier, b.Tier)
		case info.Readable(opts.Now):
			r.Action, r.Tier = ActReady, orStr(info.Restore.Tier, b.Tier)
		default:
			need = append(need, i)
		}
	}
	return recs, need, nil
}

// confirm asks a person at a terminal whether to spend what is described;
// anywhere else the answer is no (--yes says yes).
func confirm(in io.Reader, errOut io.Writer, what string, interactive bool) error {
	if !interactive {
		return &config.Error{Msg: what + "; not confirmed, nothing requested",
			Hint: "run again with --yes to spend it (--tier Standard is faster and dearer)"}
	}
	fmt.Fprintf(errOut, "gb-restore: %s.\ngb-restore: type y to proceed: ", what)
	line, _ := bufio.NewReader(in).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return &config.Error{Msg: "not confirmed; nothing requested"}
	}
	return nil
}

// ask requests a restore of the bags at need and notes it in their state
// and records. A failed request is said, recorded and counted; only an
// interruption stops it.
func ask(ctx context.Context, errOut io.Writer, s *State, recs []*records.RestoreRequest, need []int, req store.RestoreRequest, opts Options) (failed int, err error) {
	for _, i := range need {
		b, r := s.Bags[i], recs[i]
		r.Tier, r.Days = req.Tier, req.Days
		if err := opts.Store.Restore(ctx, b.Key, req); err != nil {
			if ctx.Err() != nil {
				return failed, err
			}
			r.Action, r.Error = ActFailed, err.Error()
			failed++
			fmt.Fprintf(errOut, "gb-restore: error: bag %s: %v\n", b.Bag, err)
			continue
		}
		r.Action = ActRequested
		b.RequestedAt, b.Tier, b.Days = opts.Now.UTC(), req.Tier, req.Days
	}
	return failed, nil
}

func orStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// warnDest says so when the plan was made for another destination.
func warnDest(errOut io.Writer, s *State, opts Options) {
	if opts.Store == nil || s.Dest == "" {
		return
	}
	if u, _ := opts.Settings.DestURL(); u != s.Dest {
		fmt.Fprintf(errOut, "gb-restore: warning: the plan was made for %s; using %s\n", s.Dest, u)
	}
}
