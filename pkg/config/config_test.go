package config_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/cost"
)

// defaults is Settings as kong fills it with no flags, env or file.
func defaults() config.Settings {
	return config.Settings{TargetBagGB: 40, Compress: "zstd", StagingLimitGB: -1, MinRetentionDays: 180,
		PriceGBMonth: 0.00099, PricePut1k: 0.05, PriceEgressGB: 0.09, PriceThawStandardGB: 0.02,
		PriceThawBulkGB: 0.0025, PriceReqStandard1k: 0.10, PriceReqBulk1k: 0.025}
}

func TestFinishStateDir(t *testing.T) {
	home := t.TempDir()
	xdg := t.TempDir()
	cwd := t.TempDir()
	tests := []struct {
		name     string
		xdg      string
		home     string
		stateDir string
		want     string
		wantErr  bool
	}{
		{name: "XDG_STATE_HOME", xdg: xdg, home: home, want: filepath.Join(xdg, "gb")},
		{name: "HOME", home: home, want: filepath.Join(home, ".local", "state", "gb")},
		{name: "explicit wins", xdg: xdg, home: home, stateDir: "/srv/gb", want: "/srv/gb"},
		{name: "explicit relative made absolute", home: home, stateDir: "rel/state", want: filepath.Join(cwd, "rel", "state")},
		{name: "explicit cleaned", home: home, stateDir: "/srv//gb/", want: "/srv/gb"},
		{name: "neither", wantErr: true},
		{name: "explicit without HOME", stateDir: "/srv/gb", want: "/srv/gb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(cwd)
			t.Setenv("XDG_STATE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			s := defaults()
			s.StateDir = tt.stateDir
			err := s.Finish()
			if tt.wantErr {
				var ce *config.Error
				if !errors.As(err, &ce) {
					t.Fatalf("error %v, want *config.Error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.StateDir != tt.want {
				t.Errorf("StateDir = %q, want %q", s.StateDir, tt.want)
			}
			derived := map[string]string{
				"StagingDir":      s.StagingDir,
				"ManifestDir":     s.ManifestDir,
				"InventoryFile":   s.InventoryFile,
				"InventoryBakDir": s.InventoryBakDir,
			}
			wantDerived := map[string]string{
				"StagingDir":      filepath.Join(tt.want, "stage"),
				"ManifestDir":     filepath.Join(tt.want, "manifests"),
				"InventoryFile":   filepath.Join(tt.want, "inventory.json"),
				"InventoryBakDir": filepath.Join(tt.want, "invbak"),
			}
			for k, v := range wantDerived {
				if derived[k] != v {
					t.Errorf("%s = %q, want %q", k, derived[k], v)
				}
			}
		})
	}
}

func TestFinishKeepsExplicitDirs(t *testing.T) {
	s := defaults()
	s.StateDir = "/state"
	s.StagingDir = "/fast/stage"
	s.InventoryFile = "/safe/inv.json"
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	if s.StagingDir != "/fast/stage" || s.InventoryFile != "/safe/inv.json" {
		t.Errorf("explicit paths changed: %q %q", s.StagingDir, s.InventoryFile)
	}
	if s.ManifestDir != "/state/manifests" || s.InventoryBakDir != "/state/invbak" {
		t.Errorf("derived paths: %q %q", s.ManifestDir, s.InventoryBakDir)
	}
}

func TestFinishChecks(t *testing.T) {
	tests := []struct {
		name    string
		target  float64
		dest    string
		bucket  string
		ssh     string
		wantErr string // substring; "" for success
	}{
		{name: "default target", target: 40},
		{name: "small test target", target: 0.002},
		{name: "exactly 100 kB", target: 0.0001},
		{name: "zero target", target: 0, wantErr: "target_bag_gb must be above 0"},
		{name: "negative target", target: -1, wantErr: "target_bag_gb must be above 0"},
		{name: "below 100 kB", target: 0.00005, wantErr: "below 100 kB"},
		{name: "dest only", target: 1, dest: "file:///tmp/store"},
		{name: "bucket only", target: 1, bucket: "b"},
		{name: "dest is the bucket", target: 1, dest: "s3://b", bucket: "b"},
		{name: "dest is a prefix in the bucket", target: 1, dest: "s3://b/gb/prefix", bucket: "b"},
		{name: "dest is another bucket", target: 1, dest: "s3://other", bucket: "b", wantErr: "disagree"},
		{name: "dest bucket shares a prefix", target: 1, dest: "s3://bb", bucket: "b", wantErr: "disagree"},
		{name: "dest bucket longer name with slash", target: 1, dest: "s3://bb/x", bucket: "b", wantErr: "disagree"},
		{name: "dest is local", target: 1, dest: "file:///srv/store", bucket: "b", wantErr: "disagree"},
		{name: "ssh command", target: 1, ssh: "ssh -F /etc/gb/ssh_config"},
		{name: "ssh command with a comma", target: 1, ssh: "ssh -o Ciphers=a,b", wantErr: "holds a comma"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := defaults()
			s.StateDir = "/state"
			s.TargetBagGB, s.Dest, s.S3Bucket = tt.target, tt.dest, tt.bucket
			if tt.ssh != "" {
				s.SSHCommand = tt.ssh
			}
			err := s.Finish()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *config.Error
			if !errors.As(err, &ce) || !strings.Contains(ce.Msg, tt.wantErr) {
				t.Fatalf("error %v, want a *config.Error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDestURL(t *testing.T) {
	tests := []struct {
		dest, bucket string
		want         string
		isDefault    bool
	}{
		{"", "", "file:///state/store", true},
		{"", "greenc-bucket", "s3://greenc-bucket", false},
		{"s3://b/p", "", "s3://b/p", false},
		{"s3://b/p", "b", "s3://b/p", false},
		{"file:///x", "", "file:///x", false},
	}
	for _, tt := range tests {
		s := config.Settings{StateDir: "/state", Dest: tt.dest, S3Bucket: tt.bucket}
		got, isDef := s.DestURL()
		if got != tt.want || isDef != tt.isDefault {
			t.Errorf("DestURL(dest %q, bucket %q) = %q, %v; want %q, %v", tt.dest, tt.bucket, got, isDef, tt.want, tt.isDefault)
		}
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		target, limit      float64
		wantTarget, wantLm int64
	}{
		{40, -1, 40e9, 80e9},
		{0.002, -1, 2e6, 4e6},
		{40, 0, 40e9, 0},
		{40, 100, 40e9, 100e9},
		{1.5, 2.25, 1.5e9, 2.25e9},
	}
	for _, tt := range tests {
		s := config.Settings{TargetBagGB: tt.target, StagingLimitGB: tt.limit}
		if got := s.TargetBytes(); got != tt.wantTarget {
			t.Errorf("TargetBytes(%v) = %d, want %d", tt.target, got, tt.wantTarget)
		}
		if got := s.StagingLimitBytes(); got != tt.wantLm {
			t.Errorf("StagingLimitBytes(%v, %v) = %d, want %d", tt.target, tt.limit, got, tt.wantLm)
		}
	}
}

func TestSideFile(t *testing.T) {
	tests := []struct {
		name               string
		config, configured string
		list               string
		want               string
		explicit           bool
	}{
		{name: "configured", configured: "/x/ex.txt", config: "/etc/gb/glacier.cfg", list: "/l/list.txt", want: "/x/ex.txt", explicit: true},
		{name: "beside config", config: "/etc/gb/glacier.cfg", list: "/l/list.txt", want: "/etc/gb/exclude.txt"},
		{name: "beside list", list: "/l/list.txt", want: "/l/exclude.txt"},
		{name: "relative list", list: "list.txt", want: "exclude.txt"},
		{name: "nothing", want: "exclude.txt"},
	}
	for _, tt := range tests {
		s := config.Settings{Config: tt.config}
		got, explicit := s.SideFile(tt.configured, "exclude.txt", tt.list)
		if got != tt.want || explicit != tt.explicit {
			t.Errorf("%s: SideFile = %q, %v; want %q, %v", tt.name, got, explicit, tt.want, tt.explicit)
		}
	}
}

func TestPrices(t *testing.T) {
	s := defaults()
	want := cost.Prices{MinRetentionDays: 180, GBMonth: 0.00099, Put1k: 0.05, EgressGB: 0.09, ThawStandardGB: 0.02,
		ThawBulkGB: 0.0025, ReqStandard1k: 0.10, ReqBulk1k: 0.025}
	if got := s.Prices(); got != want {
		t.Errorf("Prices() = %+v, want %+v", got, want)
	}
}
