package cost

import "time"

// day is a billing day: Deep Archive counts the minimum storage duration
// in time since the upload, not in calendar days.
const day = 24 * time.Hour

// FreeFrom is when an object uploaded at t can be deleted without an
// early-deletion fee: MinRetentionDays after its upload.
func (p Prices) FreeFrom(uploaded time.Time) time.Time {
	return uploaded.Add(time.Duration(p.MinRetentionDays * float64(day)))
}

// EarlyDeletion is what deleting an object of size bytes uploaded at t
// costs at now, and when that fee drops to zero. An upload time after now
// (a clock that disagrees with the store's) counts as now: the object is
// treated as brand new, so the fee is never understated.
func (p Prices) EarlyDeletion(bytes int64, uploaded, now time.Time) (fee float64, freeFrom time.Time) {
	if uploaded.After(now) {
		uploaded = now
	}
	return p.EarlyDeletionFee(bytes, uploaded, now), p.FreeFrom(uploaded)
}

// AgeDays is the age of something made at t, in days with one decimal
// (cut, not rounded, so 179.99 days is not shown as 180.0), and never
// below 0.
func AgeDays(t, now time.Time) float64 {
	if t.After(now) {
		return 0
	}
	return float64(int64(now.Sub(t).Hours()/24*10)) / 10
}
