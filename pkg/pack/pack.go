// Package pack is the gb-pack stage: for every bag record it writes the bag
// (tar, zstd) and its manifest into the staging directory, as *.partial
// files renamed into place only when complete, and reports each with a
// packed record.
package pack

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gbarchive/gb/pkg/bag"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/fault"
	"github.com/gbarchive/gb/pkg/fstree"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/keys"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/progress"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/remote"
	"github.com/tidwall/gjson"
	"golang.org/x/sys/unix"
)

// Options configure packing.
type Options struct {
	Settings *config.Settings
	Now      func() time.Time
	Input    string
	// Poll is how often pack looks whether gb-put has drained staging.
	Poll time.Duration
}

// Packed reports a staged bag.
type Packed struct {
	Kind         string `json:"kind"`
	Bag          string `json:"bag"`
	Key          string `json:"key"`
	File         string `json:"file"`
	Bytes        int64  `json:"bytes"`
	SHA256       string `json:"sha256"`
	Compress     string `json:"compress"`
	Files        int64  `json:"files"`
	ContentBytes int64  `json:"content_bytes"`
	Manifest     string `json:"manifest"`
	ManifestKey  string `json:"manifest_key"`
	// ManifestUpload is the file gb-put stores at ManifestKey when it is
	// not Manifest itself: the manifest encrypted like its bag.
	ManifestUpload  string    `json:"manifest_upload,omitempty"`
	Encrypt         bool      `json:"encrypt,omitempty"`
	Keys            string    `json:"keys,omitempty"`
	Warnings        int       `json:"warnings,omitempty"`
	IncompleteAtoms []string  `json:"incomplete_atoms,omitempty"`
	PackedAt        time.Time `json:"packed_at"`
}

type bagAtom struct {
	exactKey, key string
	path          string
	typ           string
	from, to      string
	hash          string
	files, bytes  int64
	part, parts   int
}

type bagIn struct {
	id, key, source, compress string
	encrypt                   bool
	keys                      string
	atoms                     []bagAtom
	bytes                     int64
	excludes                  []string
}

