package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gbarchive/gb/pkg/store"
)

func TestParseRestoreDelay(t *testing.T) {
	good := map[string]map[string]time.Duration{
		"30s":                      {store.TierExpedited: 30 * time.Second, store.TierStandard: 30 * time.Second, store.TierBulk: 30 * time.Second},
		"0s":                       {store.TierExpedited: 0, store.TierStandard: 0, store.TierBulk: 0},
		"Bulk=2m":                  {store.TierBulk: 2 * time.Minute},
		"bulk=1h, standard = 30m ": {store.TierBulk: time.Hour, store.TierStandard: 30 * time.Minute},
	}
	for v, want := range good {
		got, err := store.ParseRestoreDelay(v)
		if err != nil {
			t.Errorf("%q: %v", v, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
		for k, d := range want {
			if got[k] != d {
				t.Errorf("%q: %s = %v, want %v", v, k, got[k], d)
			}
		}
	}
	for _, v := range []string{"soon", "-1m", "Bulk", "Glacier=1m", "Bulk=-1s", "Bulk=1m,Bulk=2m", "Bulk=x"} {
		if _, err := store.ParseRestoreDelay(v); err == nil || !strings.Contains(err.Error(), store.RestoreDelayEnv) {
			t.Errorf("%q: %v, want an error naming %s", v, err, store.RestoreDelayEnv)
		}
	}
}

// Per-tier delays: a Standard restore is readable before a Bulk one
// requested at the same time, and both expire after their days.
func TestOpenRestoreDelayPerTier(t *testing.T) {
	now := time.Date(2027, 1, 15, 2, 0, 0, 0, time.UTC)
	t.Setenv("GB_NOW", now.Format(time.RFC3339))
	t.Setenv(store.RestoreDelayEnv, "Bulk=1h,Standard=10m")
	s, err := store.Open(context.Background(), "file://"+t.TempDir(), store.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"bulk", "std"} {
		if _, err := s.Put(ctx, k, strings.NewReader(k), int64(len(k)), store.PutOptions{StorageClass: store.DeepArchive}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Restore(ctx, "bulk", store.RestoreRequest{Tier: store.TierBulk, Days: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(ctx, "std", store.RestoreRequest{Tier: store.TierStandard, Days: 1}); err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) { t.Setenv("GB_NOW", now.Add(d).Format(time.RFC3339)) }
	readable := func(k string) bool {
		rc, err := s.Get(ctx, k, 0, -1)
		if err == nil {
			rc.Close()
			return true
		}
		if !errors.Is(err, store.ErrFrozen) {
			t.Fatalf("get %s: %v", k, err)
		}
		return false
	}
	at(11 * time.Minute)
	if !readable("std") || readable("bulk") {
		t.Fatalf("after 11m: std %v bulk %v, want true false", readable("std"), readable("bulk"))
	}
	at(61 * time.Minute)
	if !readable("bulk") {
		t.Fatal("bulk not readable after 61m")
	}
	// Standard expires 10m + 1 day after the request, Bulk 1h + 1 day.
	at(24*time.Hour + 30*time.Minute)
	if readable("std") || !readable("bulk") {
		t.Fatalf("after 1d30m: std %v bulk %v, want false true", readable("std"), readable("bulk"))
	}
	info, _ := s.Head(ctx, "std")
	if info.Restore.Requested {
		t.Fatalf("expired copy still reported: %+v", info.Restore)
	}
}
