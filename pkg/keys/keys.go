// Package keys is what encrypted bags are encrypted to: age X25519
// recipients (public keys only, so the machine that runs the backup holds
// no secret) or, seed-compatible, a passphrase in key.txt (age's scrypt
// mode). Everything a record, a log line or an error may show comes from
// Keys.Scheme, Keys.Recipients and Keys.ID; the passphrase never leaves
// this package.
package keys

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"filippo.io/age"
	"github.com/gbarchive/gb/pkg/config"
)

// Schemes.
const (
	X25519 = "age-x25519"
	Scrypt = "age-scrypt"
)

// Keys are the recipients of encrypted bags, manifests and system files.
type Keys struct {
	Scheme     string   // X25519 or Scrypt
	Recipients []string // X25519 public keys, sorted; empty for Scrypt
	File       string   // where they were read
	// ID names the keys in records and the inventory, so that a change of
	// keys makes atoms dirty: "age-x25519:" and 16 hex digits of the
	// SHA-256 of the sorted public keys, or "age-scrypt". A passphrase
	// leaves no trace, not even a hash of it.
	ID    string
	recip []age.Recipient
}

// Error is a problem with a key file a person wrote; commands exit 2.
type Error = config.Error

// Load reads the recipients file when it exists, else the passphrase file.
// note, when not empty, is a line for stderr saying which one is used
// while both exist.
func Load(recipientsFile, keyFile string) (k *Keys, note string, err error) {
	_, rerr := os.Stat(recipientsFile)
	_, kerr := os.Stat(keyFile)
	switch {
	case recipientsFile != "" && rerr == nil:
		k, err = LoadRecipients(recipientsFile)
		if err == nil && keyFile != "" && kerr == nil {
			note = fmt.Sprintf("encrypting to the public keys in %s; the passphrase in %s is not used", recipientsFile, keyFile)
		}
		return k, note, err
	case keyFile != "" && kerr == nil:
		k, err = LoadPassphrase(keyFile)
		return k, "", err
	}
	return nil, "", &Error{Msg: fmt.Sprintf("encryption is asked for, but there is no %s and no %s", recipientsFile, keyFile),
		Hint: "create a key pair with `gb-keygen -o ~/gb-identity.txt >> " + recipientsFile + "` and keep the identity off this machine, or put a passphrase in " + keyFile + " and chmod 600 it"}
}

// LoadRecipients reads age X25519 public keys, one per line; blank lines
// and # comments are skipped.
func LoadRecipients(path string) (*Keys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrap(err))}
	}
	defer f.Close()
	k := &Keys{Scheme: X25519, File: path}
	seen := map[string]bool{}
	r := bufio.NewReader(f)
	for no := 1; ; no++ {
		line, rerr := r.ReadString('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", rerr)}
		}
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			rc, perr := parseRecipient(t)
			if perr != nil {
				return nil, &Error{File: path, Line: no, Msg: perr.Error(), Hint: "each line holds one age public key (age1…), as printed by gb-keygen or age-keygen -y"}
			}
			if !seen[t] {
				seen[t] = true
				k.Recipients = append(k.Recipients, t)
				k.recip = append(k.recip, rc)
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	if len(k.recip) == 0 {
		return nil, &Error{File: path, Msg: "holds no public keys", Hint: "add a line with an age public key (age1…), as printed by gb-keygen"}
	}
	sort.Strings(k.Recipients)
	sum := sha256.Sum256([]byte(strings.Join(k.Recipients, "\n")))
	k.ID = X25519 + ":" + hex.EncodeToString(sum[:8])
	return k, nil
}

func parseRecipient(s string) (age.Recipient, error) {
	switch {
	case strings.HasPrefix(s, "AGE-SECRET-KEY-"):
		// Never echo it back.
		return nil, errors.New("this is a secret key (AGE-SECRET-KEY-…), not a public key: the file must hold public keys only, and the secret key belongs off this machine")
	case strings.HasPrefix(s, "age1pq"):
		// Post-quantum recipients need age 1.3; Debian's age 1.1.1 could not
		// open the bags.
		return nil, errors.New("this is a post-quantum key, which age 1.1.1 (Debian's) cannot decrypt; use an X25519 key (age1…)")
	case strings.HasPrefix(s, "ssh-"):
		return nil, errors.New("this is an SSH key; gb encrypts only to age X25519 keys (age1…)")
	}
	r, err := age.ParseX25519Recipient(s)
	if err != nil {
		return nil, fmt.Errorf("not an age public key: %q", short(s))
	}
	return r, nil
}

func short(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// LoadPassphrase reads a seed-style key.txt: the passphrase is the first
// line, without its line ending. The file must not be readable by group or
// others.
func LoadPassphrase(path string) (*Keys, error) {
	pass, err := readSecret(path)
	if err != nil {
		return nil, err
	}
	line, _, _ := strings.Cut(string(pass), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return nil, &Error{File: path, Msg: "the passphrase (first line) is empty", Hint: "write the passphrase on the first line"}
	}
	r, err := age.NewScryptRecipient(line)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot use the passphrase"}
	}
	return &Keys{Scheme: Scrypt, File: path, ID: Scrypt, recip: []age.Recipient{r}}, nil
}

// readSecret reads a file holding a secret, refusing one that group or
// others may read: a passphrase or identity another account can read is
// not a secret any more.
func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrap(err))}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrap(err))}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, &Error{File: path, Msg: fmt.Sprintf("holds a secret but is readable by others (mode %04o)", fi.Mode().Perm()), Hint: "chmod 600 " + path}
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", err)}
	}
	return b, nil
}

