package store

import (
	"fmt"
	"strings"
	"time"
)

// ParseRestoreDelay reads a GB_LOCAL_RESTORE_DELAY value: one Go duration
// for every tier ("30s", "0s"), or per tier, comma-separated
// ("Bulk=2m,Standard=30s"; tier names in any case). Tiers a per-tier
// value leaves out keep their defaults (see LocalOptions.RestoreDelay).
func ParseRestoreDelay(v string) (map[string]time.Duration, error) {
	bad := func(why string) error {
		return fmt.Errorf("%s=%q %s (use a duration such as 30s, 5m or 0s for every tier, or per tier: Bulk=5m,Standard=2m)", RestoreDelayEnv, v, why)
	}
	if !strings.Contains(v, "=") {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 {
			return nil, bad("is not a duration")
		}
		return map[string]time.Duration{TierExpedited: d, TierStandard: d, TierBulk: d}, nil
	}
	out := map[string]time.Duration{}
	for _, part := range strings.Split(v, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, bad(fmt.Sprintf("has %q, not TIER=DURATION", part))
		}
		var tier string
		for _, t := range []string{TierExpedited, TierStandard, TierBulk} {
			if strings.EqualFold(strings.TrimSpace(name), t) {
				tier = t
			}
		}
		if tier == "" {
			return nil, bad(fmt.Sprintf("names an unknown tier %q", name))
		}
		if _, dup := out[tier]; dup {
			return nil, bad(fmt.Sprintf("gives tier %s twice", tier))
		}
		d, err := time.ParseDuration(strings.TrimSpace(val))
		if err != nil || d < 0 {
			return nil, bad(fmt.Sprintf("has %q for %s, which is not a duration", val, tier))
		}
		out[tier] = d
	}
	return out, nil
}
