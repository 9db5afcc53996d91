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

// RequestRecord is the restore_request record: what request did for one
// bag.
type RequestRecord struct {
	Kind   string `json:"kind"`
	Bag    string `json:"bag"`
	Key    string `json:"key"`
	Action string `json:"action"`
	Tier   string `json:"tier,omitempty"`
	Days   int    `json:"days,omitempty"`
	Bytes  int64  `json:"bytes"`
	Error  string `json:"error,omitempty"`
}

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

	recs := make([]*RequestRecord, len(s.Bags))
	var need []int
	var needBytes int64
	counts := map[string]int{}
	for i, b := range s.Bags {
		r := &RequestRecord{Kind: KindRequest, Bag: b.Bag, Key: b.Key, Bytes: b.Bytes}
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
			return fmt.Errorf("bag %s: %w", b.Bag, err)
		case !store.IsCold(info.StorageClass):
			r.Action = ActReady
		case info.Restore.Ongoing:
			r.Action, r.Tier = ActInProgress, orStr(info.Restore.Tier, b.Tier)
		case info.Readable(opts.Now):
			r.Action, r.Tier = ActReady, orStr(info.Restore.Tier, b.Tier)
		default:
			need = append(need, i)
			needBytes += b.Bytes
		}
	}
	c := Cost(opts.Settings.Prices(), tier, needBytes, len(need), days)
	if len(need) > 0 && !opts.Yes {
		what := fmt.Sprintf("request %s (%s) at %s, kept %d days: about %s", plural(int64(len(need)), "bag", "bags"), cost.Bytes(needBytes), tier, days, c.Describe())
		if !opts.Interactive {
			return &config.Error{Msg: what + "; not confirmed, nothing requested",
				Hint: "run again with --yes to spend it (--tier Standard is faster and dearer)"}
		}
		fmt.Fprintf(errOut, "gb-restore: %s.\ngb-restore: type y to proceed: ", what)
		line, _ := bufio.NewReader(in).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return &config.Error{Msg: "not confirmed; nothing requested"}
		}
	}
	failed := 0
	for _, i := range need {
		b, r := s.Bags[i], recs[i]
		r.Tier, r.Days = tier, days
		if err := opts.Store.Restore(ctx, b.Key, store.RestoreRequest{Days: days, Tier: tier}); err != nil {
			if ctx.Err() != nil {
				s.Save(path)
				return err
			}
			r.Action, r.Error = ActFailed, err.Error()
			failed++
			fmt.Fprintf(errOut, "gb-restore: error: bag %s: %v\n", b.Bag, err)
			continue
		}
		r.Action = ActRequested
		b.RequestedAt, b.Tier, b.Days = opts.Now.UTC(), tier, days
	}
	if err := s.Save(path); err != nil {
		return err
	}
	w := records.NewWriter(out)
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
