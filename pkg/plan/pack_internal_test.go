package plan

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/records"
)

// atom builds a one-part atom of the given size.
func atom(name string, bytes int64) records.Atom {
	return records.Atom{Kind: records.KindAtom, Key: "/s/" + name, Path: "/s/" + name, Type: "dir", Source: "/s", Hash: "h-" + name, Files: 1, Bytes: bytes}
}

// split builds an atom split at the given points; sizes are per part.
func split(name string, from []string, sizes []int64) records.Atom {
	a := atom(name, 0)
	for i, f := range from {
		a.Parts = append(a.Parts, records.Part{From: f, Files: int64(i + 1), Bytes: sizes[i]})
		a.Bytes += sizes[i]
		a.Files += int64(i + 1)
	}
	return a
}

// shape renders bags as "a+b|c" with split parts as "x#1/2".
func shape(bags [][]records.BagAtom) string {
	var out []string
	for _, b := range bags {
		var names []string
		for _, ba := range b {
			n := strings.TrimPrefix(ba.Atom, "/s/")
			if ba.Parts > 0 {
				n += fmt.Sprintf("#%d/%d", ba.Part, ba.Parts)
			}
			names = append(names, n)
		}
		out = append(out, strings.Join(names, "+"))
	}
	return strings.Join(out, "|")
}

func TestPack(t *testing.T) {
	const target = 100
	tests := []struct {
		name      string
		atoms     []records.Atom
		immutable bool
		want      string
	}{
		{name: "nothing", want: ""},
		{name: "one small atom", atoms: []records.Atom{atom("a", 10)}, want: "a"},
		{
			name:  "small atoms grouped in order until the target",
			atoms: []records.Atom{atom("a", 30), atom("b", 30), atom("c", 30), atom("d", 30), atom("e", 30), atom("f", 30), atom("g", 11)},
			want:  "a+b+c|d+e+f|g",
		},
		{
			name:  "filling exactly to the target shares",
			atoms: []records.Atom{atom("a", 60), atom("b", 40), atom("c", 1)},
			want:  "a+b|c",
		},
		{
			name:  "an atom exactly at the target",
			atoms: []records.Atom{atom("a", 100), atom("b", 100), atom("c", 1)},
			want:  "a|b|c",
		},
		{
			name:  "an atom at the target after a small one",
			atoms: []records.Atom{atom("a", 1), atom("b", 100), atom("c", 1)},
			want:  "a|b|c",
		},
		{
			name:  "an unsplit atom above the target gets its own bag",
			atoms: []records.Atom{atom("a", 10), atom("big", 250), atom("b", 10)},
			want:  "a|big|b",
		},
		{
			name:  "empty atoms ride along",
			atoms: []records.Atom{atom("a", 0), atom("b", 100), atom("c", 0), atom("d", 0)},
			want:  "a+b+c+d",
		},
		{
			name:  "order is kept, no first-fit",
			atoms: []records.Atom{atom("a", 90), atom("b", 20), atom("c", 5)},
			want:  "a|b+c",
		},
		{
			name:  "a split atom gets one bag per part",
			atoms: []records.Atom{split("big", []string{"", "/s/big/m", "/s/big/t"}, []int64{100, 90, 40})},
			want:  "big#1/3|big#2/3|big#3/3",
		},
		{
			// Current behaviour: a split atom's bags are emitted at once,
			// while the small atoms around it keep filling the open bag,
			// so they share it (fewer objects) but it comes after the parts.
			name:  "small atoms around a split atom share the open bag",
			atoms: []records.Atom{atom("a", 10), atom("b", 10), split("big", []string{"", "/s/big/m"}, []int64{100, 50}), atom("c", 10), atom("d", 10)},
			want:  "big#1/2|big#2/2|a+b+c+d",
		},
		{
			name:  "the open bag still closes at the target across a split atom",
			atoms: []records.Atom{atom("a", 60), split("big", []string{"", "/s/big/m"}, []int64{100, 50}), atom("c", 60)},
			want:  "big#1/2|big#2/2|a|c",
		},
		{
			name:  "a one-part atom is not split",
			atoms: []records.Atom{atom("a", 10), split("one", []string{""}, []int64{20})},
			want:  "a+one",
		},
		{
			name:      "immutable atoms never share",
			atoms:     []records.Atom{atom("a", 1), atom("b", 1), atom("c", 1)},
			immutable: true,
			want:      "a|b|c",
		},
		{
			name:      "immutable split atom",
			atoms:     []records.Atom{split("t", []string{"", "/s/t/x"}, []int64{100, 1})},
			immutable: true,
			want:      "t#1/2|t#2/2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bags := Pack(tt.atoms, tt.immutable, target)
			if got := shape(bags); got != tt.want {
				t.Errorf("Pack = %q, want %q", got, tt.want)
			}
			checkBags(t, tt.atoms, bags, tt.immutable, target)
		})
	}
}

