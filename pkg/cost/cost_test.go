package cost_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/cost"
)

// seed is glacier.cfg's [pricing] from the seed tool.
var seed = cost.Prices{MinRetentionDays: 180, GBMonth: 0.00099, Put1k: 0.05, EgressGB: 0.09,
	ThawStandardGB: 0.02, ThawBulkGB: 0.0025, ReqStandard1k: 0.10, ReqBulk1k: 0.025}

const mib = 1 << 20

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestOverhead(t *testing.T) {
	if cost.OverheadBytes != 40960 {
		t.Errorf("OverheadBytes = %d, want 40 KiB (8 KB + 32 KB)", cost.OverheadBytes)
	}
}

func TestStorageMonth(t *testing.T) {
	tests := []struct {
		name    string
		bytes   int64
		objects int
		want    float64
	}{
		{"nothing", 0, 0, 0},
		{"one GB, no objects", 1e9, 0, 0.00099},
		{"one empty object is billed its overhead", 0, 1, 40960 / 1e9 * 0.00099},
		{"a 40 GB bag", 40e9, 1, (40e9 + 40960) / 1e9 * 0.00099},
		{"a million small objects", 1e6, 1e6, (1e6 + 1e6*40960) / 1e9 * 0.00099},
		{"1 TB in 25 bags", 1e12, 25, (1e12 + 25*40960) / 1e9 * 0.00099},
	}
	for _, tt := range tests {
		if got := seed.StorageMonth(tt.bytes, tt.objects); !near(got, tt.want) {
			t.Errorf("%s: StorageMonth(%d, %d) = %g, want %g", tt.name, tt.bytes, tt.objects, got, tt.want)
		}
	}
	// A million 1 kB objects cost about 41 times the bytes: why gb packs bags.
	small := seed.StorageMonth(1e9, 1e6)
	big := seed.StorageMonth(1e9, 1)
	if small/big < 40 {
		t.Errorf("overhead not visible: %g vs %g", small, big)
	}
	free := cost.Prices{}
	if free.StorageMonth(1e12, 10) != 0 {
		t.Error("zero prices cost something")
	}
}

func TestPuts(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want float64
	}{{0, 0}, {1, 0.00005}, {1000, 0.05}, {2387, 0.11935}} {
		if got := seed.Puts(tt.n); !near(got, tt.want) {
			t.Errorf("Puts(%d) = %g, want %g", tt.n, got, tt.want)
		}
	}
}

func TestEarlyDeletionFee(t *testing.T) {
	up := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	perMonth := (40e9 + 40960) / 1e9 * 0.00099 // a 40 GB bag
	tests := []struct {
		name string
		age  time.Duration
		want float64
	}{
		{"just uploaded", 0, 6 * perMonth},
		{"one day", day, 179.0 / 30 * perMonth},
		{"half way", 90 * day, 3 * perMonth},
		{"prorated by the hour", 179*day + 12*time.Hour, 0.5 / 30 * perMonth},
		{"exactly at min retention", 180 * day, 0},
		{"a second after", 180*day + time.Second, 0},
		{"years later", 3 * 365 * day, 0},
	}
	for _, tt := range tests {
		got := seed.EarlyDeletionFee(40e9, up, up.Add(tt.age))
		if !near(got, tt.want) {
			t.Errorf("%s: fee %g, want %g", tt.name, got, tt.want)
		}
	}
	// Fees fall as the bag ages.
	prev := math.Inf(1)
	for d := 0; d <= 200; d += 5 {
		f := seed.EarlyDeletionFee(1e9, up, up.Add(time.Duration(d)*day))
		if f > prev || f < 0 {
			t.Errorf("day %d: fee %g after %g", d, f, prev)
		}
		prev = f
	}
	// The overhead is billed for the rest of the period too.
	if got, want := seed.EarlyDeletionFee(0, up, up), 6*40960/1e9*0.00099; !near(got, want) {
		t.Errorf("empty object fee %g, want %g", got, want)
	}
	noMin := seed
	noMin.MinRetentionDays = 0
	if got := noMin.EarlyDeletionFee(40e9, up, up); got != 0 {
		t.Errorf("no minimum retention: fee %g", got)
	}
}

