package restore

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"filippo.io/age"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/keys"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/progress"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
	"github.com/klauspost/compress/zstd"
)

// Fetch downloads every planned bag that is ready, checks it, and
// extracts what the plan wants into opts.Target. Bags still thawing or
// frozen are reported and left for the next run; bags already restored
// into the same target are skipped. Everything it does can be repeated.
func Fetch(ctx context.Context, out, errOut io.Writer, opts Options) error {
	if opts.Target == "" {
		return &config.Error{Msg: "fetch needs --target DIR: where the restored files go"}
	}
	target, err := filepath.Abs(opts.Target)
	if err != nil {
		return err
	}
	path := opts.stateFile()
	unlock, err := lockState(path)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := LoadState(path)
	if err != nil {
		return err
	}
	warnDest(errOut, s, opts)
	ids, err := fetchIdentities(s, target, opts.Identity)
	if err != nil {
		return err
	}
	root, err := openTarget(target)
	if err != nil {
		return err
	}
	defer root.Close()

	// Progress on stderr (a terminal, or progress = always): a bar per
	// bag as it downloads, and the run's totals below.
	prog := progress.New(errOut, opts.Settings.Progress)
	defer prog.Close()
	errOut = prog.Stderr()
	f := &fetcher{opts: opts, target: target, root: root, work: workDir(target), ids: ids, w: records.NewWriter(out), errOut: errOut,
		total: prog.Counter("gb-restore", "bags", progress.RateBytes)}
	n := map[string]int{}
	var total extractStats
	var fail error
	for _, b := range s.Bags {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec := f.bag(ctx, b)
		if rec.State == StateFailed && fail == nil {
			fail = errors.New(rec.Error)
		}
		if rec.State == StateRestored {
			if err := s.Save(path); err != nil {
				return err
			}
		}
		n[rec.State]++
		if err := f.w.Write(rec); err != nil {
			return err
		}
		if b.Done(target) {
			total.files += b.Files
			total.ok += b.OK
			total.mismatch += b.Mismatch
			total.skipped += b.Skipped
		}
	}
	f.total.Done()
	prog.Close()
	os.Remove(f.work) // only when empty: nothing left to resume
	return fetched(errOut, n, total, len(s.Bags), target, fail)
}

// fetchIdentities reads the identity file when a bag still to be fetched
// is encrypted, and refuses to start without one.
func fetchIdentities(s *State, target, identity string) ([]age.Identity, error) {
	for _, b := range s.Bags {
		if !b.Encrypted || b.Done(target) {
			continue
		}
		if identity == "" {
			return nil, &config.Error{Msg: fmt.Sprintf("bag %s is encrypted: fetch needs --identity FILE (the age identity, or the passphrase file, that opens it)", b.Bag),
				Hint: "the identity gb-keygen wrote when recipients.txt was made; it is not on the backed-up machine"}
		}
		return keys.Identities(identity)
	}
	return nil, nil
}

// openTarget makes the target directory and its work directory, and
// opens the target as the root nothing extracted may leave.
func openTarget(target string) (*os.Root, error) {
	if err := os.MkdirAll(target, 0o755); err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	root, err := os.OpenRoot(target)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if err := os.MkdirAll(workDir(target), 0o700); err != nil {
		root.Close()
		return nil, fmt.Errorf("target: %w", err)
	}
	return root, nil
}

// fetched says how the fetch went (n counts the bags' states) and returns
// what decides the exit code: the first failure, ErrFrozen, ErrNotReady,
// warnings for entries not restored as the manifest has them, or nil.
func fetched(errOut io.Writer, n map[string]int, total extractStats, bags int, target string, fail error) error {
	done := n[StateRestored] + n["already-restored"]
	sum := fmt.Sprintf("gb-restore: %d of %d bags restored into %s (%d entries: %d ok, %d mismatched or unverified, %d skipped)",
		done, bags, target, total.files, total.ok, total.mismatch, total.skipped)
	switch {
	case n[StateMissing]+n[StateFailed] > 0:
		fmt.Fprintln(errOut, sum+fmt.Sprintf("; %d failed, %d missing from the store", n[StateFailed], n[StateMissing]))
		if fail == nil {
			fail = errors.New("some bags are missing from the store")
		}
		return fmt.Errorf("%w; run gb-restore fetch again once fixed (what is done stays done)", fail)
	case n[StateFrozen] > 0:
		fmt.Fprintln(errOut, sum+fmt.Sprintf("; %d frozen: run gb-restore request (exit 6)", n[StateFrozen]))
		return ErrFrozen
	case n[StateThawing] > 0:
		fmt.Fprintln(errOut, sum+fmt.Sprintf("; %d still thawing: run gb-restore fetch again later (exit 5)", n[StateThawing]))
		return ErrNotReady
	case total.mismatch+total.skipped > 0:
		fmt.Fprintln(errOut, sum)
		return fmt.Errorf("%d entries mismatched, unverified or skipped (see the restore_file records): %w", total.mismatch+total.skipped, records.ErrWarnings)
	}
	fmt.Fprintln(errOut, sum+"; done")
	return nil
}