// checkBags checks the properties every packing keeps.
func checkBags(t *testing.T, atoms []records.Atom, bags [][]records.BagAtom, immutable bool, target int64) {
	t.Helper()
	var order []string
	for i, b := range bags {
		if len(b) == 0 {
			t.Errorf("bag %d is empty", i)
		}
		var sum int64
		for _, ba := range b {
			sum += ba.Bytes
			order = append(order, fmt.Sprintf("%s#%d", ba.Atom, ba.Part))
			if ba.Parts > 0 && len(b) != 1 {
				t.Errorf("bag %d holds a split part and %d other atoms", i, len(b)-1)
			}
		}
		if immutable && len(b) != 1 {
			t.Errorf("immutable bag %d holds %d atoms", i, len(b))
		}
		if len(b) > 1 && sum > target {
			t.Errorf("shared bag %d holds %d bytes, above the target %d", i, sum, target)
		}
	}
	// Every atom (or part) is placed once; the unsplit atoms keep their
	// input order, and so do the parts of each split atom.
	var want []string
	for _, a := range atoms {
		if len(a.Parts) > 1 {
			for i := range a.Parts {
				want = append(want, fmt.Sprintf("%s#%d", a.Key, i+1))
			}
		} else {
			want = append(want, a.Key+"#0")
		}
	}
	if !sameSet(order, want) {
		t.Errorf("atoms placed as %v, want each of %v once", order, want)
	}
	if !slices.Equal(unsplit(order), unsplit(want)) {
		t.Errorf("unsplit atoms placed as %v, want %v", unsplit(order), unsplit(want))
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func unsplit(names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, "#0") {
			out = append(out, n)
		}
	}
	return out
}

func TestPackSplitParts(t *testing.T) {
	a := split("big\xff", []string{"", "/s/big/m", "/s/big/\xfe"}, []int64{100, 90, 40})
	a.KeyB64, a.PathB64 = "L3MvYmln/w==", "L3MvYmln/w=="
	a.Parts[2].FromB64 = "L3MvYmlnL/4="
	a.Parts[2].From = "/s/big/\uFFFD"
	bags := Pack([]records.Atom{a}, false, 100)
	if len(bags) != 3 {
		t.Fatalf("%d bags, want 3", len(bags))
	}
	want := []struct {
		from, fromB64, to, toB64 string
		files, bytes             int64
	}{
		{"", "", "/s/big/m", "", 1, 100},
		{"/s/big/m", "", "/s/big/\uFFFD", "L3MvYmlnL/4=", 2, 90},
		{"/s/big/\uFFFD", "L3MvYmlnL/4=", "", "", 3, 40},
	}
	for i, w := range want {
		ba := bags[i][0]
		if ba.Part != i+1 || ba.Parts != 3 {
			t.Errorf("part %d: Part %d of %d", i, ba.Part, ba.Parts)
		}
		if ba.From != w.from || ba.FromB64 != w.fromB64 || ba.To != w.to || ba.ToB64 != w.toB64 {
			t.Errorf("part %d: from %q/%q to %q/%q, want %q/%q to %q/%q", i, ba.From, ba.FromB64, ba.To, ba.ToB64, w.from, w.fromB64, w.to, w.toB64)
		}
		if ba.Files != w.files || ba.Bytes != w.bytes {
			t.Errorf("part %d: %d files %d bytes, want %d, %d", i, ba.Files, ba.Bytes, w.files, w.bytes)
		}
		// Every part names its atom in full.
		if ba.Atom != a.Key || ba.AtomB64 != a.KeyB64 || ba.Path != a.Path || ba.PathB64 != a.PathB64 || ba.Hash != a.Hash || ba.Type != a.Type {
			t.Errorf("part %d lost atom fields: %+v", i, ba)
		}
	}
	if bags[2][0].To != "" {
		t.Error("the last part has a To")
	}
}