// Run packs every bag record of in.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) error {
	st := opts.Settings
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Poll == 0 {
		opts.Poll = 500 * time.Millisecond
	}
	name := opts.Input
	if name == "" {
		name = "stdin"
	}
	if err := os.MkdirAll(st.StagingDir, 0o700); err != nil {
		return fmt.Errorf("staging dir: %w", err)
	}
	if err := os.MkdirAll(st.ManifestDir, 0o755); err != nil {
		return fmt.Errorf("manifest dir: %w", err)
	}
	// Staging holds this run's bags, and the complete bags an interrupted
	// run left that this run may plan again under the same id: those are
	// reused, not packed again, so gb-put can resume or adopt their upload
	// (an encrypted bag is never the same bytes twice). Anything else an
	// interrupted run left goes.
	leftovers := removeStale(st.StagingDir)
	removeStale(st.ManifestDir)
	staged := map[string]int64{}
	limit := st.StagingLimitBytes()
	if limit > 0 && !isPipe(out) {
		// Only a gb-put reading our output drains staging; waiting for
		// one that is not there would hang forever.
		limit = 0
	}

	// Progress on stderr (a terminal, or progress = always): a bar per bag
	// against its planned bytes, and the run's totals below.
	prog := progress.New(errOut, st.Progress)
	defer prog.Close()
	errOut = prog.Stderr()
	in = prog.Input(in)
	total := prog.Counter("gb-pack", "bags", progress.RateBytes)

	// Bags of remote sources are read through an sshfs mount made when
	// the first such bag comes, and unmounted when gb-pack ends.
	mounter := remote.NewMounter(remote.Options{Base: st.MntBase, SSHCommand: st.SSHCommand})
	defer mounter.Close()

	w := records.NewWriter(out)
	r := records.NewReader(in, name)
	warnings := 0
	var nBags int
	var nBytes, nContent int64
	listFile := ""
	var ks *keys.Keys
	err := r.Each(func(l records.Line) error {
		if l.Kind == records.KindSource {
			listFile = l.Get("list").String()
		}
		if l.Kind != records.KindBag {
			return w.WriteRaw(l.Raw)
		}
		b, err := parseBag(l, name)
		if err != nil {
			return err
		}
		if b.encrypt && ks == nil {
			rf, _ := st.SideFile(st.RecipientsFile, "recipients.txt", listFile)
			kf, _ := st.SideFile(st.KeyFile, "key.txt", listFile)
			k, note, err := keys.Load(rf, kf)
			if err != nil {
				return err
			}
			if note != "" {
				fmt.Fprintf(errOut, "gb-pack: %s\n", note)
			}
			ks = k
		}
		if b.encrypt && b.keys != ks.ID {
			return &records.LineError{Name: name, Line: l.No, Msg: fmt.Sprintf("bag %s was planned for keys %s, but %s gives %s", b.id, b.keys, ks.File, ks.ID),
				Hint: "the keys changed after gb-scan ran; run the scan and plan again"}
		}
		idle := prog.Idle()
		err = waitForRoom(ctx, staged, out, limit, b.bytes, opts.Poll, errOut)
		idle()
		if err != nil {
			return err
		}
		raw := append([]byte(nil), l.Raw...)
		p := reuse(leftovers, raw, filepath.Join(st.StagingDir, bag.StagedName(b.key)), errOut)
		if p == nil {
			job := total.Bar(b.id, b.bytes)
			p, err = packBag(ctx, b, st, ks, opts.Now, w, errOut, job, mounter)
			var re *remote.Error
			if errors.As(err, &re) {
				// The host went away since gb-scan: this bag is left
				// out, its atoms keep their last backup, and the next
				// run packs them again.
				job.Fail()
				warnings++
				fmt.Fprintf(errOut, "gb-pack: warning: bag %s not packed: %v\n", b.id, err)
				if re.Hint != "" {
					fmt.Fprintf(errOut, "gb-pack: hint: %s\n", re.Hint)
				}
				if err := w.Write(records.NewWarning("pack", b.source, fmt.Errorf("bag %s not packed: %w", b.id, err))); err != nil {
					return err
				}
				return w.WriteRaw(raw)
			}
			if err != nil {
				job.Fail()
				return fmt.Errorf("bag %s: %w", b.id, err)
			}
			job.Done()
			if err := writeSidecar(p, raw); err != nil {
				return fmt.Errorf("bag %s: %w", b.id, err)
			}
		}
		warnings += p.Warnings
		staged[p.File] = p.Bytes
		total.AddItems(1)
		nBags++
		nBytes += p.Bytes
		nContent += p.ContentBytes
		if err := w.WriteRaw(raw); err != nil {
			return err
		}
		return w.Write(p)
	})
	if err != nil {
		return err
	}
	if err := w.Err(); err != nil {
		return err
	}
	// Left by an interrupted run and not planned again: nothing will
	// upload them, and their manifests would mislead.
	for _, lo := range leftovers {
		lo.remove()
	}
	total.Done()
	prog.Close()
	fmt.Fprintf(errOut, "gb-pack: %d bags packed, %s from %s of files\n", nBags, cost.Bytes(nBytes), cost.Bytes(nContent))
	if warnings > 0 {
		return fmt.Errorf("%d entries were skipped or changed while packed: %w", warnings, records.ErrWarnings)
	}
	return nil
}

// sidecarSuffix names the file beside a staged bag that says which plan
// it was packed for and what gb-pack reported, so a later run can reuse it.
const sidecarSuffix = layout.SidecarExt

type sidecar struct {
	Plan   string `json:"plan"` // SHA-256 of the bag record's line
	Packed Packed `json:"packed"`
}

type leftover struct {
	path string // the staged bag
	sc   sidecar
}

func (lo leftover) remove() {
	for _, f := range []string{lo.path, lo.path + sidecarSuffix, lo.sc.Packed.ManifestUpload, lo.sc.Packed.Manifest} {
		if f != "" {
			os.Remove(f)
		}
	}
}

func planSum(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

// writeSidecar records a freshly staged bag for reuse. A lost or torn
// sidecar only costs a re-pack, so it is not fsynced.
func writeSidecar(p *Packed, raw []byte) error {
	b, err := json.Marshal(sidecar{Plan: planSum(raw), Packed: *p})
	if err != nil {
		return err
	}
	tmp := layout.Partial(p.File + sidecarSuffix)
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p.File+sidecarSuffix)
}

