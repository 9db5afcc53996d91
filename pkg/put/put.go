// Package put is the gb-put stage: it stores every packed bag and its
// manifest, checks what was stored, and only then removes the staged copy.
package put

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gbarchive/gb/pkg/cost"
	"github.com/gbarchive/gb/pkg/fault"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/progress"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/store"
)

// Options configure uploads.
type Options struct {
	Store store.Store
	// StoreErr is why the store could not be opened; Run fails with it
	// (and its summary says so).
	StoreErr error
	Now      func() time.Time
	Input    string
	// BagClass is the storage class for bags (DEEP_ARCHIVE).
	BagClass string
	// Progress is the progress setting: auto (or ""), always or never.
	Progress string
}

// Run uploads every packed record of in.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) (err error) {
	// On failure too the summary ends the output, with what was stored.
	u := &putter{ctx: ctx, opts: opts, sum: records.PutSummary{Kind: records.KindPut}, upstream: records.NewUpstream("gb-pack", records.KindPack)}
	if opts.Store != nil {
		u.sum.Store = opts.Store.String()
	}
	written := false
	defer func() { err = records.Finish(out, err, written, &u.sum) }()
	if opts.StoreErr != nil {
		return opts.StoreErr
	}
	if u.opts.BagClass == "" {
		u.opts.BagClass = store.DeepArchive
	}
	u.name = opts.Input
	if u.name == "" {
		u.name = "stdin"
	}
	if c, ok := opts.Store.(store.Checker); ok {
		if err := c.Check(ctx); err != nil {
			return err
		}
	}
	// Progress on stderr (a terminal, or progress = always): a bar per bag
	// as its bytes are sent, and the run's totals below.
	prog := progress.New(errOut, opts.Progress)
	defer prog.Close()
	u.errOut = prog.Stderr()
	in = prog.Input(in)
	u.total = prog.Counter("gb-put", "bags", progress.RateBytes)

	u.w = records.NewWriter(out)
	if err := records.NewReader(in, u.name).Each(u.record); err != nil {
		return err
	}
	if err := u.w.Err(); err != nil {
		return err
	}
	var result error
	if u.sum.Failed > 0 {
		result = fmt.Errorf("%d bags were not uploaded (%s); their atoms are retried on the next run", u.sum.Failed, u.firstFail)
	} else if err := u.upstream.Err(fmt.Sprintf("%d bags stored", u.sum.Bags)); err != nil {
		return err
	}
	u.sum.Outcome, written = records.OutcomeOf(result), true
	if err := u.w.Write(u.sum); err != nil {
		return err
	}
	u.total.Done()
	prog.Close()
	if result != nil {
		return result // its one line says what counts
	}
	s := u.sum
	fmt.Fprintf(u.errOut, "gb-put: %d bags stored (%s, %s sent, %d already there), %d failed, at %s\n", s.Bags, cost.Bytes(s.Bytes), cost.Bytes(s.SentBytes), s.Adopted, s.Failed, opts.Store)
	return nil
}

// putter is one gb-put run.
type putter struct {
	ctx       context.Context
	opts      Options
	name      string // the input, for errors
	errOut    io.Writer
	w         *records.Writer
	total     *progress.Job
	upstream  *records.Upstream  // gb-pack's summary
	sum       records.PutSummary // what was stored
	firstFail string             // why the first bag that failed did
}

// record uploads the bag of a packed record and passes every record on.
func (u *putter) record(l records.Line) error {
	u.upstream.Note(l)
	if l.Kind != records.KindPacked {
		return u.w.WriteRaw(l.Raw)
	}
	p, err := parsePacked(l, u.name)
	if err != nil {
		return err
	}
	if err := u.ctx.Err(); err != nil {
		return err
	}
	// gb-commit reads packed records too (incomplete atoms, leftovers).
	if err := u.w.WriteRaw(l.Raw); err != nil {
		return err
	}
	job := u.total.Bar(p.bag, p.size)
	up, err := upload(u.ctx, u.opts, p, u.errOut, job)
	fault.Point("put.stored")
	if err != nil {
		job.Fail()
		if u.ctx.Err() != nil {
			return u.ctx.Err()
		}
		u.sum.Failed++
		if u.firstFail == "" {
			// Said once at the end: a full store fails every bag alike.
			u.firstFail = fmt.Sprintf("bag %s: %v", p.bag, err)
		}
		return u.w.Write(records.Failed{Kind: records.KindFailed, Bag: p.bag, Key: p.key, Error: err.Error()})
	}
	job.Done()
	u.total.AddItems(1)
	if err := u.w.Write(up); err != nil {
		return err
	}
	u.sum.Bags++
	u.sum.Bytes += up.Bytes
	u.sum.SentBytes += up.SentBytes
	if up.Adopted {
		u.sum.Adopted++
	}
	u.removeStaged(p)
	return nil
}