type fetcher struct {
	opts   Options
	target string
	root   *os.Root
	work   string
	ids    []age.Identity
	w      *records.Writer
	errOut io.Writer
	total  *progress.Job // nil when progress is off
}

// bag does what is left for one bag and says how it stands.
func (f *fetcher) bag(ctx context.Context, b *Bag) *records.RestoreBag {
	rec := &records.RestoreBag{Kind: records.KindRestoreBag, Bag: b.Bag, Key: b.Key, Bytes: b.Bytes, Target: f.target}
	failed := func(err error) *records.RestoreBag {
		rec.State, rec.Error = StateFailed, fmt.Sprintf("bag %s: %v", b.Bag, err)
		fmt.Fprintf(f.errOut, "gb-restore: error: %s\n", rec.Error)
		return rec
	}
	if b.Done(f.target) {
		rec.State = "already-restored"
		rec.Files, rec.OK, rec.Mismatch, rec.Skipped = b.Files, b.OK, b.Mismatch, b.Skipped
		return rec
	}
	local := filepath.Join(f.work, bagFileName(b))
	// A bar for a bag that is downloaded or extracted now, not for one
	// still frozen or thawing.
	var job *progress.Job
	defer func() {
		if rec.State == StateRestored {
			job.Done()
			f.total.AddItems(1)
		} else {
			job.Fail()
		}
	}()
	if _, err := os.Stat(local); err == nil {
		job = f.total.Bar(b.Bag, b.Bytes)
		job.AddBytes(b.Bytes) // downloaded by an earlier run
	} else {
		// Not downloaded yet: only a readable copy can be.
		sr, err := bagState(ctx, f.opts.Store, b, f.opts.Now)
		if err != nil {
			return failed(err)
		}
		switch sr.State {
		case StateMissing:
			rec.State, rec.Error = StateMissing, fmt.Sprintf("bag %s: %s is not in %s", b.Bag, b.Key, f.opts.Store)
			fmt.Fprintf(f.errOut, "gb-restore: error: %s\n", rec.Error)
			return rec
		case StateFrozen, StateThawing:
			rec.State, rec.ReadyAt = sr.State, sr.ReadyAt
			fmt.Fprintf(f.errOut, "gb-restore: %s: %s, not fetched yet\n", b.Bag, sr.State)
			return rec
		}
		job = f.total.Bar(b.Bag, b.Bytes)
		if err := f.download(ctx, b, local, rec, job); err != nil {
			if errors.Is(err, store.ErrFrozen) {
				// The copy expired between the HEAD and the GET.
				rec.State = StateFrozen
				return rec
			}
			return failed(err)
		}
	}
	man, cleanup, err := f.manifest(ctx, b)
	if err != nil {
		return failed(err)
	}
	st, err := f.extract(ctx, b, local, man)
	if err != nil {
		return failed(err)
	}
	cleanup()
	if !f.opts.KeepBags {
		os.Remove(local)
	}
	b.RestoredAt, b.Target = f.opts.Now.UTC(), f.target
	b.Files, b.OK, b.Mismatch, b.Skipped = st.files, st.ok, st.mismatch, st.skipped
	rec.State = StateRestored
	rec.Files, rec.OK, rec.Mismatch, rec.Skipped = st.files, st.ok, st.mismatch, st.skipped
	fmt.Fprintf(f.errOut, "gb-restore: %s: %d entries: %d ok, %d mismatched or unverified, %d skipped\n", b.Bag, st.files, st.ok, st.mismatch, st.skipped)
	return rec
}

