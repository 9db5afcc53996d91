package cost

// RestoredCopy is what the temporary readable copy of restored objects
// costs while it is kept: S3 bills it as STANDARD storage for the days
// requested, on top of the Deep Archive original:
//
//	bytes / 10^9 × price_standard_gb_month × days / 30
func (p Prices) RestoredCopy(bytes int64, days int) float64 {
	return float64(bytes) / gb * p.StandardGBMonth * float64(days) / 30
}
