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
	Now   func() time.Time
	Input string
	// BagClass is the storage class for bags (DEEP_ARCHIVE).
	BagClass string
	// Progress is the progress setting: auto (or ""), always or never.
	Progress string
}

// Run uploads every packed record of in.
func Run(ctx context.Context, in io.Reader, out, errOut io.Writer, opts Options) error {
	if opts.BagClass == "" {
		opts.BagClass = store.DeepArchive
	}
	name := opts.Input
	if name == "" {
		name = "stdin"
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
	errOut = prog.Stderr()
	in = prog.Input(in)
	total := prog.Counter("gb-put", "bags", progress.RateBytes)

	w := records.NewWriter(out)
	r := records.NewReader(in, name)
	failed, stored, adopted := 0, 0, 0
	var storedBytes, sentBytes int64
	err := r.Each(func(l records.Line) error {
		if l.Kind != records.KindPacked {
			return w.WriteRaw(l.Raw)
		}
		p, err := parsePacked(l, name)
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// gb-commit reads packed records too (incomplete atoms, leftovers).
		if err := w.WriteRaw(l.Raw); err != nil {
			return err
		}
		job := total.Bar(p.bag, p.size)
		up, err := upload(ctx, opts, p, errOut, job)
		fault.Point("put.stored")
		if err != nil {
			job.Fail()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			fmt.Fprintf(errOut, "gb-put: error: bag %s: %v\n", p.bag, err)
			return w.Write(records.Failed{Kind: records.KindFailed, Bag: p.bag, Key: p.key, Error: err.Error()})
		}
		job.Done()
		total.AddItems(1)
		if err := w.Write(up); err != nil {
			return err
		}
		stored++
		storedBytes += up.Bytes
		sentBytes += up.SentBytes
		if up.Adopted {
			adopted++
		}
		// The staged copy goes only once the stored one is checked.
		// gb-pack's note beside the staged bag (FILE.packed.json) goes too.
		staged := []string{p.file, layout.Sidecar(p.file)}
		if p.manifestStaged {
			staged = append(staged, p.manifest)
		}
		for _, f := range staged {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(errOut, "gb-put: warning: remove staged %s: %v\n", f, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := w.Err(); err != nil {
		return err
	}
	total.Done()
	prog.Close()
	fmt.Fprintf(errOut, "gb-put: %d bags stored (%s, %s sent, %d already there), %d failed, at %s\n", stored, cost.Bytes(storedBytes), cost.Bytes(sentBytes), adopted, failed, opts.Store)
	if failed > 0 {
		return fmt.Errorf("%d bags were not uploaded; their atoms are retried on the next run", failed)
	}
	return nil
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
