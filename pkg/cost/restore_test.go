package cost_test

import (
	"testing"

	"github.com/gbarchive/gb/pkg/cost"
)

func TestRestore(t *testing.T) {
	tests := []struct {
		name                   string
		tier                   string
		bytes                  int64
		objects                int
		thaw, req, egress, hrs float64
	}{
		{"nothing", cost.TierBulk, 0, 0, 0, 0, 0, 48},
		// One 40 GB bag: 40 × 0.0025 thaw, 1/1000 × 0.025 request, 40 × 0.09 egress.
		{"a 40 GB bag, Bulk", cost.TierBulk, 40e9, 1, 0.1, 0.000025, 3.6, 48},
		{"a 40 GB bag, Standard", cost.TierStandard, 40e9, 1, 0.8, 0.0001, 3.6, 12},
		// 1 TB in 25 bags.
		{"1 TB, Bulk", cost.TierBulk, 1e12, 25, 2.5, 0.000625, 90, 48},
		{"1 TB, Standard", cost.TierStandard, 1e12, 25, 20, 0.0025, 90, 12},
		{"unknown tier: egress only", "Expedited", 1e9, 1, 0, 0, 0.09, 0},
	}
	for _, tt := range tests {
		c := seed.Restore(tt.tier, tt.bytes, tt.objects)
		if !near(c.Thaw, tt.thaw) || !near(c.Requests, tt.req) || !near(c.Egress, tt.egress) || c.Hours != tt.hrs {
			t.Errorf("%s: got thaw %g req %g egress %g hours %g, want %g %g %g %g", tt.name, c.Thaw, c.Requests, c.Egress, c.Hours, tt.thaw, tt.req, tt.egress, tt.hrs)
		}
		if !near(c.Total(), tt.thaw+tt.req+tt.egress) {
			t.Errorf("%s: total %g", tt.name, c.Total())
		}
		if c.Tier != tt.tier || c.Bytes != tt.bytes || c.Objects != tt.objects {
			t.Errorf("%s: echoed %+v", tt.name, c)
		}
	}
	// Bulk never costs more than Standard at the seed's prices.
	if b, s := seed.Restore(cost.TierBulk, 123e9, 7), seed.Restore(cost.TierStandard, 123e9, 7); b.Total() >= s.Total() {
		t.Errorf("bulk %g not below standard %g", b.Total(), s.Total())
	}
}
