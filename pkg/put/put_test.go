package put_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/put"
	"github.com/gbarchive/gb/pkg/store"
)

// gb-put draws a bar per bag when asked (always), filled by the store as
// it stores the bytes, and nothing but its summary otherwise.
func TestProgress(t *testing.T) {
	for _, mode := range []string{"always", "auto", "never"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "store"), 0o755)
			st, err := store.NewLocal(filepath.Join(dir, "store"), store.LocalOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var in bytes.Buffer
			for i := 1; i <= 2; i++ {
				b := bytes.Repeat([]byte{byte(i)}, 3<<20)
				f := filepath.Join(dir, fmt.Sprintf("bag_%06d.tar", i))
				m := f + ".manifest.ndjson"
				os.WriteFile(f, b, 0o600)
				os.WriteFile(m, []byte("{}\n"), 0o600)
				sum := sha256.Sum256(b)
				fmt.Fprintf(&in, `{"kind":"packed","bag":"bag_%06d","key":"2026-backup/bag_%06d.tar","file":%q,"bytes":%d,"sha256":%q,"manifest":%q,"manifest_key":"2026-backup/manifests/bag_%06d.manifest.ndjson"}`+"\n",
					i, i, f, len(b), hex.EncodeToString(sum[:]), m, i)
			}
			in.WriteString(`{"kind":"pack","status":"ok","bags":2}` + "\n")
			var out, errOut bytes.Buffer
			if err := put.Run(context.Background(), &in, &out, &errOut, put.Options{Store: st, Progress: mode}); err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			e := errOut.String()
			if !strings.Contains(e, "gb-put: 2 bags stored") {
				t.Fatalf("no summary:\n%s", e)
			}
			bars := strings.Contains(e, "bag_000002 [") && strings.Contains(e, "100 %") && strings.Contains(e, "3.1 MB / 3.1 MB")
			if bars != (mode == "always") {
				t.Fatalf("%s: bars drawn %v:\n%q", mode, bars, e)
			}
			if mode != "always" && strings.ContainsAny(e, "\r\x1b") {
				t.Fatalf("%s: escapes on stderr:\n%q", mode, e)
			}
		})
	}
}
