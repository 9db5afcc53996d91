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
	"github.com/gbarchive/gb/pkg/fstree"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/keys"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/progress"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/remote"
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

// packer is one gb-pack run: what it read so far, and where it writes.
type packer struct {
	ctx     context.Context
	st      *config.Settings
	opts    Options
	name    string    // the input, for errors
	out     io.Writer // the pipe to gb-put, watched while staging is full
	errOut  io.Writer
	w       *records.Writer
	prog    *progress.Reporter
	total   *progress.Job
	mounter *remote.Mounter

	leftovers map[string]leftover // complete bags an interrupted run staged, by path
	staged    map[string]int64    // this run's staged bags and their sizes
	limit     int64               // staging bound; 0: none
	listFile  string              // from the source records: where key.txt is looked for
	ks        *keys.Keys          // loaded with the first encrypted bag
	sum       records.PackSummary // what was staged
	upstream  *records.Upstream   // gb-plan's summary
}

// Run packs every bag record of in.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) (err error) {
	st := opts.Settings
	p := &packer{ctx: ctx, st: st, out: out, staged: map[string]int64{},
		sum: records.PackSummary{Kind: records.KindPack}, upstream: records.NewUpstream("gb-plan", records.KindPlan)}
	// On failure too the summary ends the output, with what was packed.
	written := false
	defer func() { err = records.Finish(out, err, written, &p.sum) }()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Poll == 0 {
		opts.Poll = 500 * time.Millisecond
	}
	p.opts = opts
	p.name = opts.Input
	if p.name == "" {
		p.name = "stdin"
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
	p.leftovers = removeStale(st.StagingDir)
	removeStale(st.ManifestDir)
	p.limit = st.StagingLimitBytes()
	if p.limit > 0 && !isPipe(out) {
		// Only a gb-put reading our output drains staging; waiting for
		// one that is not there would hang forever.
		p.limit = 0
	}

	// Progress on stderr (a terminal, or progress = always): a bar per bag
	// against its planned bytes, and the run's totals below.
	p.prog = progress.New(errOut, st.Progress)
	defer p.prog.Close()
	p.errOut = p.prog.Stderr()
	in = p.prog.Input(in)
	p.total = p.prog.Counter("gb-pack", "bags", progress.RateBytes)

	// Bags of remote sources are read through an sshfs mount made when
	// the first such bag comes, and unmounted when gb-pack ends.
	p.mounter = remote.NewMounter(remote.Options{Base: st.MntBase, SSHCommand: st.SSHCommand})
	defer p.mounter.Close()

	p.w = records.NewWriter(out)
	if err := records.NewReader(in, p.name).Each(p.record); err != nil {
		return err
	}
	if err := p.w.Err(); err != nil {
		return err
	}
	// Without the plan's summary, leftovers may be what the plan was
	// still to hand out: they stay for the next run.
	if err := p.upstream.Err(packedSoFar(p.sum.Bags)); err != nil {
		return err
	}
	// Left by an interrupted run and not planned again: nothing will
	// upload them, and their manifests would mislead.
	for _, lo := range p.leftovers {
		lo.remove()
	}
	p.total.Done()
	p.prog.Close()
	var result error
	if p.sum.Warnings > 0 {
		result = fmt.Errorf("%d entries were skipped or changed while packed: %w", p.sum.Warnings, records.ErrWarnings)
	}
	p.sum.Outcome, written = records.OutcomeOf(result), true
	if err := p.w.Write(p.sum); err != nil {
		return err
	}
	fmt.Fprintf(p.errOut, "gb-pack: %d bags packed, %s from %s of files\n", p.sum.Bags, cost.Bytes(p.sum.Bytes), cost.Bytes(p.sum.ContentBytes))
	return result
}

// packedSoFar says what gb-pack did before its input ended early.
func packedSoFar(bags int) string {
	if bags == 0 {
		return "nothing was packed"
	}
	return fmt.Sprintf("only %d bags were packed", bags)
}