// Encrypt returns a writer whose bytes reach w encrypted to the keys; Close
// finishes the age stream (it does not close w).
func (k *Keys) Encrypt(w io.Writer) (io.WriteCloser, error) {
	return age.Encrypt(w, k.recip...)
}

// EncryptBytes encrypts a small file's content.
func (k *Keys) EncryptBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := k.Encrypt(&buf)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DecryptCommand is the stock age command line that decrypts file with
// these keys.
func (k *Keys) DecryptCommand(file string) string {
	if k.Scheme == Scrypt {
		return "age -d " + file
	}
	return "age -d -i IDENTITY_FILE " + file
}

// Describe is a short human description, without secrets.
func (k *Keys) Describe() string {
	if k.Scheme == Scrypt {
		return "the passphrase in " + k.File
	}
	if len(k.Recipients) == 1 {
		return "1 public key from " + k.File
	}
	return fmt.Sprintf("%d public keys from %s", len(k.Recipients), k.File)
}

// Identities reads what decrypts: an age identity file (AGE-SECRET-KEY-1…
// lines) or a seed-style passphrase file. Either must be private to its
// owner.
func Identities(path string) ([]age.Identity, error) {
	b, err := readSecret(path)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(b, []byte("AGE-SECRET-KEY-")) {
		ids, err := age.ParseIdentities(bytes.NewReader(b))
		if err != nil {
			return nil, &Error{File: path, Msg: "is not a valid age identity file", Hint: "use the file gb-keygen or age-keygen wrote"}
		}
		return ids, nil
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return nil, &Error{File: path, Msg: "holds neither an age identity nor a passphrase"}
	}
	id, err := age.NewScryptIdentity(line)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot use the passphrase"}
	}
	return []age.Identity{id}, nil
}

// Generate writes a new X25519 identity to path (mode 0600, refusing to
// replace a file) and returns its public key.
func Generate(path string, created string) (string, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", &Error{File: path, Msg: "already exists; not replacing an identity", Hint: "choose another file name, or print its public key with: age-keygen -y " + path}
		}
		return "", &Error{File: path, Msg: fmt.Sprintf("cannot create: %v", unwrap(err))}
	}
	pub := id.Recipient().String()
	_, werr := fmt.Fprintf(f, "# created: %s\n# public key: %s\n%s\n", created, pub, id.String())
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return "", werr
	}
	return pub, nil
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
