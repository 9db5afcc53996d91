// Package cost turns bytes and requests into dollars with the [pricing]
// of glacier.cfg, so every plan and report says what it costs before
// anything is spent.
package cost

import (
	"math"
	"time"
)

// OverheadBytes is what Deep Archive bills per object on top of its data:
// 8 KB in STANDARD for the name and 32 KB of archive index.
const OverheadBytes = 40 * 1024

// Prices are the [pricing] section.
type Prices struct {
	MinRetentionDays float64
	GBMonth          float64
	Put1k            float64
	EgressGB         float64
	ThawStandardGB   float64
	ThawBulkGB       float64
	ReqStandard1k    float64
	ReqBulk1k        float64
	StandardGBMonth  float64 // S3 Standard storage: a restored copy while it is kept
}

const gb = 1e9

// StorageMonth is the monthly storage bill for objects of the given total
// size and count.
func (p Prices) StorageMonth(bytes int64, objects int) float64 {
	return (float64(bytes) + float64(objects)*OverheadBytes) / gb * p.GBMonth
}

// Puts is the bill for n PUT-class requests.
func (p Prices) Puts(n int) float64 { return float64(n) / 1000 * p.Put1k }

// EarlyDeletionFee is what deleting (or overwriting) an object of size
// bytes uploaded at t costs at now: the storage of the days left until
// MinRetentionDays.
func (p Prices) EarlyDeletionFee(bytes int64, uploaded, now time.Time) float64 {
	left := p.MinRetentionDays - now.Sub(uploaded).Hours()/24
	if left <= 0 {
		return 0
	}
	return left / 30 * (float64(bytes) + OverheadBytes) / gb * p.GBMonth
}

// PartSize is the multipart part size gb uses for an object: at least
// 16 MiB, and large enough that the object needs at most 9,000 parts (S3
// allows 10,000), rounded up to a whole MiB.
func PartSize(size int64) int64 {
	const mib = 1 << 20
	ps := int64(math.Ceil(float64(size)/9000/mib)) * mib
	if ps < 16*mib {
		ps = 16 * mib
	}
	return ps
}

// PutRequests is how many PUT-class requests storing an object takes: one
// for a single PUT, else create + parts + complete.
func PutRequests(size int64) int {
	ps := PartSize(size)
	if size <= ps {
		return 1
	}
	return int((size+ps-1)/ps) + 2
}

// Round rounds dollars to 1/100 of a cent for records: small plans cost
// fractions of a cent.
func Round(v float64) float64 { return math.Round(v*1e4) / 1e4 }