// record packs a bag record and passes every other record on.
func (p *packer) record(l records.Line) error {
	p.upstream.Note(l)
	if l.Kind == records.KindSource {
		src, err := records.Decode[records.Source](l)
		if err != nil {
			return err
		}
		p.listFile = src.ListFile
	}
	if l.Kind != records.KindBag {
		return p.w.WriteRaw(l.Raw)
	}
	b, err := parseBag(l, p.name)
	if err != nil {
		return err
	}
	if err := p.checkKeys(b, l); err != nil {
		return err
	}
	idle := p.prog.Idle()
	err = waitForRoom(p.ctx, p.staged, p.out, p.limit, b.bytes, p.opts.Poll, p.errOut)
	idle()
	if err != nil {
		return err
	}
	raw := append([]byte(nil), l.Raw...)
	pk := reuse(p.leftovers, raw, filepath.Join(p.st.StagingDir, layout.StagedName(b.key)), p.errOut)
	if pk == nil {
		if pk, err = p.pack(b, raw); err != nil || pk == nil {
			return err
		}
	}
	p.sum.Warnings += pk.Warnings
	p.staged[pk.File] = pk.Bytes
	p.total.AddItems(1)
	p.sum.Bags++
	p.sum.Bytes += pk.Bytes
	p.sum.ContentBytes += pk.ContentBytes
	// The bag record goes on just before its packed record: gb-commit
	// needs both.
	if err := p.w.WriteRaw(raw); err != nil {
		return err
	}
	return p.w.Write(pk)
}

// checkKeys loads the keys with the first encrypted bag and refuses a bag
// planned for other keys.
func (p *packer) checkKeys(b bagIn, l records.Line) error {
	if !b.encrypt {
		return nil
	}
	if p.ks == nil {
		rf, _ := p.st.SideFile(p.st.RecipientsFile, "recipients.txt", p.listFile)
		kf, _ := p.st.SideFile(p.st.KeyFile, "key.txt", p.listFile)
		k, note, err := keys.Load(rf, kf)
		if err != nil {
			return err
		}
		if note != "" {
			fmt.Fprintf(p.errOut, "gb-pack: %s\n", note)
		}
		p.ks = k
	}
	if b.keys != p.ks.ID {
		return &records.LineError{Name: p.name, Line: l.No, Msg: fmt.Sprintf("bag %s was planned for keys %s, but %s gives %s", b.id, b.keys, p.ks.File, p.ks.ID),
			Hint: "the keys changed after gb-scan ran; run the scan and plan again"}
	}
	return nil
}

// pack packs bag b (record raw) into staging. A bag whose remote source
// went away is left out with a warning, and its record passed on: it
// returns nil, nil.
func (p *packer) pack(b bagIn, raw []byte) (*records.Packed, error) {
	job := p.total.Bar(b.id, b.bytes)
	pk, err := packBag(p.ctx, b, p.st, p.ks, p.opts.Now, p.w, p.errOut, job, p.mounter)
	var re *remote.Error
	if errors.As(err, &re) {
		// The host went away since gb-scan: this bag is left out, its
		// atoms keep their last backup, and the next run packs them
		// again.
		job.Fail()
		p.sum.Warnings++
		fmt.Fprintf(p.errOut, "gb-pack: warning: bag %s not packed: %v\n", b.id, err)
		if re.Hint != "" {
			fmt.Fprintf(p.errOut, "gb-pack: hint: %s\n", re.Hint)
		}
		if err := p.w.Write(records.NewWarning("pack", b.source, fmt.Errorf("bag %s not packed: %w", b.id, err))); err != nil {
			return nil, err
		}
		return nil, p.w.WriteRaw(raw)
	}
	if err != nil {
		job.Fail()
		return nil, fmt.Errorf("bag %s: %w", b.id, err)
	}
	job.Done()
	if err := writeSidecar(pk, raw); err != nil {
		return nil, fmt.Errorf("bag %s: %w", b.id, err)
	}
	return pk, nil
}