func TestPartSize(t *testing.T) {
	tests := []struct {
		size int64
		want int64
	}{
		{0, 16 * mib},
		{1, 16 * mib},
		{16 * mib, 16 * mib},
		{40e9, 16 * mib},              // 2,385 parts of 16 MiB
		{9000 * 16 * mib, 16 * mib},   // exactly 9,000 parts
		{9000*16*mib + 1, 17 * mib},   // one byte more needs bigger parts
		{9000 * 100 * mib, 100 * mib}, // exact multiple
		{9000*100*mib + 1, 101 * mib}, // rounded up to a whole MiB
		{5 << 40, 583 * mib},          // 5 TiB, S3's largest object
		{1e12, int64(math.Ceil(1e12/9000/mib)) * mib},
	}
	for _, tt := range tests {
		if got := cost.PartSize(tt.size); got != tt.want {
			t.Errorf("PartSize(%d) = %d MiB + %d, want %d MiB", tt.size, got/mib, got%mib, tt.want/mib)
		}
	}
}

func TestPartSizeProperties(t *testing.T) {
	sizes := []int64{0, 1, 5 * mib, 16*mib - 1, 16*mib + 1, 40e9, 151e9, 9000*16*mib - 1, 5 << 40}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		sizes = append(sizes, r.Int64N(5<<40))
	}
	for _, s := range sizes {
		ps := cost.PartSize(s)
		if ps < 16*mib {
			t.Fatalf("PartSize(%d) = %d, below 16 MiB", s, ps)
		}
		if ps%mib != 0 {
			t.Fatalf("PartSize(%d) = %d, not whole MiB", s, ps)
		}
		if parts := (s + ps - 1) / ps; parts > 9000 {
			t.Fatalf("PartSize(%d) = %d gives %d parts", s, ps, parts)
		}
		// Not larger than it has to be: one MiB less would need more than
		// 9,000 parts (or go below the 16 MiB floor).
		if smaller := ps - mib; smaller >= 16*mib && (s+smaller-1)/smaller <= 9000 {
			t.Fatalf("PartSize(%d) = %d MiB, but %d MiB would do", s, ps/mib, smaller/mib)
		}
	}
}

func TestPutRequests(t *testing.T) {
	tests := []struct {
		size int64
		want int
	}{
		{0, 1},
		{1, 1},
		{16 * mib, 1},       // one part: a single PUT
		{16*mib + 1, 2 + 2}, // create, 2 parts, complete
		{32 * mib, 2 + 2},   // exactly two parts
		{32*mib + 1, 3 + 2}, // three parts
		{40e9, 2385 + 2},    // a 40 GB bag
		{9000 * 16 * mib, 9002},
	}
	for _, tt := range tests {
		if got := cost.PutRequests(tt.size); got != tt.want {
			t.Errorf("PutRequests(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
}

func TestRound(t *testing.T) {
	// Round keeps four decimals (hundredths of a cent) so small
	// fees do not show as 0.
	tests := []struct{ in, want float64 }{
		{0, 0},
		{1.23456, 1.2346},
		{1.23454, 1.2345},
		{0.00004, 0},
		{-0.00006, -0.0001},
		{12345.678912, 12345.6789},
	}
	for _, tt := range tests {
		if got := cost.Round(tt.in); !near(got, tt.want) {
			t.Errorf("Round(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestEarlyDeletion(t *testing.T) {
	p := cost.Prices{MinRetentionDays: 180, GBMonth: 0.00099}
	up := time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC)
	fee, free := p.EarlyDeletion(1e9-cost.OverheadBytes, up, up.Add(90*24*time.Hour))
	if want := 90.0 / 30 * 0.00099; math.Abs(fee-want) > 1e-12 {
		t.Errorf("fee at 90 days = %v, want %v", fee, want)
	}
	if want := time.Date(2026, 7, 14, 2, 0, 0, 0, time.UTC); !free.Equal(want) {
		t.Errorf("free from %v, want %v", free, want)
	}
	if fee, _ := p.EarlyDeletion(1e9, up, up.Add(180*24*time.Hour)); fee != 0 {
		t.Errorf("fee at 180 days = %v, want 0", fee)
	}
	// An upload time in the future (clocks disagree) counts as now.
	now := up.Add(-24 * time.Hour)
	fee, free = p.EarlyDeletion(1e9-cost.OverheadBytes, up, now)
	if want := 180.0 / 30 * 0.00099; math.Abs(fee-want) > 1e-12 || !free.Equal(p.FreeFrom(now)) {
		t.Errorf("future upload: fee %v free %v, want %v and %v", fee, free, want, p.FreeFrom(now))
	}
	if a := cost.AgeDays(up, up.Add(179*24*time.Hour+23*time.Hour+59*time.Minute)); a != 179.9 {
		t.Errorf("AgeDays just under 180 = %v, want 179.9", a)
	}
	if a := cost.AgeDays(up, now); a != 0 {
		t.Errorf("AgeDays of a future time = %v, want 0", a)
	}
}
