package restore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/remote"
	"github.com/gbarchive/gb/pkg/store"
)

// Plan works out which bags hold what is wanted, writes the state file
// and a restore_plan record, and says on stderr what each tier costs and
// takes. It reads match records from in unless opts names atoms, sources
// or bags; other records pass through to out.
func Plan(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) error {
	st := opts.Settings
	path := opts.stateFile()
	days := opts.Days
	if days == 0 {
		days = DefaultDays
	}
	if days < 1 {
		return &config.Error{Msg: fmt.Sprintf("--days %d: a restored copy is kept 1 day or more", opts.Days)}
	}
	unlock, err := lockState(path)
	if err != nil {
		return err
	}
	defer unlock()
	inv, err := inventory.Load(st.InventoryFile)
	if err != nil {
		return err
	}
	w := records.NewWriter(out)
	p := &planner{st: st, inv: inv, bags: map[string]*Bag{}}
	from, err := p.collect(in, w, opts)
	if err != nil {
		return err
	}
	// A plan made again keeps what was requested for bags it still holds
	// (same key and checksum), so request does not spend twice; what was
	// extracted is forgotten, so fetch restores everything again.
	old, _ := LoadState(path)
	s := &State{Version: StateVersion, PlannedAt: opts.Now.UTC(), Inventory: st.InventoryFile, Days: days}
	s.Dest, _ = st.DestURL()
	s.Bags = p.planned(old)
	rec, costs := planRecord(s.Bags, st.Prices(), path, strings.Join(from, ","), days)
	if err := s.Save(path); err != nil {
		return err
	}
	if err := w.Write(rec); err != nil {
		return err
	}
	sayPlan(errOut, rec, costs, path)
	return nil
}

// collect adds to the plan what opts names, or else what the match
// records on in name, and says where the plan came from (restore_plan's
// "from").
func (p *planner) collect(in io.Reader, w *records.Writer, opts Options) ([]string, error) {
	var from []string
	if len(opts.Atoms)+len(opts.Sources)+len(opts.Bags) == 0 {
		if opts.StdinTerminal {
			return nil, &config.Error{Msg: "nothing to restore: no --atom, --source or --bag, and stdin is a terminal",
				Hint: "pipe gb-find's match records in (gb-find NAME | gb-restore plan), or name what to restore with --source DIR, --atom DIR or --bag ID"}
		}
		from = append(from, "match")
		if err := p.matches(in, w); err != nil {
			return nil, err
		}
		if len(p.bags) == 0 {
			return nil, &config.Error{Msg: "nothing to restore: stdin held no match records",
				Hint: "check what gb-find finds first (gb-find --format text NAME), or name what to restore with --source, --atom or --bag"}
		}
	}
	for _, a := range opts.Atoms {
		if err := p.atom(a); err != nil {
			return nil, err
		}
	}
	for _, s := range opts.Sources {
		if err := p.source(s); err != nil {
			return nil, err
		}
	}
	for _, id := range opts.Bags {
		b, err := p.bag(id, "", "", "--bag "+id)
		if err != nil {
			return nil, err
		}
		b.All = true
	}
	for _, f := range []struct {
		name string
		n    int
	}{{"atom", len(opts.Atoms)}, {"source", len(opts.Sources)}, {"bag", len(opts.Bags)}} {
		if f.n > 0 {
			from = append(from, f.name)
		}
	}
	return from, nil
}

// planned is the plan's bags in id order, each with its paths and atoms
// sorted, keeping what the old plan (if any) requested for it.
func (p *planner) planned(old *State) []*Bag {
	prev := map[string]*Bag{}
	if old != nil {
		for _, b := range old.Bags {
			prev[b.Bag] = b
		}
	}
	var bags []*Bag
	for _, b := range p.bags {
		if b.All {
			b.Atoms, b.Paths = nil, nil
		}
		sortPaths(b.Atoms)
		sortPaths(b.Paths)
		if o := prev[b.Bag]; o != nil && o.Key == b.Key && o.SHA256 == b.SHA256 {
			b.RequestedAt, b.Tier, b.Days = o.RequestedAt, o.Tier, o.Days
		}
		bags = append(bags, b)
	}
	sort.Slice(bags, func(i, j int) bool { return bags[i].Bag < bags[j].Bag })
	return bags
}

// planRecord sums up the planned bags and prices them at each tier, Bulk
// then Standard.
func planRecord(bags []*Bag, prices cost.Prices, path, from string, days int) (records.RestorePlan, []TierCost) {
	rec := records.RestorePlan{Kind: records.KindRestorePlan, State: path, From: from, Days: days}
	for _, b := range bags {
		rec.Bags++
		rec.Bytes += b.Bytes
		if b.Encrypted {
			rec.BagsEncrypted++
		}
		rec.Paths += len(b.Paths)
		rec.Atoms += len(b.Atoms)
		rec.BagList = append(rec.BagList, records.RestorePlanBag{Bag: b.Bag, Key: b.Key, Bytes: b.Bytes, Encrypted: b.Encrypted, All: b.All, Atoms: len(b.Atoms), Paths: len(b.Paths)})
	}
	var costs []TierCost
	for _, tier := range []string{store.TierBulk, store.TierStandard} {
		c := Cost(prices, tier, rec.Bytes, rec.Bags, days)
		costs = append(costs, c)
		rec.Costs = append(rec.Costs, c.RestoreCost)
	}
	return rec, costs
}

