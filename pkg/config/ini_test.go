package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/gbarchive/gb/pkg/config"
)

// seedCfg is the seed's glacier.cfg from DESIGN.md.
const seedCfg = `[settings]
s3_bucket = greenc-bucket
target_bag_gb = 40
staging_dir = /home/greenc/glacier/stage
manifest_dir = /home/greenc/glacier/manifests
inventory_file = /home/greenc/glacier/inventory.json
inventory_bak_dir = /home/greenc/glacier/invbak
mnt_base = /home/greenc/mnt

[pricing]
min_retention_days = 180
price_gb_month = 0.00099
price_put_1k = 0.05
price_egress_gb = 0.09
price_thaw_standard_gb = 0.02
price_thaw_bulk_gb = 0.0025
price_req_standard_1k = 0.10
price_req_bulk_1k = 0.025
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileSeedExample(t *testing.T) {
	p := writeFile(t, t.TempDir(), "glacier.cfg", seedCfg)
	cf, err := config.LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"s3-bucket":              "greenc-bucket",
		"target-bag-gb":          "40",
		"staging-dir":            "/home/greenc/glacier/stage",
		"manifest-dir":           "/home/greenc/glacier/manifests",
		"inventory-file":         "/home/greenc/glacier/inventory.json",
		"inventory-bak-dir":      "/home/greenc/glacier/invbak",
		"mnt-base":               "/home/greenc/mnt",
		"min-retention-days":     "180",
		"price-gb-month":         "0.00099",
		"price-put-1k":           "0.05",
		"price-egress-gb":        "0.09",
		"price-thaw-standard-gb": "0.02",
		"price-thaw-bulk-gb":     "0.0025",
		"price-req-standard-1k":  "0.10",
		"price-req-bulk-1k":      "0.025",
	}
	if len(cf.Values) != len(want) {
		t.Errorf("got %d values, want %d: %v", len(cf.Values), len(want), cf.Values)
	}
	for k, v := range want {
		if cf.Values[k] != v {
			t.Errorf("%s = %q, want %q", k, cf.Values[k], v)
		}
	}
	if cf.Lines["s3-bucket"] != 2 || cf.Lines["mnt-base"] != 8 || cf.Lines["price-req-bulk-1k"] != 18 {
		t.Errorf("lines %v", cf.Lines)
	}
	if !filepath.IsAbs(cf.Path) {
		t.Errorf("Path %q is not absolute", cf.Path)
	}
}

func TestLoadFileSyntax(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  string
		want map[string]string
	}{
		{
			name: "comments and blank lines",
			cfg:  "# a comment\n; another\n\n[settings]\n  # indented comment\n\t; indented\ntarget_bag_gb = 2\n",
			want: map[string]string{"target-bag-gb": "2"},
		},
		{
			name: "colon separator and spacing",
			cfg:  "[ settings ]\ntarget_bag_gb:3\ncompress=none\n",
			want: map[string]string{"target-bag-gb": "3", "compress": "none"},
		},
		{
			name: "keys are case-insensitive",
			cfg:  "[settings]\nTarget_Bag_GB = 4\n",
			want: map[string]string{"target-bag-gb": "4"},
		},
		{
			name: "CRLF",
			cfg:  "[settings]\r\ntarget_bag_gb = 5\r\n[pricing]\r\nprice_put_1k = 0.04\r\n",
			want: map[string]string{"target-bag-gb": "5", "price-put-1k": "0.04"},
		},
		{
			name: "no newline at the end",
			cfg:  "[settings]\ntarget_bag_gb = 6",
			want: map[string]string{"target-bag-gb": "6"},
		},
		{
			name: "value keeps inner spaces and '='",
			cfg:  "[settings]\ndest = s3://b/with space=x\n",
			want: map[string]string{"dest": "s3://b/with space=x"},
		},
		{
			name: "relative paths resolve against the config directory",
			cfg:  "[settings]\nstaging_dir = stage\nmanifest_dir = ./m/../manifests\ninventory_file = sub/inventory.json\nexclude_file = exclude.txt\n",
			want: map[string]string{
				"staging-dir":    filepath.Join(dir, "stage"),
				"manifest-dir":   filepath.Join(dir, "manifests"),
				"inventory-file": filepath.Join(dir, "sub", "inventory.json"),
				"exclude-file":   filepath.Join(dir, "exclude.txt"),
			},
		},
		{
			name: "absolute paths stay",
			cfg:  "[settings]\nstate_dir = /var/lib/gb\n",
			want: map[string]string{"state-dir": "/var/lib/gb"},
		},
		{
			name: "home paths expand",
			cfg:  "[settings]\nstate_dir = ~/gbstate\nstaging_dir = ~\n",
			want: map[string]string{"state-dir": filepath.Join(home, "gbstate"), "staging-dir": home},
		},
		{
			name: "empty path stays empty",
			cfg:  "[settings]\nstaging_dir =\n",
			want: map[string]string{"staging-dir": ""},
		},
		{
			name: "non-path values are not resolved",
			cfg:  "[settings]\ns3_bucket = relative\n",
			want: map[string]string{"s3-bucket": "relative"},
		},
		{
			name: "number formats",
			cfg:  "[settings]\ntarget_bag_gb = 0.002\nstaging_limit_gb = -1\n[pricing]\nprice_gb_month = 1e-3\n",
			want: map[string]string{"target-bag-gb": "0.002", "staging-limit-gb": "-1", "price-gb-month": "1e-3"},
		},
		{
			name: "section repeated",
			cfg:  "[settings]\ntarget_bag_gb = 1\n[pricing]\nprice_put_1k = 1\n[settings]\ncompress = zstd\n",
			want: map[string]string{"target-bag-gb": "1", "price-put-1k": "1", "compress": "zstd"},
		},
		{name: "empty file", cfg: "", want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, "glacier.cfg", tt.cfg)
			cf, err := config.LoadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(cf.Values) != len(tt.want) {
				t.Errorf("values %v, want %v", cf.Values, tt.want)
			}
			for k, v := range tt.want {
				if got, ok := cf.Values[k]; !ok || got != v {
					t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
				}
			}
		})
	}
}

func TestLoadFileRelativeConfigPath(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "conf/glacier.cfg", "[settings]\nstaging_dir = stage\n")
	t.Chdir(dir)
	cf, err := config.LoadFile("conf/glacier.cfg")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "conf", "stage"); cf.Values["staging-dir"] != want {
		t.Errorf("staging-dir = %q, want %q", cf.Values["staging-dir"], want)
	}
	if want := filepath.Join(dir, "conf", "glacier.cfg"); cf.Path != want {
		t.Errorf("Path = %q, want %q", cf.Path, want)
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  string
		line int
		msg  string // substring
	}{
		{"unknown section", "[settings]\ntarget_bag_gb = 1\n\n[aws]\n", 4, "unknown section [aws]"},
		{"section is case-sensitive", "[Settings]\n", 1, "unknown section [Settings]"},
		{"bad section header", "[settings\n", 1, "bad section header"},
		{"unknown key", "[settings]\n# c\nbucket = x\n", 3, `unknown key "bucket" in [settings]`},
		{"config is not a key", "[settings]\nconfig = other.cfg\n", 2, `unknown key "config"`},
		{"pricing key in settings", "[settings]\nprice_put_1k = 0.05\n", 2, `key "price_put_1k" belongs in [pricing], not [settings]`},
		{"settings key in pricing", "[settings]\n[pricing]\nstaging_dir = /x\n", 3, `key "staging_dir" belongs in [settings], not [pricing]`},
		{"key before section", "\n# top\ntarget_bag_gb = 1\n[settings]\n", 3, `key "target_bag_gb" before any [section]`},
		{"repeated key", "[settings]\ntarget_bag_gb = 1\ncompress = zstd\nTARGET_BAG_GB = 2\n", 4, `key "target_bag_gb" repeats line 2`},
		{"repeated key across repeated section", "[settings]\ns3_bucket = a\n[pricing]\n[settings]\ns3_bucket = b\n", 5, `repeats line 2`},
		{"non-numeric number", "[pricing]\nprice_gb_month = cheap\n", 2, `price_gb_month: "cheap" is not a number`},
		{"empty number", "[settings]\ntarget_bag_gb =\n", 2, `"" is not a number`},
		{"number with unit", "[settings]\ntarget_bag_gb = 40GB\n", 2, `"40GB" is not a number`},
		{"inline comment is part of the value", "[settings]\ntarget_bag_gb = 40 # GB\n", 2, "is not a number"},
		{"bad enum", "[settings]\ncompress = gzip\n", 2, `compress: "gzip" is not one of zstd,none`},
		{"enum is case-sensitive", "[settings]\ncompress = ZSTD\n", 2, `is not one of`},
		{"bad progress", "[settings]\nprogress = yes\n", 2, `progress: "yes" is not one of auto,always,never`},
		{"missing '='", "[settings]\ntarget_bag_gb 40\n", 2, `expected "key = value"`},
		{"error after CRLF lines", "[settings]\r\ncompress = zstd\r\nbogus\r\n", 3, `expected "key = value"`},
		{"error on the last line without newline", "[settings]\n\ncompress = lz4", 3, "is not one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, "glacier.cfg", tt.cfg)
			cf, err := config.LoadFile(p)
			if err == nil {
				t.Fatalf("no error; values %v", cf.Values)
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want *config.Error", err, err)
			}
			if ce.File != p || ce.Line != tt.line {
				t.Errorf("error at %s:%d, want %s:%d (%v)", ce.File, ce.Line, p, tt.line, err)
			}
			if !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("message %q does not contain %q", ce.Msg, tt.msg)
			}
			if !config.IsConfigError(err) {
				t.Error("IsConfigError is false")
			}
		})
	}
}

func TestLoadFileMissing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.cfg")
	_, err := config.LoadFile(p)
	var ce *config.Error
	if !errors.As(err, &ce) || ce.File != p || ce.Line != 0 {
		t.Fatalf("error %#v", err)
	}
	if !strings.Contains(ce.Msg, "no such file") {
		t.Errorf("message %q", ce.Msg)
	}
}

// Every Settings field with an ini tag is a glacier.cfg key spelled like
// its flag with '_' for '-'; a sample value for each must be accepted.
func TestEveryKeyIsAccepted(t *testing.T) {
	var b strings.Builder
	b.WriteString("[settings]\n")
	settings := []string{"dest = s3://b", "s3_bucket = b", "target_bag_gb = 1", "state_dir = /s", "staging_dir = /s/stage",
		"manifest_dir = /m", "inventory_file = /i.json", "inventory_bak_dir = /ib", "mnt_base = /mnt", "exclude_file = /e",
		"encrypt_file = /enc", "compress = none", "staging_limit_gb = 0"}
	for _, s := range settings {
		b.WriteString(s + "\n")
	}
	b.WriteString("[pricing]\n")
	pricing := []string{"min_retention_days = 1", "price_gb_month = 1", "price_put_1k = 1", "price_egress_gb = 1",
		"price_thaw_standard_gb = 1", "price_thaw_bulk_gb = 1", "price_req_standard_1k = 1", "price_req_bulk_1k = 1"}
	for _, s := range pricing {
		b.WriteString(s + "\n")
	}
	cf, err := config.LoadFile(writeFile(t, t.TempDir(), "glacier.cfg", b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.Values) != len(settings)+len(pricing) {
		t.Errorf("%d values, want %d", len(cf.Values), len(settings)+len(pricing))
	}
}

// cli is the smallest command that shares Settings the way gb's commands do.
type cli struct {
	config.Settings `embed:""`
}

// clearGBEnv unsets every GB_* variable for the test and restores them after.
func clearGBEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GB_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func parse(t *testing.T, cf *config.File, args ...string) (*cli, error) {
	t.Helper()
	var c cli
	opts := []kong.Option{kong.Name("gb-test"), kong.Exit(func(int) { t.Fatal("kong tried to exit") })}
	if cf != nil {
		opts = append(opts, kong.Resolvers(cf.Resolver()))
	}
	p, err := kong.New(&c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Parse(args)
	return &c, err
}

func TestResolverPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "glacier.cfg", "[settings]\ntarget_bag_gb = 10\ncompress = none\nstaging_dir = stage\ns3_bucket = from-file\n[pricing]\nprice_put_1k = 0.07\n")
	cf, err := config.LoadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		useFile bool
		env     map[string]string
		args    []string
		target  float64
		comp    string
		stage   string
		bucket  string
		put     float64
	}{
		{name: "defaults", target: 40, comp: "zstd", put: 0.05},
		{name: "file over defaults", useFile: true, target: 10, comp: "none", stage: filepath.Join(dir, "stage"), bucket: "from-file", put: 0.07},
		{
			name: "env over file", useFile: true,
			env:    map[string]string{"GB_TARGET_BAG_GB": "20", "GB_COMPRESS": "zstd", "GB_STAGING_DIR": "/env/stage"},
			target: 20, comp: "zstd", stage: "/env/stage", bucket: "from-file", put: 0.07,
		},
		{
			name: "flag over env and file", useFile: true,
			env:    map[string]string{"GB_TARGET_BAG_GB": "20", "GB_COMPRESS": "zstd"},
			args:   []string{"--target-bag-gb=30", "--compress", "none", "--staging-dir", "/flag/stage", "--price-put-1k=0.5"},
			target: 30, comp: "none", stage: "/flag/stage", bucket: "from-file", put: 0.5,
		},
		{
			name: "flag over file", useFile: true,
			args:   []string{"--s3-bucket", "from-flag"},
			target: 10, comp: "none", stage: filepath.Join(dir, "stage"), bucket: "from-flag", put: 0.07,
		},
		{
			name:   "env over default",
			env:    map[string]string{"GB_TARGET_BAG_GB": "0.5", "GB_PRICE_PUT_1K": "1"},
			target: 0.5, comp: "zstd", put: 1,
		},
		{
			name: "env set but empty still hides the file", useFile: true,
			env:    map[string]string{"GB_S3_BUCKET": ""},
			target: 10, comp: "none", stage: filepath.Join(dir, "stage"), bucket: "", put: 0.07,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearGBEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var file *config.File
			if tt.useFile {
				file = cf
			}
			c, err := parse(t, file, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			s := c.Settings
			if s.TargetBagGB != tt.target || s.Compress != tt.comp || s.StagingDir != tt.stage || s.S3Bucket != tt.bucket || s.PricePut1k != tt.put {
				t.Errorf("got target %v compress %q staging %q bucket %q put %v; want %v %q %q %q %v",
					s.TargetBagGB, s.Compress, s.StagingDir, s.S3Bucket, s.PricePut1k, tt.target, tt.comp, tt.stage, tt.bucket, tt.put)
			}
			// Untouched settings keep their defaults.
			if s.MinRetentionDays != 180 || s.PriceGBMonth != 0.00099 || s.StagingLimitGB != -1 {
				t.Errorf("defaults changed: %+v", s)
			}
		})
	}
}

func TestResolverBadValues(t *testing.T) {
	clearGBEnv(t)
	// A bad value in the environment is kong's to report.
	t.Setenv("GB_COMPRESS", "gzip")
	if _, err := parse(t, nil); err == nil {
		t.Error("GB_COMPRESS=gzip accepted")
	}
}

func TestFindConfigArg(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      string
		file     bool // ./glacier.cfg exists
		want     string
		explicit bool
	}{
		{name: "nothing", args: []string{"list.txt"}},
		{name: "default file", file: true, want: "glacier.cfg"},
		{name: "-c X", args: []string{"-c", "a.cfg", "list.txt"}, want: "a.cfg", explicit: true},
		{name: "-cX", args: []string{"-ca.cfg"}, want: "a.cfg", explicit: true},
		{name: "-c=X", args: []string{"-c=a.cfg"}, want: "a.cfg", explicit: true},
		{name: "--config=X", args: []string{"--run", "--config=/etc/gb.cfg"}, want: "/etc/gb.cfg", explicit: true},
		{name: "--config X", args: []string{"--config", "b c.cfg"}, want: "b c.cfg", explicit: true},
		{name: "flag wins over env and file", args: []string{"-c", "a.cfg"}, env: "env.cfg", file: true, want: "a.cfg", explicit: true},
		{name: "first flag wins", args: []string{"-c", "a.cfg", "--config=b.cfg"}, want: "a.cfg", explicit: true},
		{name: "GB_CONFIG", env: "env.cfg", want: "env.cfg", explicit: true},
		{name: "GB_CONFIG over default file", env: "env.cfg", file: true, want: "env.cfg", explicit: true},
		{name: "after --", args: []string{"--", "-c", "a.cfg"}, file: true, want: "glacier.cfg"},
		{name: "-c without a value", args: []string{"-c"}, env: "env.cfg", want: "env.cfg", explicit: true},
		{name: "--config without a value", args: []string{"--config"}},
		{name: "other long flags", args: []string{"--compress", "none", "--config-x"}, file: true, want: "glacier.cfg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			if tt.file {
				writeFile(t, dir, "glacier.cfg", "")
			}
			t.Setenv("GB_CONFIG", tt.env)
			got, explicit := config.FindConfigArg(tt.args)
			if got != tt.want || explicit != tt.explicit {
				t.Errorf("FindConfigArg(%q) = %q, %v; want %q, %v", tt.args, got, explicit, tt.want, tt.explicit)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  config.Error
		want string
	}{
		{config.Error{File: "list.txt", Line: 3, Msg: "bad"}, "list.txt:3: bad"},
		{config.Error{File: "list.txt", Msg: "bad"}, "list.txt: bad"},
		{config.Error{Msg: "bad"}, "bad"},
		{config.Error{Line: 3, Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.err, got, tt.want)
		}
	}
	e := &config.Error{Msg: "x", Hint: "do y"}
	if e.HintText() != "do y" {
		t.Errorf("HintText %q", e.HintText())
	}
	wrapped := errors.Join(errors.New("ctx"), e)
	if !config.IsConfigError(wrapped) {
		t.Error("IsConfigError misses a wrapped Error")
	}
	if config.IsConfigError(errors.New("plain")) || config.IsConfigError(nil) {
		t.Error("IsConfigError true for a plain error")
	}
}
