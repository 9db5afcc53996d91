package pack

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gbarchive/gb/pkg/bag"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/fault"
	"github.com/gbarchive/gb/pkg/fstree"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/keys"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/manifest"
	"github.com/gbarchive/gb/pkg/progress"
	"github.com/gbarchive/gb/pkg/records"
	"github.com/gbarchive/gb/pkg/remote"
)

// bagPacker writes one bag and its manifest: the tar stream of its atoms'
// entries, and one manifest line per entry.
type bagPacker struct {
	b      bagIn
	w      *records.Writer // for warning records
	errOut io.Writer
	job    *progress.Job
	ex     *config.Excluder
	// Records name files as list.txt does; a remote source's are read
	// under its mount point (local) and named host:/path (name).
	local, name func(string) string

	bw   *bag.Writer
	man  *bufio.Writer
	line []byte // a manifest line, reused
	p    *records.Packed
	// Walks of different atoms never meet, so only the ancestors archived
	// for each atom can repeat: remembering those (not every path) keeps
	// memory independent of the number of files in a bag.
	ancestorsDone map[string]bool
	incomplete    map[string]bool // exact atom keys with a skipped or changed entry
}

// stagedFiles are a bag's and its manifest's files while they are
// written: *.partial until complete.
type stagedFiles struct {
	bag, man string // the final names
	bf       *stagedFile
	mf       *os.File
	done     bool
}

func openStaged(bagPath, manPath string) (*stagedFiles, error) {
	bf, err := createStaged(layout.Partial(bagPath))
	if err != nil {
		return nil, err
	}
	mf, err := os.OpenFile(layout.Partial(manPath), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		bf.Close()
		return nil, err
	}
	return &stagedFiles{bag: bagPath, man: manPath, bf: bf, mf: mf}, nil
}

// discard removes the partial files of a bag that was not completed.
func (sf *stagedFiles) discard() {
	if sf.done {
		return
	}
	sf.bf.Close()
	sf.mf.Close()
	os.Remove(layout.Partial(sf.bag))
	os.Remove(layout.Partial(sf.man))
}

func packBag(ctx context.Context, b bagIn, st *config.Settings, ks *keys.Keys, now func() time.Time, w *records.Writer, errOut io.Writer, job *progress.Job, mounter *remote.Mounter) (*records.Packed, error) {
	bp := &bagPacker{b: b, w: w, errOut: errOut, job: job, ancestorsDone: map[string]bool{}, incomplete: map[string]bool{}}
	var err error
	if bp.ex, err = excluder(b.excludes); err != nil {
		return nil, err
	}
	bp.local, bp.name = func(p string) string { return p }, func(p string) string { return p }
	if remote.IsRemote(b.source) {
		m, err := mounter.Mount(ctx, b.source)
		if err != nil {
			return nil, err
		}
		bp.local, bp.name = m.Local, m.Remote
	}
	sf, err := openStaged(filepath.Join(st.StagingDir, layout.StagedName(b.key)), filepath.Join(st.ManifestDir, manifest.FileName(b.key)))
	if err != nil {
		return nil, err
	}
	defer sf.discard()
	hdr, encrypt := manifestHeader(b, ks)
	if bp.bw, err = bag.NewEncryptedWriter(sf.bf, b.compress, encrypt); err != nil {
		return nil, err
	}
	if job != nil {
		bp.bw.Progress = job.AddBytes
	}
	bp.man = bufio.NewWriterSize(sf.mf, 1<<20)
	menc := json.NewEncoder(bp.man)
	menc.SetEscapeHTML(false)
	start := now().UTC()
	hdr.CreatedAt = start
	if err := menc.Encode(hdr); err != nil {
		return nil, err
	}
	bp.p = &records.Packed{Kind: records.KindPacked, Bag: b.id, Key: b.key, File: sf.bag, Compress: b.compress, Manifest: sf.man, ManifestKey: manifest.Key(b.key), PackedAt: start,
		Encrypt: b.encrypt, Keys: b.keys}
	if err := bp.walk(ctx); err != nil {
		return nil, err
	}
	if err := bp.finish(menc, sf, st, ks); err != nil {
		return nil, err
	}
	return bp.p, nil
}

func excluder(patterns []string) (*config.Excluder, error) {
	ex := &config.Excluder{}
	for _, p := range patterns {
		if err := ex.Add(p); err != nil {
			return nil, err
		}
	}
	return ex, nil
}

// manifestHeader is the first line of b's manifest, and the encryption
// of its layers (nil for a plain bag).
func manifestHeader(b bagIn, ks *keys.Keys) (manifest.Header, func(io.Writer) (io.WriteCloser, error)) {
	hdr := manifest.Header{Kind: manifest.KindHeader, Bag: b.id, Key: b.key, Source: b.source,
		Layers: bag.Layers(b.compress, b.encrypt), Open: bag.OpenCommand(b.compress, layout.StagedName(b.key), "")}
	for _, a := range b.atoms {
		ha := manifest.Atom{Atom: a.key, Type: a.typ, Hash: a.hash, Files: a.files, Bytes: a.bytes, Part: a.part, Parts: a.parts}
		if _, b64 := records.EncodePath(a.exactKey); b64 != "" {
			ha.AtomB64 = b64
		}
		hdr.Atoms = append(hdr.Atoms, ha)
	}
	if !b.encrypt {
		return hdr, nil
	}
	hdr.Open = bag.OpenCommand(b.compress, layout.StagedName(b.key), ks.DecryptCommand(layout.StagedName(b.key)))
	hdr.Encryption = &manifest.Encryption{Scheme: ks.Scheme, Recipients: ks.Recipients, Keys: ks.ID}
	return hdr, ks.Encrypt
}

