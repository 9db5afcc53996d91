// Package inventory is gb's database: which atom lives in which bag, and
// what every bag is. It is read by gb-plan and written only by gb-commit,
// always atomically, so a crash at any moment leaves either the old or the
// new file, never a torn one.
package inventory

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gbarchive/gb/pkg/layout"
	"golang.org/x/sys/unix"
)

// Version is the inventory format this gb writes.
const Version = 1

// Inventory is inventory.json.
type Inventory struct {
	Version int                `json:"version"`
	NextBag int                `json:"next_bag"`
	Atoms   map[string]*Atom   `json:"atoms"`
	Bags    map[string]*Bag    `json:"bags"`
	Sources map[string]*Source `json:"sources"`
	Runs    []Run              `json:"runs"`
}

// Atom is one unit of change detection and restore. Its map key is its
// path (the loose-files atom: the source path with a trailing "/"); a path
// that is not valid UTF-8 is keyed "b64:" + base64 of its bytes.
type Atom struct {
	Source           string    `json:"source"`
	Type             string    `json:"type"`
	LastMetadataHash string    `json:"last_metadata_hash"`
	TarID            string    `json:"tar_id"`      // first bag, as the seed names it
	ArchiveKey       string    `json:"archive_key"` // first bag's key
	Bags             []string  `json:"bags"`
	Pinned           bool      `json:"pinned"`
	Files            int64     `json:"files"`
	Bytes            int64     `json:"bytes"`
	FirstSeen        time.Time `json:"first_seen"`
	LastSeen         time.Time `json:"last_seen"`
	PackedAt         time.Time `json:"packed_at"`
	Incomplete       bool      `json:"incomplete,omitempty"` // some files could not be read; re-packed next run
	Encrypt          bool      `json:"encrypt,omitempty"`    // its bags are age-encrypted
	Keys             string    `json:"keys,omitempty"`       // the keys' ID (see package keys)
	// GoneSince is the first run that found the atom missing from disk;
	// it is forgotten keep_deleted_days later. Zero while it is on disk.
	GoneSince time.Time `json:"gone_since,omitzero"`
}

// Bag is one stored object.
type Bag struct {
	Key          string    `json:"key"`
	Source       string    `json:"source"`
	Bytes        int64     `json:"bytes"`
	SHA256       string    `json:"sha256"`
	StorageClass string    `json:"storage_class"`
	UploadedAt   time.Time `json:"uploaded_at"`
	Compress     string    `json:"compress"`
	Files        int64     `json:"files"`
	Atoms        []string  `json:"atoms"`
	ManifestKey  string    `json:"manifest_key"`
	Encrypt      bool      `json:"encrypt,omitempty"`
	Keys         string    `json:"keys,omitempty"`
	RetiredAt    time.Time `json:"retired_at,omitzero"` // no atom refers to it any more
}

