package cost

// Deep Archive restore tiers, as S3 names them. Deep Archive has no
// Expedited tier.
const (
	TierBulk     = "Bulk"
	TierStandard = "Standard"
)

// Tiers are the restore tiers gb prices, cheapest first.
var Tiers = []string{TierBulk, TierStandard}

// RestoreHours is how long Deep Archive takes, at most, before a restored
// copy is readable: within 12 hours for Standard, 48 hours for Bulk. An
// unknown tier takes 0.
func RestoreHours(tier string) float64 {
	switch tier {
	case TierBulk:
		return 48
	case TierStandard:
		return 12
	}
	return 0
}

// RestoreCost is what thawing and downloading some objects costs at one
// tier. Bytes are the stored (compressed, encrypted) sizes of the objects.
type RestoreCost struct {
	Tier    string
	Objects int
	Bytes   int64
	// Thaw: retrieval per GB; Requests: one restore request per object;
	// Egress: downloading the bytes once.
	Thaw, Requests, Egress float64
	Hours                  float64
}

// Total is thaw + requests + egress.
func (c RestoreCost) Total() float64 { return c.Thaw + c.Requests + c.Egress }

// Restore prices restoring objects (count) of bytes in total at tier:
//
//	thaw     = bytes / 10^9 × price_thaw_<tier>_gb
//	requests = objects / 1,000 × price_req_<tier>_1k
//	egress   = bytes / 10^9 × price_egress_gb
//
// Not included, for lack of a [pricing] key: the GET requests of the
// download and the restored copy's temporary storage in STANDARD for the
// days it is kept. Per-object overhead is not retrieved, so not counted.
func (p Prices) Restore(tier string, bytes int64, objects int) RestoreCost {
	c := RestoreCost{Tier: tier, Objects: objects, Bytes: bytes, Hours: RestoreHours(tier)}
	var perGB, per1k float64
	switch tier {
	case TierBulk:
		perGB, per1k = p.ThawBulkGB, p.ReqBulk1k
	case TierStandard:
		perGB, per1k = p.ThawStandardGB, p.ReqStandard1k
	}
	c.Thaw = float64(bytes) / gb * perGB
	c.Requests = float64(objects) / 1000 * per1k
	c.Egress = float64(bytes) / gb * p.EgressGB
	return c
}
