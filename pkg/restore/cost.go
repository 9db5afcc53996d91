package restore

import (
	"fmt"

	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/records"
)

// TierCost is what restoring some bags costs and takes at one tier: the
// rounded figures of the record, and the exact ones for people.
type TierCost struct {
	records.RestoreCost

	thaw, requests, egress, storage, total float64
}

// Cost prices restoring bags (count) of bytes at tier, keeping the
// restored copy for days:
//
//	thaw     = bytes / 10^9 × price_thaw_<tier>_gb
//	requests = bags / 1,000 × price_req_<tier>_1k
//	egress   = bytes / 10^9 × price_egress_gb
//	storage  = bytes / 10^9 × price_standard_gb_month × days / 30
//
// Amounts are rounded to 4 decimals each; the total is rounded on its own.
func Cost(p cost.Prices, tier string, bytes int64, bags, days int) TierCost {
	rc := p.Restore(tier, bytes, bags)
	storage := p.RestoredCopy(bytes, days)
	total := rc.Total() + storage
	return TierCost{
		RestoreCost: records.RestoreCost{Tier: tier, Bags: bags, Bytes: bytes, ThawUSD: cost.Round(rc.Thaw), RequestsUSD: cost.Round(rc.Requests),
			EgressUSD: cost.Round(rc.Egress), StorageUSD: cost.Round(storage), TotalUSD: cost.Round(total), Hours: rc.Hours, Days: days},
		thaw: rc.Thaw, requests: rc.Requests, egress: rc.Egress, storage: storage, total: total}
}

// Describe is the cost for people: "$7.83 (thaw $0.20, requests <$0.01,
// download $7.20, 7 days of restored copy $0.43)".
func (c TierCost) Describe() string {
	return fmt.Sprintf("%s (thaw %s, requests %s, download %s, %d days of restored copy %s)",
		cost.USD(c.total), cost.USD(c.thaw), cost.USD(c.requests), cost.USD(c.egress), c.Days, cost.USD(c.storage))
}
