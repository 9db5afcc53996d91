package recovery_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/recovery"
)

// The rewritten glacier.cfg points at the recovered directory and the
// destination, keeps everything else, and is one gb reads without error.
func TestConfig(t *testing.T) {
	stored := "# mine\n[pricing]\nprice_gb_month = 0.002\n\n[settings]\ns3_bucket = old\ntarget_bag_gb = 0.5\nstaging_dir = /home/me/stage\nManifest_Dir: /home/me/man\ns3_endpoint = http://old:9000\ncompress = none\n"
	tests := []struct {
		name string
		opts recovery.Options
		want []string
		not  []string
	}{
		{"paths and destination replaced", recovery.Options{Dest: "s3://new/arch"},
			[]string{"dest = s3://new/arch", "staging_dir = stage", "manifest_dir = manifests", "target_bag_gb = 0.5", "compress = none", "s3_endpoint = http://old:9000", "[pricing]", "price_gb_month = 0.002"},
			[]string{"s3_bucket", "/home/me", "Manifest_Dir"}},
		{"a new endpoint", recovery.Options{Dest: "s3://new/arch", S3Endpoint: "http://new:9000"},
			[]string{"s3_endpoint = http://new:9000"}, []string{"http://old:9000"}},
		{"no stored config", recovery.Options{Dest: "file:///srv/archive"},
			[]string{"dest = file:///srv/archive", "inventory_file = inventory.json"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(stored)
			if strings.HasPrefix(tt.name, "no stored") {
				in = nil
			}
			got := string(recovery.Config(in, tt.opts))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("still has %q:\n%s", n, got)
				}
			}
			dir := t.TempDir()
			p := filepath.Join(dir, "glacier.cfg")
			if err := os.WriteFile(p, []byte(got), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := config.LoadFile(p); err != nil {
				t.Fatalf("gb cannot read it: %v\n%s", err, got)
			}
		})
	}
}