// Source remembers a list.txt line.
type Source struct {
	Mode      string    `json:"mode"`
	Encrypt   bool      `json:"encrypt"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Run is one commit.
type Run struct {
	At          time.Time `json:"at"`
	DryRun      bool      `json:"dry_run,omitempty"`
	BagsAdded   int       `json:"bags_added"`
	BytesAdded  int64     `json:"bytes_added"`
	AtomsPacked int       `json:"atoms_packed"`
	AtomsKept   int       `json:"atoms_kept"`
	Forgotten   int       `json:"atoms_forgotten"`
	Pending     int       `json:"atoms_pending"`
}

// UsesEncryption reports whether any source or atom is encrypted: then
// the inventory itself names secrets and is stored encrypted.
func (inv *Inventory) UsesEncryption() bool {
	for _, s := range inv.Sources {
		if s.Encrypt {
			return true
		}
	}
	for _, a := range inv.Atoms {
		if a.Encrypt {
			return true
		}
	}
	return false
}

// New returns an empty inventory.
func New() *Inventory {
	return &Inventory{Version: Version, NextBag: 1, Atoms: map[string]*Atom{}, Bags: map[string]*Bag{}, Sources: map[string]*Source{}}
}

// Error is a damaged inventory file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// HintText says what to do.
func (e *Error) HintText() string {
	return "restore the newest copy from inventory_bak_dir (or " + layout.SystemDirPattern + " in the store) and run again"
}

// Load reads an inventory; a missing file is an empty inventory.
func Load(path string) (*Inventory, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return New(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	return Parse(path, b)
}

// Parse decodes inventory bytes; errors name the line.
func Parse(name string, b []byte) (*Inventory, error) {
	inv := New()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(inv); err != nil {
		off := dec.InputOffset()
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			off = se.Offset
		case errors.As(err, &te):
			off = te.Offset
		case errors.Is(err, io.ErrUnexpectedEOF):
			off = int64(len(bytes.TrimRight(b, " \t\r\n")))
		default:
			// Unknown fields and errors from a field's own decoder (a
			// bad time) carry no offset: find the first bad key or value.
			if o := firstBad(json.NewDecoder(bytes.NewReader(b)), b, reflect.TypeOf(inv)); o >= 0 {
				off = o
			}
		}
		msg := err.Error()
		if err == io.EOF {
			msg = "empty file"
		}
		return nil, &Error{File: name, Line: lineAt(b, off), Msg: "not a valid inventory: " + strings.TrimPrefix(msg, "json: ")}
	}
	if dec.More() {
		return nil, &Error{File: name, Line: lineAt(b, dec.InputOffset()), Msg: "not a valid inventory: data after the JSON object"}
	}
	if inv.Version > Version {
		return nil, &Error{File: name, Msg: fmt.Sprintf("inventory version %d is newer than this gb understands (%d)", inv.Version, Version)}
	}
	if inv.Atoms == nil {
		inv.Atoms = map[string]*Atom{}
	}
	if inv.Bags == nil {
		inv.Bags = map[string]*Bag{}
	}
	if inv.Sources == nil {
		inv.Sources = map[string]*Source{}
	}
	for k, a := range inv.Atoms {
		if a == nil {
			return nil, &Error{File: name, Msg: fmt.Sprintf("atom %q is null", k)}
		}
		for _, id := range a.Bags {
			if inv.Bags[id] == nil {
				return nil, &Error{File: name, Msg: fmt.Sprintf("atom %q refers to bag %s, which the inventory does not have", k, id)}
			}
		}
	}
	for id, bg := range inv.Bags {
		if bg == nil {
			return nil, &Error{File: name, Msg: fmt.Sprintf("bag %q is null", id)}
		}
		n, err := ParseBagID(id)
		if err != nil {
			return nil, &Error{File: name, Msg: err.Error()}
		}
		if n >= inv.NextBag {
			inv.NextBag = n + 1
		}
	}
	if inv.NextBag < 1 {
		inv.NextBag = 1
	}
	return inv, nil
}

// firstBad reads one JSON value meant for type t (nil: anything) and
// returns the offset of its first key that t does not have or first value
// that does not decode into its type, or -1.
func firstBad(dec *json.Decoder, b []byte, t reflect.Type) int64 {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	start := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		return -1
	}
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return -1
			}
			var vt reflect.Type
			switch {
			case t == nil:
			case t.Kind() == reflect.Map:
				vt = t.Elem()
			case t.Kind() == reflect.Struct:
				if vt = fieldType(t, fmt.Sprint(key)); vt == nil {
					return dec.InputOffset()
				}
			}
			if off := firstBad(dec, b, vt); off >= 0 {
				return off
			}
		}
		dec.Token()
		return -1
	case json.Delim('['):
		var et reflect.Type
		if t != nil && t.Kind() == reflect.Slice {
			et = t.Elem()
		}
		for dec.More() {
			if off := firstBad(dec, b, et); off >= 0 {
				return off
			}
		}
		dec.Token()
		return -1
	}
	end := dec.InputOffset()
	if t != nil && json.Unmarshal(bytes.TrimLeft(b[start:end], " \t\r\n,:"), reflect.New(t).Interface()) != nil {
		return end
	}
	return -1
}

// fieldType is the type of the struct field JSON decodes key into, or nil.
func fieldType(t reflect.Type, key string) reflect.Type {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		if f.IsExported() && name != "-" && strings.EqualFold(name, key) {
			return f.Type
		}
	}
	return nil
}

func lineAt(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return bytes.Count(b[:off], []byte("\n")) + 1
}

// BagID formats a bag number.
func BagID(n int) string { return fmt.Sprintf("bag_%06d", n) }

// ParseBagID reads "bag_000042".
func ParseBagID(id string) (int, error) {
	digits, ok := strings.CutPrefix(id, "bag_")
	n, err := strconv.Atoi(digits)
	// Only digits: Sscanf would take "bag_1x" or "bag_ 1" for bag 1.
	if !ok || err != nil || n <= 0 || strings.Trim(digits, "0123456789") != "" {
		return 0, fmt.Errorf("bad bag id %q (want bag_000001)", id)
	}
	return n, nil
}

// Referenced returns the set of bags some atom refers to.
func (inv *Inventory) Referenced() map[string]bool {
	ref := map[string]bool{}
	for _, a := range inv.Atoms {
		for _, id := range a.Bags {
			ref[id] = true
		}
	}
	return ref
}

// SortedBagIDs returns bag ids in order.
func (inv *Inventory) SortedBagIDs() []string {
	ids := make([]string, 0, len(inv.Bags))
	for id := range inv.Bags {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Marshal encodes the inventory (indented, keys sorted, so diffs are
// readable and jq works).
func (inv *Inventory) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Save writes the inventory atomically: a temp file beside it, fsync,
// rename, fsync the directory.
func (inv *Inventory) Save(path string) error {
	b, err := inv.Marshal()
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, b, 0o600)
}

// WriteFileAtomic replaces path with data so that readers and crashes see
// the old or the new content, never a mix.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, layout.TempPattern(filepath.Base(path)))
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return SyncDir(dir)
}

// SyncDir makes a rename in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return nil
}

// BackupDaily copies the current inventory file into dir as
// inventory-YYYY-MM-DD.json unless today's copy exists: one dated backup a
// day, taken before the first change of the day.
func BackupDaily(path, dir string, now time.Time) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, "inventory-"+now.Format("2006-01-02")+".json")
	if _, err := os.Stat(dst); err == nil {
		return "", nil
	}
	return dst, WriteFileAtomic(dst, b, 0o600)
}

// Lock holds an exclusive lock beside the inventory so two commits never
// interleave. It fails at once when another process holds it.
type Lock struct{ f *os.File }

// Acquire takes the lock file path+".lock".
func Acquire(path string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	lp := path + ".lock"
	f, err := os.OpenFile(lp, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is locked by another gb-commit; wait for it to finish", lp)
		}
		return nil, fmt.Errorf("lock %s: %w", lp, err)
	}
	return &Lock{f: f}, nil
}

// Release drops the lock.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
		l.f.Close()
	}
}

// KeyOf is the inventory key for an atom path: the path itself when it is
// valid UTF-8 (JSON object keys must be), else "b64:" and its bytes in
// base64. Sources are absolute paths, so a real path never starts "b64:".
func KeyOf(p string) string {
	if utf8.ValidString(p) {
		return p
	}
	return "b64:" + base64.StdEncoding.EncodeToString([]byte(p))
}

// PathOf reverses KeyOf.
func PathOf(key string) string {
	if rest, ok := strings.CutPrefix(key, "b64:"); ok {
		if b, err := base64.StdEncoding.DecodeString(rest); err == nil {
			return string(b)
		}
	}
	return key
}