// download fetches the bag into NAME.partial, going on from what an
// earlier run left there (ranged GETs), then checks the whole object's
// SHA-256 against the plan's before renaming it into place. A partial
// file with other bytes fails the check and is deleted, so the next run
// downloads it again.
func (f *fetcher) download(ctx context.Context, b *Bag, local string, rec *records.RestoreBag, job *progress.Job) error {
	want := b.SHA256
	info, err := f.opts.Store.Head(ctx, b.Key)
	if err != nil {
		return err
	}
	if want == "" {
		want = info.SHA256
	}
	if want == "" {
		return fmt.Errorf("no SHA-256 to check %s against (neither the inventory nor the store has one)", b.Key)
	}
	if b.Bytes > 0 && info.Size != b.Bytes {
		return fmt.Errorf("%s holds %d bytes, but the plan says %d: not the bag that was archived", b.Key, info.Size, b.Bytes)
	}
	partial := layout.Partial(filepath.Join(f.work, b.Bag))
	pf, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer pf.Close()
	have, err := pf.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if have > info.Size {
		if err := pf.Truncate(0); err != nil {
			return err
		}
		have = 0
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	if have > 0 {
		if _, err := io.CopyBuffer(h, io.NewSectionReader(pf, 0, have), buf); err != nil {
			return err
		}
		rec.ResumedAt = have
		job.AddBytes(have)
		fmt.Fprintf(f.errOut, "gb-restore: %s: resuming the download at %s of %s\n", b.Bag, cost.Bytes(have), cost.Bytes(info.Size))
	} else {
		fmt.Fprintf(f.errOut, "gb-restore: %s: downloading %s\n", b.Bag, cost.Bytes(info.Size))
	}
	if _, err := pf.Seek(have, io.SeekStart); err != nil {
		return err
	}
	if have < info.Size {
		rc, err := f.opts.Store.Get(ctx, b.Key, have, -1)
		if err != nil {
			return err
		}
		n, err := io.CopyBuffer(io.MultiWriter(pf, h), ctxReader{ctx, rc, job}, buf)
		rc.Close()
		rec.Downloaded = n
		if err != nil {
			return fmt.Errorf("download %s stopped after %s (run fetch again to resume): %w", b.Key, cost.Bytes(have+n), err)
		}
		have += n
	}
	if err := pf.Sync(); err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if have != info.Size || sum != want {
		pf.Close()
		os.Remove(partial)
		return fmt.Errorf("downloaded %s is damaged: %d bytes with SHA-256 %s, expected %d bytes with %s; deleted, run fetch again to download it again", b.Key, have, sum, info.Size, want)
	}
	if err := os.Rename(partial, local); err != nil {
		return err
	}
	return inventory.SyncDir(f.work)
}

// manifest finds the bag's manifest: manifest_dir's copy, else one
// fetched earlier, else the store's (decrypted with the identity).
func (f *fetcher) manifest(ctx context.Context, b *Bag) (string, func(), error) {
	none := func() {}
	local := filepath.Join(f.opts.Settings.ManifestDir, manifest.FileName(b.Key))
	if m, err := openManifest(local, b.Key); err == nil {
		m.Close()
		return local, none, nil
	}
	got := filepath.Join(f.work, b.Bag+layout.ManifestExt)
	cleanup := func() { os.Remove(got) }
	if m, err := openManifest(got, b.Key); err == nil {
		m.Close()
		return got, cleanup, nil
	}
	keys := []string{b.ManifestKey}
	if b.ManifestKey == "" {
		keys = []string{manifest.Key(b.Key), layout.Seal(manifest.Key(b.Key))}
	}
	var lastErr error
	for _, k := range keys {
		err := f.fetchManifest(ctx, k, got)
		if err == nil {
			var m *manifestCursor
			if m, err = openManifest(got, b.Key); err == nil {
				m.Close()
				return got, cleanup, nil
			}
		}
		lastErr = err
	}
	return "", none, fmt.Errorf("no manifest to check the files against: not in %s, and from the store: %w", f.opts.Settings.ManifestDir, lastErr)
}

func (f *fetcher) fetchManifest(ctx context.Context, key, dst string) error {
	rc, err := f.opts.Store.Get(ctx, key, 0, -1)
	if err != nil {
		return err
	}
	defer rc.Close()
	var r io.Reader = rc
	if layout.IsSealed(key) {
		if len(f.ids) == 0 {
			return fmt.Errorf("%s is encrypted: give --identity", key)
		}
		if r, err = age.Decrypt(rc, f.ids...); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	tmp := layout.Partial(dst)
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// extract opens the downloaded bag (age, then zstd, then tar, as its key
// says) and writes what the plan wants.
func (f *fetcher) extract(ctx context.Context, b *Bag, local, manifestPath string) (extractStats, error) {
	zst, enc, err := layout.BagLayers(b.Key)
	if err != nil {
		return extractStats{}, err
	}
	bf, err := os.Open(local)
	if err != nil {
		return extractStats{}, err
	}
	defer bf.Close()
	var r io.Reader = bufio.NewReaderSize(bf, 1<<20)
	if enc {
		if len(f.ids) == 0 {
			return extractStats{}, errors.New("encrypted: give --identity")
		}
		if r, err = age.Decrypt(r, f.ids...); err != nil {
			return extractStats{}, fmt.Errorf("decrypt with %s: %w", f.opts.Identity, err)
		}
	}
	if zst {
		// Bags are written with windows far below 128 MiB, so a decoder
		// needs at most that much, whatever the bag's size.
		d, err := zstd.NewReader(r, zstd.WithDecoderMaxWindow(128<<20), zstd.WithDecoderConcurrency(2))
		if err != nil {
			return extractStats{}, err
		}
		defer d.Close()
		r = d
	}
	mc, err := openManifest(manifestPath, b.Key)
	if err != nil {
		return extractStats{}, err
	}
	defer mc.Close()
	e := newExtractor(f.root, b, f.opts.Overwrite, f.w, f.errOut, mc)
	if err := e.planLinks(manifestPath); err != nil {
		return extractStats{}, err
	}
	if err := e.extract(ctx, r); err != nil {
		return e.stats, err
	}
	return e.stats, nil
}

// ctxReader stops a download when the command is interrupted, whatever
// the store's reader does.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	job *progress.Job // told the bytes read (nil-safe)
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if n > 0 {
		c.job.AddBytes(int64(n))
	}
	return n, err
}