// sayPlan tells a person what the plan holds, what each tier costs and
// what to run next.
func sayPlan(errOut io.Writer, rec records.RestorePlan, costs []TierCost, path string) {
	what := "whole bags"
	switch {
	case rec.Paths > 0 && rec.Atoms > 0:
		what = fmt.Sprintf("%s and %s", plural(int64(rec.Paths), "path", "paths"), plural(int64(rec.Atoms), "atom", "atoms"))
	case rec.Paths > 0:
		what = plural(int64(rec.Paths), "path", "paths")
	case rec.Atoms > 0:
		what = plural(int64(rec.Atoms), "atom", "atoms")
	}
	enc := ""
	if rec.BagsEncrypted > 0 {
		enc = fmt.Sprintf(", %d encrypted (fetch needs --identity)", rec.BagsEncrypted)
	}
	for _, c := range costs {
		fmt.Fprintf(errOut, "gb-restore:   %-9s %s; ready within %.0f h\n", c.Tier+":", c.Describe(), c.Hours)
	}
	fmt.Fprintf(errOut, "gb-restore: next: gb-restore request --yes (Bulk; --tier Standard for the faster one), then gb-restore status until ready, then gb-restore fetch --target DIR\n")
	fmt.Fprintf(errOut, "gb-restore: planned %s (%s%s) holding %s; Bulk %s, Standard %s; nothing requested yet (state in %s)\n",
		plural(int64(rec.Bags), "bag", "bags"), cost.Bytes(rec.Bytes), enc, what, cost.USD(costs[0].total), cost.USD(costs[1].total), path)
}

func sortPaths(ps []Path) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Exact() < ps[j].Exact() })
}

type planner struct {
	st   *config.Settings
	inv  *inventory.Inventory
	bags map[string]*Bag
	// seen paths per bag, so a path matched twice is listed once
	seenPath map[string]bool
	seenAtom map[string]bool
}

// matches reads gb-find's match records: path (path_b64), bag and key are
// what a restore needs from them. Other records pass through.
func (p *planner) matches(in io.Reader, w *records.Writer) error {
	r := records.NewReader(in, "stdin")
	return r.Each(func(l records.Line) error {
		if l.Kind != records.KindMatch {
			return w.WriteRaw(l.Raw)
		}
		m, err := records.Decode[records.Match](l)
		if err != nil {
			return err
		}
		path, err := records.DecodePath(m.Path, m.PathB64)
		if _, isRemote, rerr := remote.Parse(path); err != nil || rerr != nil || (!isRemote && !strings.HasPrefix(path, "/")) {
			return l.Errorf("stdin", "match record without an absolute path (or host:/path of a remote source)")
		}
		if m.Bag == "" || m.Key == "" {
			return l.Errorf("stdin", "match record without bag and key")
		}
		b, err := p.bag(m.Bag, m.Key, m.Manifest, fmt.Sprintf("stdin:%d", l.No))
		if err != nil {
			return err
		}
		p.addPath(b, path)
		return nil
	})
}

func (p *planner) addPath(b *Bag, path string) {
	if p.seenPath == nil {
		p.seenPath = map[string]bool{}
	}
	if k := b.Bag + "\x00" + path; !p.seenPath[k] {
		p.seenPath[k] = true
		b.Paths = append(b.Paths, newPath(path, false))
	}
}

func (p *planner) atom(a string) error {
	key := a
	at := p.inv.Atoms[inventory.KeyOf(key)]
	if at == nil {
		// "/src/docs/" names the loose-files atom; "/src/docs/x/" is a
		// typo for "/src/docs/x".
		if c := filepath.Clean(a); c != a {
			if at = p.inv.Atoms[inventory.KeyOf(c)]; at != nil {
				key = c
			}
		}
	}
	if at == nil {
		return &config.Error{Msg: fmt.Sprintf("--atom %s: the inventory (%s) has no such atom", a, p.st.InventoryFile),
			Hint: "atoms are the top-level directories of a ::MUTABLE source (and SOURCE/ for its loose files) or a whole ::IMMUTABLE source: jq -r '.atoms|keys[]' " + p.st.InventoryFile}
	}
	if len(at.Bags) == 0 {
		return &config.Error{Msg: fmt.Sprintf("--atom %s: the inventory lists no bag for it (not uploaded yet?)", a)}
	}
	for _, id := range at.Bags {
		b, err := p.bag(id, "", "", "--atom "+a)
		if err != nil {
			return err
		}
		if p.seenAtom == nil {
			p.seenAtom = map[string]bool{}
		}
		if k := id + "\x00" + key; !p.seenAtom[k] {
			p.seenAtom[k] = true
			b.Atoms = append(b.Atoms, newPath(key, false))
		}
	}
	return nil
}

