package find

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"filippo.io/age"
	"github.com/gbarchive/gb/pkg/inventory"
	"github.com/gbarchive/gb/pkg/keys"
	"github.com/gbarchive/gb/pkg/layout"
	"github.com/gbarchive/gb/pkg/store"
	"golang.org/x/sync/errgroup"
)

// storedKind says what a stored object is to gb-find: a manifest, an
// inventory copy (of year), or neither. Every key gb-find looks at is
// understood here (and in layout.LocalManifest).
func storedKind(key string) (isManifest bool, inventoryYear int) {
	k, ok := layout.Parse(key)
	switch {
	case ok && k.Kind == layout.Manifest:
		return true, 0
	case ok && k.Kind == layout.System && layout.IsInventory(k.Name):
		return false, k.Year
	}
	return false, 0
}

// fetchParallel is how many manifests are downloaded at once.
const fetchParallel = 8

// maxInventory bounds the stored inventory read into memory.
const maxInventory = 1 << 30

type remoteResult struct {
	warnings   int
	listFailed bool
	inv        *inventory.Inventory // from the store (when wanted)
	invKey     string
	errOut     io.Writer
}

func (rr *remoteResult) warnf(format string, args ...any) {
	rr.warnings++
	fmt.Fprintf(rr.errOut, "gb-find: warning: "+format+"\n", args...)
}

// stored is what the store holds for gb-find.
type stored struct {
	manifests []string         // keys, sorted
	invKeys   map[int][]string // year -> inventory keys
}

// fetchRemote downloads into dir the manifests the store holds and dir
// lacks (writing NAME.partial, then renaming it), decrypting encrypted
// ones with opts.Identity. With wantInv it also reads the newest
// inventory copy in the store. Problems with single manifests are
// warnings on errOut; a store that cannot be listed is an error.
func fetchRemote(ctx context.Context, opts Options, dir string, wantInv bool, errOut io.Writer) (*remoteResult, error) {
	var ids []age.Identity
	if opts.Identity != "" {
		var err error
		if ids, err = keys.Identities(opts.Identity); err != nil {
			return nil, err
		}
	}
	rr := &remoteResult{errOut: errOut}
	sd, err := listStored(ctx, opts.Store)
	if err != nil {
		return nil, err
	}
	todo, encSkipped, have, all := missing(sd.manifests, dir, len(ids) > 0)
	fetched, decrypted, err := rr.fetchAll(ctx, opts, dir, todo, ids)
	if err != nil {
		return nil, err
	}
	st := opts.Store
	switch {
	case fetched > 0 && decrypted > 0:
		fmt.Fprintf(errOut, "gb-find: fetched %s (%d decrypted) from %s into %s\n", plural(fetched, "manifest"), decrypted, st, dir)
	case fetched > 0:
		fmt.Fprintf(errOut, "gb-find: fetched %s from %s into %s\n", plural(fetched, "manifest"), st, dir)
	case all > 0 && have == all:
		fmt.Fprintf(errOut, "gb-find: %s holds no manifest that %s lacks\n", st, dir)
	}
	if n := len(encSkipped); n > 0 {
		verb, them := "was", "it"
		if n > 1 {
			verb, them = "were", "them"
		}
		rr.warnf("%s in %s %s not searched (%s%s): decrypting %s needs the age identity (or passphrase file) the bags are encrypted to; add --identity FILE",
			plural(n, "encrypted manifest"), st, verb, encSkipped[0], map[bool]string{true: ", …", false: ""}[n > 1], them)
	}
	if wantInv {
		rr.storedInventory(ctx, opts, sd.invKeys, ids)
	}
	return rr, nil
}