// removeStaged removes a bag's staged files once the stored copy is
// checked, gb-pack's note beside it (FILE.packed.json) included.
func (u *putter) removeStaged(p packedIn) {
	staged := []string{p.file, layout.Sidecar(p.file)}
	if p.manifestStaged {
		staged = append(staged, p.manifest)
	}
	for _, f := range staged {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(u.errOut, "gb-put: warning: remove staged %s: %v\n", f, err)
		}
	}
}

type packedIn struct {
	bag, key, file, sha, manifest, manifestKey string
	size                                       int64
	manifestStaged                             bool // manifest is a staged file of this bag's (encrypted)
}

func parsePacked(l records.Line, name string) (packedIn, error) {
	rec, err := records.Decode[records.Packed](l)
	if err != nil {
		return packedIn{}, err
	}
	p := packedIn{bag: rec.Bag, key: rec.Key, file: rec.File, sha: rec.SHA256, size: rec.Bytes, manifest: rec.Manifest, manifestKey: rec.ManifestKey}
	if rec.ManifestUpload != "" {
		p.manifest, p.manifestStaged = rec.ManifestUpload, true
	}
	if rec.Encrypt && (!p.manifestStaged || !layout.IsSealed(p.key) || !layout.IsSealed(p.manifestKey)) {
		// Never send a plain manifest of an encrypted bag.
		return p, l.Errorf(name, "packed record for encrypted bag %s needs .age keys and an encrypted manifest_upload", p.bag)
	}
	if p.bag == "" || p.key == "" || p.file == "" || p.sha == "" || p.manifestKey == "" {
		return p, l.Errorf(name, "packed record needs bag, key, file, sha256 and manifest_key")
	}
	return p, nil
}

func upload(ctx context.Context, opts Options, p packedIn, errOut io.Writer, job *progress.Job) (records.Uploaded, error) {
	up := records.Uploaded{Kind: records.KindUploaded, Bag: p.bag, Key: p.key, SHA256: p.sha, ManifestKey: p.manifestKey}
	info, err := opts.Store.Head(ctx, p.key)
	switch {
	case err == nil && info.SHA256 == p.sha && info.Size == p.size:
		up.Adopted = true
		job.AddBytes(p.size)
	case err == nil && info.Metadata["gb-bag"] != p.bag:
		return up, fmt.Errorf("%s already exists in %s with other content, stored for another bag (%q); not replacing it", p.key, opts.Store, info.Metadata["gb-bag"])
	case err == nil:
		// The same bag id, other bytes: an interrupted run stored this bag
		// and died before gb-commit recorded it (a recorded id is never
		// planned again). Its atoms changed since, or it is encrypted, and
		// age never writes the same bytes twice. Nothing refers to that
		// copy; replacing it costs what deleting it later would: a Deep
		// Archive object is billed for 180 days either way.
		fmt.Fprintf(errOut, "gb-put: bag %s: replacing the copy an interrupted run stored at %s (never committed; its minimum storage charge applies either way)\n", p.bag, p.key)
		if err := opts.Store.Delete(ctx, p.key); err != nil {
			return up, fmt.Errorf("remove uncommitted %s: %w", p.key, err)
		}
		fallthrough
	case errors.Is(err, store.ErrNotFound):
		f, err := os.Open(p.file)
		if err != nil {
			return up, fmt.Errorf("staged bag: %w", err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return up, err
		}
		if fi.Size() != p.size {
			return up, fmt.Errorf("staged bag %s is %d bytes, the packed record says %d", p.file, fi.Size(), p.size)
		}
		sent := int64(-1)
		var onProgress func(int64)
		if job != nil {
			onProgress = job.AddBytes
		}
		// The journal beside the staged bag lets an interrupted multipart
		// upload resume on the next run instead of starting over.
		info, err = opts.Store.Put(ctx, p.key, f, p.size, store.PutOptions{StorageClass: opts.BagClass, SHA256: p.sha,
			Metadata: map[string]string{"gb-bag": p.bag, "gb-sha256": p.sha}, Journal: layout.Journal(p.file), Sent: &sent, Progress: onProgress})
		if sent < 0 {
			sent = p.size
		}
		up.SentBytes = sent
		if err != nil {
			return up, err
		}
		// Trust the store's own description, not the Put's answer.
		if info, err = opts.Store.Head(ctx, p.key); err != nil {
			return up, fmt.Errorf("check after upload: %w", err)
		}
		if info.Size != p.size || (info.SHA256 != "" && info.SHA256 != p.sha) {
			return up, fmt.Errorf("stored %s does not match the staged bag (size %d, sha256 %s)", p.key, info.Size, info.SHA256)
		}
	default:
		return up, err
	}
	if err := putManifest(ctx, opts.Store, p.manifestKey, p.manifest); err != nil {
		return up, fmt.Errorf("manifest: %w", err)
	}
	up.Bytes, up.StorageClass, up.UploadedAt, up.ETag = info.Size, info.StorageClass, info.UploadedAt, info.ETag
	return up, nil
}

// putManifest stores a manifest in hot storage, replacing an older copy:
// manifests are STANDARD, so replacing one costs nothing.
func putManifest(ctx context.Context, st store.Store, key, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	return store.PutReplace(ctx, st, key, b)
}