func (p *planner) source(src string) error {
	c := filepath.Clean(src)
	n := 0
	for _, at := range p.inv.Atoms {
		if at.Source != c {
			continue
		}
		for _, id := range at.Bags {
			b, err := p.bag(id, "", "", "--source "+src)
			if err != nil {
				return err
			}
			b.All = true
			n++
		}
	}
	if n == 0 {
		return &config.Error{Msg: fmt.Sprintf("--source %s: the inventory (%s) has no atom of that source", src, p.st.InventoryFile),
			Hint: "sources are the list.txt paths: jq -r '.sources|keys[]' " + p.st.InventoryFile}
	}
	return nil
}

// bag adds a bag to the plan, described by the inventory or, for a bag
// the inventory does not list (gb-find --all), by its manifest's header
// and end line.
func (p *planner) bag(id, key, manifestPath, where string) (*Bag, error) {
	if b := p.bags[id]; b != nil {
		if key != "" && key != b.Key {
			return nil, &config.Error{Msg: fmt.Sprintf("%s: bag %s has key %q here and %q before", where, id, key, b.Key)}
		}
		return b, nil
	}
	if ib := p.inv.Bags[id]; ib != nil {
		if key != "" && key != ib.Key {
			return nil, &config.Error{Msg: fmt.Sprintf("%s: bag %s has key %q, but the inventory says %q", where, id, key, ib.Key),
				Hint: "the match records come from another archive or an older inventory; run gb-find again"}
		}
		if ib.SHA256 == "" {
			return nil, &config.Error{Msg: fmt.Sprintf("%s: bag %s has no checksum in %s (a dry-run inventory?)", where, id, p.st.InventoryFile)}
		}
		_, age, err := layout.BagLayers(ib.Key)
		if err != nil {
			return nil, err
		}
		b := &Bag{Bag: id, Key: ib.Key, Bytes: ib.Bytes, SHA256: ib.SHA256, Compress: ib.Compress, Encrypted: ib.Encrypt || age, ManifestKey: ib.ManifestKey}
		p.bags[id] = b
		return b, nil
	}
	if key == "" {
		return nil, &config.Error{Msg: fmt.Sprintf("%s: the inventory (%s) has no bag %s", where, p.st.InventoryFile, id),
			Hint: "bag ids are the inventory's: jq -r '.bags|keys[]' " + p.st.InventoryFile}
	}
	if manifestPath == "" {
		manifestPath = filepath.Join(p.st.ManifestDir, manifest.FileName(key))
	}
	hdr, end, err := manifestEnds(manifestPath)
	if err != nil || hdr.Key != key || end.BagSHA == "" {
		return nil, &config.Error{Msg: fmt.Sprintf("%s: bag %s is not in the inventory, and its manifest %s does not give its checksum (%v)", where, id, manifestPath, err),
			Hint: "restore from bags the inventory lists (gb-find without --all), or rebuild the inventory with gb-recover --rebuild"}
	}
	zstd, age, err := layout.BagLayers(key)
	if err != nil {
		return nil, err
	}
	comp := "none"
	if zstd {
		comp = "zstd"
	}
	b := &Bag{Bag: id, Key: key, Bytes: end.BagLen, SHA256: end.BagSHA, Compress: comp, Encrypted: age, ManifestKey: manifest.Key(key)}
	if age {
		b.ManifestKey = layout.Seal(b.ManifestKey)
	}
	p.bags[id] = b
	return b, nil
}

// manifestEnds reads a manifest's header (first line) and end (last
// line) without reading what is between.
func manifestEnds(path string) (manifest.Header, manifest.End, error) {
	var hdr manifest.Header
	var end manifest.End
	f, err := os.Open(path)
	if err != nil {
		return hdr, end, err
	}
	defer f.Close()
	first, err := bufio.NewReaderSize(f, 1<<16).ReadBytes('\n')
	if err != nil && err != io.EOF {
		return hdr, end, err
	}
	if err := json.Unmarshal(first, &hdr); err != nil || hdr.Kind != manifest.KindHeader {
		return hdr, end, fmt.Errorf("%s: no manifest header", path)
	}
	fi, err := f.Stat()
	if err != nil {
		return hdr, end, err
	}
	off := max(fi.Size()-(64<<10), 0)
	tail := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(tail, off); err != nil && err != io.EOF {
		return hdr, end, err
	}
	tail = bytes.TrimRight(tail, "\r\n")
	last := tail[bytes.LastIndexByte(tail, '\n')+1:]
	if err := json.Unmarshal(last, &end); err != nil || end.Kind != manifest.KindEnd {
		return hdr, end, fmt.Errorf("%s: no manifest_end line (incomplete)", path)
	}
	return hdr, end, nil
}
