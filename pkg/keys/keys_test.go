package keys_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/keys"
)

const secretKey = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ7DH84V"

func write(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func newIdentity(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestLoadRecipients(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	pa, pb := a.Recipient().String(), b.Recipient().String()
	tests := []struct {
		name    string
		content string
		want    int    // recipients; 0: an error is expected
		errLine int    // line the error names
		errMsg  string // part of the error
	}{
		{name: "one", content: pa + "\n", want: 1},
		{name: "comments, blanks, duplicates, CRLF", content: "# mine\n\n" + pa + "\r\n  " + pb + "  \n" + pa + "\n", want: 2},
		{name: "no final newline", content: pb, want: 1},
		{name: "empty", content: "# nothing\n\n", errMsg: "holds no public keys"},
		{name: "a secret key", content: pa + "\n" + secretKey + "\n", errLine: 2, errMsg: "is a secret key"},
		{name: "post-quantum", content: "age1pq1abcdef\n", errLine: 1, errMsg: "post-quantum"},
		{name: "ssh", content: "ssh-ed25519 AAAAC3Nza me@host\n", errLine: 1, errMsg: "SSH key"},
		{name: "garbage", content: pa + "\n\nhello world\n", errLine: 3, errMsg: "not an age public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, t.TempDir(), "recipients.txt", tt.content, 0o644)
			k, err := keys.LoadRecipients(p)
			if tt.want == 0 {
				var ce *config.Error
				if !errors.As(err, &ce) || ce.File != p || ce.Line != tt.errLine || !strings.Contains(ce.Msg, tt.errMsg) {
					t.Fatalf("error %#v, want line %d %q", err, tt.errLine, tt.errMsg)
				}
				if strings.Contains(err.Error(), secretKey[15:]) {
					t.Fatalf("error repeats a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(k.Recipients) != tt.want || k.Scheme != keys.X25519 || !strings.HasPrefix(k.ID, "age-x25519:") || len(k.ID) != len("age-x25519:")+16 {
				t.Fatalf("keys %+v", k)
			}
		})
	}
}

// The ID depends on the set of public keys, not their order, so reordering
// recipients.txt re-packs nothing, and adding a key re-packs everything.
func TestIDFollowsTheKeySet(t *testing.T) {
	dir := t.TempDir()
	a, b, c := newIdentity(t).Recipient().String(), newIdentity(t).Recipient().String(), newIdentity(t).Recipient().String()
	id := func(content string) string {
		k, err := keys.LoadRecipients(write(t, dir, "r.txt", content, 0o644))
		if err != nil {
			t.Fatal(err)
		}
		return k.ID
	}
	if id(a+"\n"+b+"\n") != id("# swapped\n"+b+"\n"+a+"\n") {
		t.Error("order changed the ID")
	}
	if id(a+"\n"+b+"\n") == id(a+"\n"+b+"\n"+c+"\n") {
		t.Error("a new key left the ID unchanged")
	}
}

func TestLoadPassphrase(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		errMsg  string
	}{
		{name: "seed style, echo adds a newline", content: "correct horse\n", mode: 0o600},
		{name: "no newline", content: "correct horse", mode: 0o400},
		{name: "CRLF", content: "correct horse\r\n", mode: 0o600},
		{name: "group readable", content: "correct horse\n", mode: 0o640, errMsg: "readable by others (mode 0640)"},
		{name: "world readable", content: "correct horse\n", mode: 0o604, errMsg: "readable by others"},
		{name: "empty", content: "\nsecond line\n", mode: 0o600, errMsg: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, t.TempDir(), "key.txt", tt.content, tt.mode)
			k, err := keys.LoadPassphrase(p)
			if tt.errMsg != "" {
				var ce *config.Error
				if !errors.As(err, &ce) || !strings.Contains(ce.Msg, tt.errMsg) {
					t.Fatalf("error %v, want %q", err, tt.errMsg)
				}
				if strings.Contains(err.Error()+ce.Hint, "horse") || strings.Contains(err.Error(), "second") {
					t.Fatalf("error repeats the passphrase: %v", err)
				}
				if strings.Contains(tt.errMsg, "readable") && ce.Hint != "chmod 600 "+p {
					t.Fatalf("hint %q", ce.Hint)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.ID != keys.Scrypt || len(k.Recipients) != 0 || strings.Contains(k.Describe(), "horse") {
				t.Fatalf("keys %+v", k)
			}
			// What it encrypts opens with the passphrase alone.
			ct, err := k.EncryptBytes([]byte("hello"))
			if err != nil {
				t.Fatal(err)
			}
			id, _ := age.NewScryptIdentity("correct horse")
			r, err := age.Decrypt(bytes.NewReader(ct), id)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := io.ReadAll(r); string(b) != "hello" {
				t.Fatalf("got %q", b)
			}
		})
	}
}

func TestLoadChooses(t *testing.T) {
	dir := t.TempDir()
	id := newIdentity(t)
	rf := filepath.Join(dir, "recipients.txt")
	kf := filepath.Join(dir, "key.txt")

	if _, _, err := keys.Load(rf, kf); err == nil || !strings.Contains(err.Error(), "there is no") || !config.IsConfigError(err) {
		t.Fatalf("no files: %v", err)
	}
	write(t, dir, "key.txt", "pw\n", 0o600)
	k, note, err := keys.Load(rf, kf)
	if err != nil || k.Scheme != keys.Scrypt || note != "" {
		t.Fatalf("passphrase only: %+v %q %v", k, note, err)
	}
	write(t, dir, "recipients.txt", id.Recipient().String()+"\n", 0o644)
	k, note, err = keys.Load(rf, kf)
	if err != nil || k.Scheme != keys.X25519 || !strings.Contains(note, "is not used") {
		t.Fatalf("both: %+v %q %v", k, note, err)
	}
	// Encrypted to the recipients, opened by the identity file.
	idFile := write(t, dir, "identity.txt", id.String()+"\n", 0o600)
	ids, err := keys.Identities(idFile)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := k.Encrypt(&buf)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "content")
	w.Close()
	r, err := age.Decrypt(&buf, ids...)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "content" {
		t.Fatalf("got %q", b)
	}
	os.Chmod(idFile, 0o644)
	if _, err := keys.Identities(idFile); err == nil || strings.Contains(err.Error(), "AGE-SECRET") {
		t.Fatalf("a readable identity file: %v", err)
	}
}

func TestGenerate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "id.txt")
	pub, err := keys.Generate(p, "2026-11-22T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file %v %v", fi.Mode(), err)
	}
	ids, err := keys.Identities(p)
	if err != nil || len(ids) != 1 || ids[0].(*age.X25519Identity).Recipient().String() != pub {
		t.Fatalf("identities %v %v", ids, err)
	}
	before, _ := os.ReadFile(p)
	if _, err := keys.Generate(p, "later"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second generate: %v", err)
	}
	if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
		t.Fatal("an existing identity was replaced")
	}
}
