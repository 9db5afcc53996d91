package records_test

import (
	"bytes"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/gbarchive/gb/pkg/records"
)

func TestUpstream(t *testing.T) {
	for _, tc := range []struct {
		name, line string // the upstream summary, "" when it never came
		want       string // the error, "" for none
		quiet      bool
	}{
		{"ok", `{"kind":"plan","status":"ok"}`, "", false},
		{"no status (an older stage)", `{"kind":"plan","nothing_to_do":true}`, "", false},
		{"warnings", `{"kind":"plan","status":"warnings"}`, "", false},
		{"failed", `{"kind":"plan","status":"failed","error":"boom"}`, "gb-plan failed", true},
		{"failed upstream of it", `{"kind":"plan","status":"failed","upstream":"gb-scan"}`, "gb-scan failed", true},
		{"never came", "", "input ended without gb-plan's summary (gb-plan failed or was killed); nothing was packed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := records.NewUpstream("gb-plan", records.KindPlan)
			up.Note(records.Line{Kind: records.KindSource, Raw: []byte(`{"kind":"source","status":"failed"}`)})
			if tc.line != "" {
				r := records.NewReader(bytes.NewReader([]byte(tc.line)), "in")
				l, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				up.Note(l)
			}
			err := up.Err("nothing was packed")
			if got := fmt.Sprint(err); (err == nil) != (tc.want == "") || (err != nil && got != tc.want) {
				t.Fatalf("Err() = %v, want %q", err, tc.want)
			}
			if err != nil && records.Quiet(err) != tc.quiet {
				t.Fatalf("Quiet = %v, want %v", records.Quiet(err), tc.quiet)
			}
		})
	}
}

type hinted struct{ error }

func (hinted) HintText() string { return "do this" }

func TestFinish(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		written bool
		want    string // the line written, "" for none
	}{
		{"success writes nothing more", nil, false, ""},
		{"already written", errors.New("late"), true, ""},
		{"failed", hinted{errors.New("disk full")}, false, `{"kind":"pack","status":"failed","error":"disk full","hint":"do this","bags":2,"bytes":0,"content_bytes":0,"warnings":0}` + "\n"},
		{"upstream failed", &records.UpstreamError{Stage: "gb-scan"}, false, `{"kind":"pack","status":"failed","error":"gb-scan failed","upstream":"gb-scan","bags":2,"bytes":0,"content_bytes":0,"warnings":0}` + "\n"},
		{"reader went away", fmt.Errorf("write output: %w", syscall.EPIPE), false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			sum := records.PackSummary{Kind: records.KindPack, Bags: 2}
			if err := records.Finish(&out, tc.err, tc.written, &sum); err != tc.err {
				t.Fatalf("Finish returned %v, want %v", err, tc.err)
			}
			if out.String() != tc.want {
				t.Fatalf("wrote %q, want %q", out.String(), tc.want)
			}
		})
	}
}

func TestAfter(t *testing.T) {
	own := errors.New("inventory.json:3: not a valid inventory")
	for _, tc := range []struct {
		name, in string
		quiet    bool
	}{
		{"upstream failed too", `{"kind":"source"}` + "\n" + `{"kind":"put","status":"failed","upstream":"gb-plan"}` + "\n", true},
		{"upstream went well", `{"kind":"put","status":"ok"}` + "\n", false},
		{"no upstream summary", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := records.NewUpstream("gb-put", records.KindPut)
			err := up.After(bytes.NewReader([]byte(tc.in)), own)
			if records.Quiet(err) != tc.quiet || (!tc.quiet && err != own) {
				t.Fatalf("After = %v (quiet %v), want quiet %v", err, records.Quiet(err), tc.quiet)
			}
		})
	}
}