// reuse returns the packed record of the staged bag at path when an
// interrupted run left it complete for exactly this bag record, after
// checking its bytes against the SHA-256 it was packed with (staged bags
// are not fsynced, so a power cut may have torn one).
func reuse(leftovers map[string]leftover, raw []byte, path string, errOut io.Writer) *Packed {
	lo, ok := leftovers[path]
	if !ok {
		return nil
	}
	delete(leftovers, path)
	p := lo.sc.Packed
	ok = lo.sc.Plan == planSum(raw) && p.File == path && exists(p.Manifest) && (p.ManifestUpload == "" || exists(p.ManifestUpload))
	if ok {
		size, sum, err := fileSHA256(path)
		ok = err == nil && size == p.Bytes && sum == p.SHA256
	}
	if !ok {
		// Packed again below under the same names; only the sidecar and
		// the encrypted manifest copy would be left over.
		os.Remove(path + sidecarSuffix)
		if p.ManifestUpload != "" {
			os.Remove(p.ManifestUpload)
		}
		return nil
	}
	fmt.Fprintf(errOut, "gb-pack: bag %s: using the bag an interrupted run staged for the same plan (%s, checksum verified)\n", p.Bag, filepath.Base(path))
	return &p
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func fileSHA256(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, make([]byte, 1<<20))
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// removeStale clears what an interrupted run left in dir: partial files
// always; in staging, every staged bag and encrypted manifest except the
// complete bags that have a sidecar (returned by path, for reuse), and
// sidecars whose bag is gone. Upload journals stay: gb-put resumes an
// upload of the same bytes.
func removeStale(dir string) map[string]leftover {
	leftovers := map[string]leftover{}
	ents, _ := os.ReadDir(dir)
	keep := map[string]bool{}
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, sidecarSuffix) {
			continue
		}
		scPath := filepath.Join(dir, n)
		bagPath := strings.TrimSuffix(scPath, sidecarSuffix)
		var sc sidecar
		b, err := os.ReadFile(scPath)
		if err != nil || json.Unmarshal(b, &sc) != nil || !exists(bagPath) {
			os.Remove(scPath)
			continue
		}
		leftovers[bagPath] = leftover{path: bagPath, sc: sc}
		keep[bagPath], keep[scPath] = true, true
		if sc.Packed.ManifestUpload != "" {
			keep[sc.Packed.ManifestUpload] = true
		}
	}
	for _, e := range ents {
		n := e.Name()
		p := filepath.Join(dir, n)
		if layout.IsJournal(n) || keep[p] {
			continue
		}
		if layout.IsPartial(n) || (e.Type().IsRegular() && layout.IsStaged(n)) {
			os.Remove(p)
		}
	}
	return leftovers
}

// stagedBytes is the size of this run's bags still waiting for gb-put,
// which removes each once it is stored.
func stagedBytes(staged map[string]int64) int64 {
	var n int64
	for p, size := range staged {
		if _, err := os.Stat(p); err != nil {
			delete(staged, p)
			continue
		}
		n += size
	}
	return n
}