func TestPackCopiesAtomFields(t *testing.T) {
	a := records.Atom{Key: "/s/\uFFFD", KeyB64: "L3Mv/w==", Path: "/s/\uFFFD", PathB64: "L3Mv/w==", Type: "loose", Hash: "abc", Files: 7, Bytes: 70}
	bags := Pack([]records.Atom{a}, false, 100)
	if len(bags) != 1 || len(bags[0]) != 1 {
		t.Fatalf("bags %v", bags)
	}
	want := records.BagAtom{Atom: a.Key, AtomB64: a.KeyB64, Path: a.Path, PathB64: a.PathB64, Type: "loose", Hash: "abc", Files: 7, Bytes: 70}
	if bags[0][0] != want {
		t.Errorf("BagAtom %+v, want %+v", bags[0][0], want)
	}
}

var labelRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func TestLabel(t *testing.T) {
	hashed := regexp.MustCompile(`-[0-9a-f]{6}$`)
	long := "/" + strings.Repeat("abcdefghij/", 10)
	tests := []struct {
		location string
		want     string // exact, or a prefix when hash is set
		hash     bool
	}{
		{"/home/greenc/Books", "home-greenc-Books", false},
		{"/data/photos_2024/raw.v2", "data-photos_2024-raw.v2", false},
		{"/srv/a-b", "srv-a-b", false},
		{"/home/me/My Books", "home-me-My_Books", true},
		{"/home/me/Bücher", "home-me-B__cher", true},
		{"/x/\xff", "x-_", true},
		{"/x/a+b", "x-a_b", true},
		{"/x/a\nb", "x-a_b", true},
		{"/", "root", true},
		{"//", "root", true},
		{long, strings.ReplaceAll(strings.Trim(long, "/"), "/", "-")[:60], true},
		{"/" + strings.Repeat("x", 60), strings.Repeat("x", 60), false},
		{"/" + strings.Repeat("x", 61), strings.Repeat("x", 60), true},
	}
	for _, tt := range tests {
		got := Label(tt.location)
		if !labelRE.MatchString(got) {
			t.Errorf("Label(%q) = %q has characters outside [A-Za-z0-9._-]", tt.location, got)
		}
		if !tt.hash {
			if got != tt.want {
				t.Errorf("Label(%q) = %q, want %q", tt.location, got, tt.want)
			}
			continue
		}
		if !strings.HasPrefix(got, tt.want+"-") || !hashed.MatchString(got) || len(got) != len(tt.want)+7 {
			t.Errorf("Label(%q) = %q, want %q plus a 6-hex hash", tt.location, got, tt.want)
		}
		if len(got) > 67 {
			t.Errorf("Label(%q) is %d bytes long", tt.location, len(got))
		}
	}
	// Stable.
	if Label("/home/me/My Books") != Label("/home/me/My Books") {
		t.Error("Label is not stable")
	}
}

func TestLabelDistinct(t *testing.T) {
	pairs := [][2]string{
		{"/home/me/a b", "/home/me/a+b"},
		{"/home/me/a b", "/home/me/a_b"},
		{"/x/\xff", "/x/\xfe"},
		{"/" + strings.Repeat("x", 70) + "1", "/" + strings.Repeat("x", 70) + "2"},
		{"/", "/root"},
		{"/data/ä", "/data/ö"},
	}
	for _, p := range pairs {
		if a, b := Label(p[0]), Label(p[1]); a == b {
			t.Errorf("Label(%q) = Label(%q) = %q", p[0], p[1], a)
		}
	}
}