// sidecar is the file beside a staged bag (layout.Sidecar) that says which
// plan it was packed for and what gb-pack reported, so a later run can
// reuse it.
type sidecar struct {
	Plan   string         `json:"plan"` // SHA-256 of the bag record's line
	Packed records.Packed `json:"packed"`
}

type leftover struct {
	path string // the staged bag
	sc   sidecar
}

func (lo leftover) remove() {
	for _, f := range []string{lo.path, layout.Sidecar(lo.path), lo.sc.Packed.ManifestUpload, lo.sc.Packed.Manifest} {
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
func writeSidecar(p *records.Packed, raw []byte) error {
	b, err := json.Marshal(sidecar{Plan: planSum(raw), Packed: *p})
	if err != nil {
		return err
	}
	tmp := layout.Partial(layout.Sidecar(p.File))
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, layout.Sidecar(p.File))
}

// reuse returns the packed record of the staged bag at path when an
// interrupted run left it complete for exactly this bag record, after
// checking its bytes against the SHA-256 it was packed with (staged bags
// are not fsynced, so a power cut may have torn one).
func reuse(leftovers map[string]leftover, raw []byte, path string, errOut io.Writer) *records.Packed {
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
		os.Remove(layout.Sidecar(path))
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
		scPath := filepath.Join(dir, e.Name())
		bagPath, ok := layout.SidecarOf(scPath)
		if !ok {
			continue
		}
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
	rec, err := records.Decode[records.Bag](l)
	if err != nil {
		return bagIn{}, err
	}
	b := bagIn{id: rec.ID, key: rec.Key, source: rec.Source, compress: rec.Compress, bytes: rec.Bytes, encrypt: rec.Encrypt, keys: rec.Keys, excludes: rec.Excludes}
	if _, err := inventory.ParseBagID(b.id); err != nil {
		return b, l.Errorf(name, "%v", err)
	}
	if b.key == "" || strings.HasPrefix(b.key, "/") || strings.Contains(b.key, "..") {
		return b, l.Errorf(name, "bag %s has a bad key %q", b.id, b.key)
	}
	if _, isRemote, err := remote.Parse(b.source); err != nil || (!isRemote && !filepath.IsAbs(b.source)) {
		return b, l.Errorf(name, "bag %s: source %q is not an absolute path or a remote location (host:/path)", b.id, b.source)
	}
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
	for _, a := range rec.Atoms {
		ba, err := bagAtomOf(a, b.source)
		if err != nil {
			return b, l.Errorf(name, "bag %s: %v", b.id, err)
		}
		b.atoms = append(b.atoms, ba)
	}
	if len(b.atoms) == 0 {
		return b, l.Errorf(name, "bag %s has no atoms", b.id)
	}
	return b, nil
}

// bagAtomOf checks an atom of a bag of source and takes its exact paths.
func bagAtomOf(a records.BagAtom, source string) (bagAtom, error) {
	ba := bagAtom{key: a.Atom, typ: a.Type, hash: a.Hash, files: a.Files, bytes: a.Bytes, part: a.Part, parts: a.Parts}
	var err error
	if ba.exactKey, err = a.ExactAtom(); err != nil {
		return ba, err
	}
	if ba.path, err = a.ExactPath(); err != nil {
		return ba, err
	}
	if ba.from, err = a.ExactFrom(); err != nil {
		return ba, err
	}
	if ba.to, err = a.ExactTo(); err != nil {
		return ba, err
	}
	if ba.typ != fstree.Dir && ba.typ != fstree.Loose && ba.typ != fstree.Tree {
		return ba, fmt.Errorf("atom %s has unknown type %q", ba.key, ba.typ)
	}
	if ba.path != source && !strings.HasPrefix(ba.path, source+"/") {
		return ba, fmt.Errorf("atom %s is not inside source %s", ba.key, source)
	}
	return ba, nil
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