// waitForRoom holds packing while staged bags exceed the bound, so a slow
// uplink never fills the disk. An empty staging area always has room, so
// a bag larger than the bound still gets packed. If the stage reading our
// output has gone, nobody will drain staging: stop instead of waiting
// forever.
func waitForRoom(ctx context.Context, staged map[string]int64, out io.Writer, limit, next int64, poll time.Duration, errOut io.Writer) error {
	if limit <= 0 {
		return nil
	}
	said := false
	for {
		n := stagedBytes(staged)
		if n == 0 || n+next <= limit {
			return nil
		}
		if readerGone(out) {
			return fmt.Errorf("waiting for staged bags to be uploaded, but the next stage has exited")
		}
		if !said {
			fmt.Fprintf(errOut, "gb-pack: waiting for gb-put: %.2f GB staged, limit %.2f GB\n", float64(n)/1e9, float64(limit)/1e9)
			said = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

func parseBag(l records.Line, name string) (bagIn, error) {
	b := bagIn{id: l.Get("id").String(), key: l.Get("key").String(), source: l.Get("source").String(), compress: l.Get("compress").String(), bytes: l.Get("bytes").Int()}
	if _, err := inventory.ParseBagID(b.id); err != nil {
		return b, l.Errorf(name, "%v", err)
	}
	if b.key == "" || strings.HasPrefix(b.key, "/") || strings.Contains(b.key, "..") {
		return b, l.Errorf(name, "bag %s has a bad key %q", b.id, b.key)
	}
	if _, isRemote, err := remote.Parse(b.source); err != nil || (!isRemote && !filepath.IsAbs(b.source)) {
		return b, l.Errorf(name, "bag %s: source %q is not an absolute path or a remote location (host:/path)", b.id, b.source)
	}
	b.encrypt, b.keys = l.Get("encrypt").Bool(), l.Get("keys").String()
	if b.encrypt != layout.IsSealed(b.key) {
		// A plain bag named .age, or an encrypted one without the
		// suffix, would mislead whoever opens the bucket in twenty years.
		return b, l.Errorf(name, "bag %s: key %q does not match encrypt=%v (encrypted bags, and only they, end in .age)", b.id, b.key, b.encrypt)
	}
	if b.encrypt && b.keys == "" {
		return b, l.Errorf(name, "bag %s asks for encryption but names no keys; refusing to write it", b.id)
	}
	if b.compress == "" {
		b.compress = bag.Zstd
	}
	if b.compress != bag.Zstd && b.compress != bag.None {
		return b, l.Errorf(name, "bag %s: unknown compress %q", b.id, b.compress)
	}
	for _, x := range l.Get("excludes").Array() {
		b.excludes = append(b.excludes, x.String())
	}
	var perr error
	l.Get("atoms").ForEach(func(_, a gjson.Result) bool {
		var ba bagAtom
		var err error
		if ba.exactKey, err = records.ResultPath(a, "atom"); err == nil {
			if ba.path, err = records.ResultPath(a, "path"); err == nil {
				if ba.from, err = records.ResultPath(a, "from"); err == nil {
					ba.to, err = records.ResultPath(a, "to")
				}
			}
		}
		if err != nil {
			perr = err
			return false
		}
		ba.key = a.Get("atom").String()
		ba.typ = a.Get("type").String()
		ba.hash, ba.files, ba.bytes = a.Get("hash").String(), a.Get("files").Int(), a.Get("bytes").Int()
		ba.part, ba.parts = int(a.Get("part").Int()), int(a.Get("parts").Int())
		if ba.typ != fstree.Dir && ba.typ != fstree.Loose && ba.typ != fstree.Tree {
			perr = fmt.Errorf("atom %s has unknown type %q", ba.key, ba.typ)
			return false
		}
		if ba.path != b.source && !strings.HasPrefix(ba.path, b.source+"/") {
			perr = fmt.Errorf("atom %s is not inside source %s", ba.key, b.source)
			return false
		}
		b.atoms = append(b.atoms, ba)
		return true
	})
	if perr != nil {
		return b, l.Errorf(name, "bag %s: %v", b.id, perr)
	}
	if len(b.atoms) == 0 {
		return b, l.Errorf(name, "bag %s has no atoms", b.id)
	}
	return b, nil
}

var errStop = errors.New("stop")

// walkPart walks what of atom a this bag holds, in canonical order: the
// whole atom, or for a part of a split atom the entries from a.from up to
// a.to and the directories leading to them. root and atomPath are the
// source and the atom as read here, name turns a path read here into its record path (a.from and a.to
// are record paths). visit sees read errors with a nil info.
func walkPart(root, atomPath string, a bagAtom, ex *config.Excluder, name func(string) string, visit fstree.VisitFunc) error {
	err := fstree.WalkAtom(root, a.typ, atomPath, ex, func(path string, info fs.FileInfo, err error) error {
		if err != nil {
			return visit(path, nil, err)
		}
		rp := name(path)
		if a.from != "" && fstree.Compare(rp, a.from) < 0 {
			// Before this part: only the directories leading to its
			// first entry matter.
			if info.IsDir() && strings.HasPrefix(a.from, rp+"/") {
				return visit(path, info, nil)
			}
			if info.IsDir() {
				return fstree.ErrSkipDir
			}
			return nil
		}
		if a.to != "" && fstree.Compare(rp, a.to) >= 0 {
			return errStop
		}
		return visit(path, info, nil)
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

func packBag(ctx context.Context, b bagIn, st *config.Settings, ks *keys.Keys, now func() time.Time, w *records.Writer, errOut io.Writer, job *progress.Job, mounter *remote.Mounter) (*Packed, error) {
	ex := &config.Excluder{}
	for _, p := range b.excludes {
		if err := ex.Add(p); err != nil {
			return nil, err
		}
	}
	// Records name files as list.txt does; a remote source's are read
	// under its mount point (local) and named host:/path (name).
	local := func(p string) string { return p }
	name := local
	if remote.IsRemote(b.source) {
		m, err := mounter.Mount(ctx, b.source)
		if err != nil {
			return nil, err
		}
		local, name = m.Local, m.Remote
	}
	staged := filepath.Join(st.StagingDir, bag.StagedName(b.key))
	manPath := filepath.Join(st.ManifestDir, manifest.FileName(b.key))
	bf, err := createStaged(layout.Partial(staged))
	if err != nil {
		return nil, err
	}
	mf, err := os.OpenFile(layout.Partial(manPath), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		bf.Close()
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			bf.Close()
			mf.Close()
			os.Remove(layout.Partial(staged))
			os.Remove(layout.Partial(manPath))
		}
	}()
	var encrypt func(io.Writer) (io.WriteCloser, error)
	hdr := manifest.Header{Kind: manifest.KindHeader, Bag: b.id, Key: b.key, Source: b.source,
		Layers: bag.Layers(b.compress, b.encrypt), Open: bag.OpenCommand(b.compress, bag.StagedName(b.key), "")}
	for _, a := range b.atoms {
		ha := manifest.Atom{Atom: a.key, Type: a.typ, Hash: a.hash, Files: a.files, Bytes: a.bytes, Part: a.part, Parts: a.parts}
		if _, b64 := records.EncodePath(a.exactKey); b64 != "" {
			ha.AtomB64 = b64
		}
		hdr.Atoms = append(hdr.Atoms, ha)
	}
	if b.encrypt {
		encrypt = ks.Encrypt
		hdr.Open = bag.OpenCommand(b.compress, bag.StagedName(b.key), ks.DecryptCommand(bag.StagedName(b.key)))
		hdr.Encryption = &manifest.Encryption{Scheme: ks.Scheme, Recipients: ks.Recipients, Keys: ks.ID}
	}
	bw, err := bag.NewEncryptedWriter(bf, b.compress, encrypt)
	if err != nil {
		return nil, err
	}
	if job != nil {
		bw.Progress = job.AddBytes
	}
	man := bufio.NewWriterSize(mf, 1<<20)
	menc := json.NewEncoder(man)
	var line []byte // a manifest line, reused
	menc.SetEscapeHTML(false)
	start := now().UTC()
	hdr.CreatedAt = start
	if err := menc.Encode(hdr); err != nil {
		return nil, err
	}
	p := &Packed{Kind: records.KindPacked, Bag: b.id, Key: b.key, File: staged, Compress: b.compress, Manifest: manPath, ManifestKey: manifest.Key(b.key), PackedAt: start,
		Encrypt: b.encrypt, Keys: b.keys}
	// Walks of different atoms never meet, so only the ancestors archived
	// for each atom can repeat: remembering those (not every path) keeps
	// memory independent of the number of files in a bag.
	ancestorsDone := map[string]bool{}
	incomplete := map[string]bool{}
	add := func(a bagAtom, path string, info fs.FileInfo) error {
		fault.Point("pack.entry")
		e, skipped, warn, err := bw.AddAs(path, name(path), info)
		if err != nil {
			return err
		}
		if warn != nil {
			p.Warnings++
			d, _ := records.EncodePath(name(path))
			fmt.Fprintf(errOut, "gb-pack: warning: %s: %v\n", d, warn)
			if werr := w.Write(records.NewWarning("pack", name(path), warn)); werr != nil {
				return werr
			}
			if (skipped && !errors.Is(warn, bag.ErrNotArchived)) || e.Changed {
				incomplete[a.exactKey] = true
			}
		}
		if skipped {
			return nil
		}
		if !info.IsDir() {
			job.AddFiles(1) // as gb-scan counts them
		}
		e.Atom, e.AtomB64 = a.key, ""
		if _, b64 := records.EncodePath(a.exactKey); b64 != "" {
			e.AtomB64 = b64
		}
		line = e.AppendJSON(line[:0])
		_, err = man.Write(line)
		return err
	}
	// Ancestors are archived (without their contents) in every bag that
	// holds something below them, so each bag restores their modes and
	// mtimes even when extracted alone or last.
	ancestor := func(a bagAtom, dir string) error {
		if ancestorsDone[dir] {
			return nil
		}
		ancestorsDone[dir] = true
		info, err := os.Lstat(dir)
		if err != nil {
			return nil
		}
		return add(a, dir, info)
	}
	// A remote source costs a round trip per file; reading the next
	// files in parallel ahead of the packing walk hides most of them.
	ra := startReadAhead(ctx, remote.IsRemote(b.source), func(visit fstree.VisitFunc) error {
		for _, a := range b.atoms {
			if err := walkPart(local(b.source), local(a.path), a, ex, name, visit); err != nil {
				return err
			}
		}
		return nil
	})
	defer ra.stop()
	for _, a := range b.atoms {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if a.typ != fstree.Tree {
			if err := ancestor(a, local(b.source)); err != nil {
				return nil, err
			}
		}
		werr := walkPart(local(b.source), local(a.path), a, ex, name, func(path string, info fs.FileInfo, err error) error {
			if err != nil {
				rp := name(path)
				p.Warnings++
				incomplete[a.exactKey] = true
				d, _ := records.EncodePath(rp)
				fmt.Fprintf(errOut, "gb-pack: warning: %s: %v\n", d, err)
				return w.Write(records.NewWarning("pack", rp, err))
			}
			if info.Mode().IsRegular() {
				ra.consumed()
			}
			return add(a, path, info)
		})
		if werr != nil {
			return nil, werr
		}
	}
	size, sum, err := bw.Close()
	if err != nil {
		return nil, err
	}
	if err := bf.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", bf.Name(), err)
	}
	if err := menc.Encode(manifest.End{Kind: manifest.KindEnd, Files: bw.Files(), Bytes: bw.Bytes(), BagSHA: sum, BagLen: size}); err != nil {
		return nil, err
	}
	if err := man.Flush(); err != nil {
		return nil, err
	}
	// The manifest outlives the run (gb-find reads it), so it is made
	// durable before it appears. The staged bag is not: the store checks
	// its SHA-256 on upload, and the next gb-pack clears staging, so a bag
	// torn by a crash can never be stored; skipping its fsync saves
	// waiting for gigabytes of writeback on every bag.
	if err := mf.Sync(); err != nil {
		return nil, fmt.Errorf("sync %s: %w", mf.Name(), err)
	}
	if err := mf.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(layout.Partial(manPath), manPath); err != nil {
		return nil, err
	}
	if b.encrypt {
		// The store gets the manifest encrypted like its bag: file names
		// are content too. The local copy stays plain for grep and jq.
		up := filepath.Join(st.StagingDir, layout.StagedManifest(b.key))
		if err := encryptFile(manPath, up, ks); err != nil {
			return nil, fmt.Errorf("encrypt manifest: %w", err)
		}
		p.ManifestUpload, p.ManifestKey = up, layout.Seal(p.ManifestKey)
	}
	if err := os.Rename(layout.Partial(staged), staged); err != nil {
		return nil, err
	}
	ok = true
	if err := inventory.SyncDir(st.StagingDir); err != nil {
		return nil, err
	}
	if err := inventory.SyncDir(st.ManifestDir); err != nil {
		return nil, err
	}
	p.Bytes, p.SHA256, p.Files, p.ContentBytes = size, sum, bw.Files(), bw.Bytes()
	for _, a := range b.atoms {
		if incomplete[a.exactKey] {
			p.IncompleteAtoms = append(p.IncompleteAtoms, inventory.KeyOf(a.exactKey))
		}
	}
	return p, nil
}

// encryptFile writes src encrypted to dst, as dst.partial renamed when
// complete.
func encryptFile(src, dst string, ks *keys.Keys) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(layout.Partial(dst), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(layout.Partial(dst))
	bw := bufio.NewWriterSize(out, 1<<20)
	ew, err := ks.Encrypt(bw)
	if err == nil {
		_, err = io.Copy(ew, in)
	}
	if err == nil {
		err = ew.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(layout.Partial(dst), dst)
}

// readerGone reports whether out is a pipe whose reading end is closed.
func readerGone(out io.Writer) bool {
	f, ok := out.(*os.File)
	if !ok {
		return false
	}
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLOUT}}
	if _, err := unix.Poll(fds, 0); err != nil {
		return false
	}
	return fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0
}

func isPipe(out io.Writer) bool {
	f, ok := out.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeNamedPipe != 0
}