// walk archives what of each atom the bag holds, with the ancestors
// leading to it.
func (bp *bagPacker) walk(ctx context.Context) error {
	b := bp.b
	// A remote source costs a round trip per file; reading the next
	// files in parallel ahead of the packing walk hides most of them.
	ra := startReadAhead(ctx, remote.IsRemote(b.source), func(visit fstree.VisitFunc) error {
		for _, a := range b.atoms {
			if err := walkPart(bp.local(b.source), bp.local(a.path), a, bp.ex, bp.name, visit); err != nil {
				return err
			}
		}
		return nil
	})
	defer ra.stop()
	for _, a := range b.atoms {
		if err := ctx.Err(); err != nil {
			return err
		}
		if a.typ != fstree.Tree {
			if err := bp.ancestor(a, bp.local(b.source)); err != nil {
				return err
			}
		}
		err := walkPart(bp.local(b.source), bp.local(a.path), a, bp.ex, bp.name, func(path string, info fs.FileInfo, err error) error {
			if err != nil {
				bp.incomplete[a.exactKey] = true
				return bp.warn(bp.name(path), err)
			}
			if info.Mode().IsRegular() {
				ra.consumed()
			}
			return bp.add(a, path, info)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// warn reports an entry skipped or changed: on stderr, and as a warning
// record.
func (bp *bagPacker) warn(recPath string, err error) error {
	bp.p.Warnings++
	d, _ := records.EncodePath(recPath)
	fmt.Fprintf(bp.errOut, "gb-pack: warning: %s: %v\n", d, err)
	return bp.w.Write(records.NewWarning("pack", recPath, err))
}

// add archives one entry of atom a and writes its manifest line.
func (bp *bagPacker) add(a bagAtom, path string, info fs.FileInfo) error {
	fault.Point("pack.entry")
	e, skipped, warn, err := bp.bw.AddAs(path, bp.name(path), info)
	if err != nil {
		return err
	}
	if warn != nil {
		if err := bp.warn(bp.name(path), warn); err != nil {
			return err
		}
		if (skipped && !errors.Is(warn, bag.ErrNotArchived)) || e.Changed {
			bp.incomplete[a.exactKey] = true
		}
	}
	if skipped {
		return nil
	}
	if !info.IsDir() {
		bp.job.AddFiles(1) // as gb-scan counts them
	}
	e.Atom, e.AtomB64 = a.key, ""
	if _, b64 := records.EncodePath(a.exactKey); b64 != "" {
		e.AtomB64 = b64
	}
	bp.line = e.AppendJSON(bp.line[:0])
	_, err = bp.man.Write(bp.line)
	return err
}

// ancestor archives a directory above atom a (without its contents) in
// every bag that holds something below it, so each bag restores its mode
// and mtime even when extracted alone or last.
func (bp *bagPacker) ancestor(a bagAtom, dir string) error {
	if bp.ancestorsDone[dir] {
		return nil
	}
	bp.ancestorsDone[dir] = true
	info, err := os.Lstat(dir)
	if err != nil {
		return nil
	}
	return bp.add(a, dir, info)
}

// finish completes the bag and its manifest (with its end line) and puts
// them in place, and fills in the packed record.
func (bp *bagPacker) finish(menc *json.Encoder, sf *stagedFiles, st *config.Settings, ks *keys.Keys) error {
	size, sum, err := bp.bw.Close()
	if err != nil {
		return err
	}
	if err := sf.bf.Close(); err != nil {
		return fmt.Errorf("write %s: %w", sf.bf.Name(), err)
	}
	if err := menc.Encode(manifest.End{Kind: manifest.KindEnd, Files: bp.bw.Files(), Bytes: bp.bw.Bytes(), BagSHA: sum, BagLen: size}); err != nil {
		return err
	}
	if err := bp.man.Flush(); err != nil {
		return err
	}
	// The manifest outlives the run (gb-find reads it), so it is made
	// durable before it appears. The staged bag is not: the store checks
	// its SHA-256 on upload, and the next gb-pack clears staging, so a bag
	// torn by a crash can never be stored; skipping its fsync saves
	// waiting for gigabytes of writeback on every bag.
	if err := sf.mf.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", sf.mf.Name(), err)
	}
	if err := sf.mf.Close(); err != nil {
		return err
	}
	if err := os.Rename(layout.Partial(sf.man), sf.man); err != nil {
		return err
	}
	p := bp.p
	if bp.b.encrypt {
		// The store gets the manifest encrypted like its bag: file names
		// are content too. The local copy stays plain for grep and jq.
		up := filepath.Join(st.StagingDir, layout.StagedManifest(bp.b.key))
		if err := encryptFile(sf.man, up, ks); err != nil {
			return fmt.Errorf("encrypt manifest: %w", err)
		}
		p.ManifestUpload, p.ManifestKey = up, layout.Seal(p.ManifestKey)
	}
	if err := os.Rename(layout.Partial(sf.bag), sf.bag); err != nil {
		return err
	}
	sf.done = true
	if err := inventory.SyncDir(st.StagingDir); err != nil {
		return err
	}
	if err := inventory.SyncDir(st.ManifestDir); err != nil {
		return err
	}
	p.Bytes, p.SHA256, p.Files, p.ContentBytes = size, sum, bp.bw.Files(), bp.bw.Bytes()
	for _, a := range bp.b.atoms {
		if bp.incomplete[a.exactKey] {
			p.IncompleteAtoms = append(p.IncompleteAtoms, inventory.KeyOf(a.exactKey))
		}
	}
	return nil
}