// listStored lists the manifests and inventory copies the store holds.
func listStored(ctx context.Context, st store.Store) (*stored, error) {
	sd := &stored{invKeys: map[int][]string{}}
	err := st.List(ctx, "", func(o store.ObjectInfo) error {
		switch isManifest, year := storedKind(o.Key); {
		case isManifest:
			sd.manifests = append(sd.manifests, o.Key)
		case year > 0:
			sd.invKeys[year] = append(sd.invKeys[year], o.Key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", st, err)
	}
	sort.Strings(sd.manifests)
	return sd, nil
}

// missing picks the stored manifests dir lacks: todo, to fetch, and
// encSkipped, encrypted ones that cannot be read without an identity. An
// encrypted and a plain copy of one manifest are fetched once (the plain
// one). have of all distinct manifests are in dir already.
func missing(manifests []string, dir string, canDecrypt bool) (todo, encSkipped []string, have, all int) {
	byName := map[string]string{}
	for _, k := range manifests {
		n := layout.LocalManifest(k)
		if old, ok := byName[n]; !ok || layout.IsSealed(old) {
			byName[n] = k
		}
	}
	for n, k := range byName {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			have++
			continue
		}
		if layout.IsSealed(k) && !canDecrypt {
			encSkipped = append(encSkipped, k)
			continue
		}
		todo = append(todo, k)
	}
	sort.Strings(todo)
	return todo, encSkipped, have, len(byName)
}

// fetchAll downloads the manifests of todo into dir, several at once; one
// that fails is a warning.
func (rr *remoteResult) fetchAll(ctx context.Context, opts Options, dir string, todo []string, ids []age.Identity) (fetched, decrypted int, err error) {
	if len(todo) == 0 {
		return 0, 0, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, fmt.Errorf("manifest_dir: %w", err)
	}
	type result struct {
		err       error
		decrypted bool
	}
	results := make([]result, len(todo))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchParallel)
	for i, k := range todo {
		g.Go(func() error {
			dec, err := fetchOne(gctx, opts, k, filepath.Join(dir, layout.LocalManifest(k)), ids)
			results[i] = result{err, dec}
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return 0, 0, err
	}
	for i, r := range results {
		if r.err != nil {
			rr.warnf("%s: %v; not searched", todo[i], r.err)
			continue
		}
		fetched++
		if r.decrypted {
			decrypted++
		}
	}
	if fetched > 0 {
		if err := inventory.SyncDir(dir); err != nil {
			return 0, 0, fmt.Errorf("manifest_dir: %w", err)
		}
	}
	return fetched, decrypted, nil
}

// storedInventory reads the newest year's inventory copy (the plain one
// when both are there) into rr.inv; one that cannot be read is a warning.
func (rr *remoteResult) storedInventory(ctx context.Context, opts Options, invKeys map[int][]string, ids []age.Identity) {
	years := make([]int, 0, len(invKeys))
	for y := range invKeys {
		years = append(years, y)
	}
	if len(years) == 0 {
		return
	}
	sort.Sort(sort.Reverse(sort.IntSlice(years)))
	ks := invKeys[years[0]]
	sort.Strings(ks) // inventory.json before inventory.json.age
	key := ks[0]
	inv, err := fetchInventory(ctx, opts, key, ids)
	switch {
	case errors.Is(err, errNeedIdentity):
		rr.warnf("the inventory in the store (%s) is encrypted; add --identity FILE to check matches against it", key)
	case err != nil:
		rr.warnf("%s: %v; matches are not checked against it", key, err)
	default:
		rr.inv, rr.invKey = inv, key
	}
}

var errNeedIdentity = errors.New("encrypted, and no identity given")

// fetchOne copies one manifest into dst, decrypting it when its key ends
// in .age. It reports whether it decrypted.
func fetchOne(ctx context.Context, opts Options, key, dst string, ids []age.Identity) (bool, error) {
	rc, err := opts.Store.Get(ctx, key, 0, -1)
	if err != nil {
		return false, err
	}
	defer rc.Close()
	var r io.Reader = rc
	mode := fs.FileMode(0o644)
	enc := layout.IsSealed(key)
	if enc {
		if r, err = age.Decrypt(rc, ids...); err != nil {
			return false, decryptError(opts.Identity, err)
		}
		mode = 0o600 // it names what an encrypted bag holds
	}
	tmp := layout.Partial(dst)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return false, err
	}
	_, err = io.Copy(f, r)
	if err != nil && enc {
		err = decryptError(opts.Identity, err)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return false, err
	}
	return enc, nil
}

func decryptError(identity string, err error) error {
	var nm *age.NoIdentityMatchError
	if errors.As(err, &nm) {
		return fmt.Errorf("cannot decrypt it with %s (encrypted to other keys)", identity)
	}
	return fmt.Errorf("cannot decrypt it with %s: %v", identity, err)
}

// fetchInventory reads an inventory copy from the store.
func fetchInventory(ctx context.Context, opts Options, key string, ids []age.Identity) (*inventory.Inventory, error) {
	enc := layout.IsSealed(key)
	if enc && len(ids) == 0 {
		return nil, errNeedIdentity
	}
	rc, err := opts.Store.Get(ctx, key, 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var r io.Reader = rc
	if enc {
		if r, err = age.Decrypt(rc, ids...); err != nil {
			return nil, decryptError(opts.Identity, err)
		}
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, maxInventory)); err != nil {
		if enc {
			return nil, decryptError(opts.Identity, err)
		}
		return nil, err
	}
	return inventory.Parse(key, buf.Bytes())
}
