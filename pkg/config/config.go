// Package config holds gb's settings and reads the files a user writes:
// glacier.cfg (INI, seed-compatible), list.txt and exclude.txt.
//
// Every setting is at once a command-line flag, a GB_* environment variable
// and a glacier.cfg key. Precedence, highest first: flag, environment,
// glacier.cfg, built-in default.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gbarchive/gb/pkg/cost"
)

// Settings are shared by every command. The ini tag names the glacier.cfg
// section; ",path" marks paths that are relative to the config file. The
// cmds tag names the commands that read the setting (without "gb-"; "all"
// for every one): each command's --help shows only those, and
// --help-settings (and docs/configuration.md) lists them all. Every
// setting is accepted by every command, as a flag, in glacier.cfg and in
// the environment, so one glacier.cfg serves the whole pipeline.
type Settings struct {
	Config string `short:"c" name:"config" env:"GB_CONFIG" placeholder:"FILE" cmds:"all" help:"glacier.cfg to read (default: ./glacier.cfg when it exists)."`

	Dest            string  `name:"dest" env:"GB_DEST" ini:"settings" group:"settings" placeholder:"URL" cmds:"audit commit find prune put recover report restore" help:"Destination: file:///dir or s3://bucket/prefix (default: a local store in the state directory)."`
	S3Bucket        string  `name:"s3-bucket" env:"GB_S3_BUCKET" ini:"settings" group:"settings" placeholder:"NAME" cmds:"audit commit find prune put recover report restore" help:"Seed-compatible: same as --dest s3://NAME."`
	TargetBagGB     float64 `name:"target-bag-gb" env:"GB_TARGET_BAG_GB" ini:"settings" group:"settings" default:"40" cmds:"scan plan pack" help:"Target bag size in GB (fractions allowed)."`
	StateDir        string  `name:"state-dir" env:"GB_STATE_DIR" ini:"settings,path" group:"settings" placeholder:"DIR" cmds:"scan plan pack put commit prune audit report find restore" help:"Where gb keeps its files when no other path is set (default: $XDG_STATE_HOME/gb or ~/.local/state/gb)."`
	StagingDir      string  `name:"staging-dir" env:"GB_STAGING_DIR" ini:"settings,path" group:"settings" placeholder:"DIR" cmds:"pack" help:"Where bags are written before upload (default: STATE/stage)."`
	ManifestDir     string  `name:"manifest-dir" env:"GB_MANIFEST_DIR" ini:"settings,path" group:"settings" placeholder:"DIR" cmds:"pack prune find restore" help:"Where per-bag manifests are kept (default: STATE/manifests)."`
	InventoryFile   string  `name:"inventory-file" env:"GB_INVENTORY_FILE" ini:"settings,path" group:"settings" placeholder:"FILE" cmds:"plan commit prune audit report find restore" help:"The inventory (default: STATE/inventory.json)."`
	InventoryBakDir string  `name:"inventory-bak-dir" env:"GB_INVENTORY_BAK_DIR" ini:"settings,path" group:"settings" placeholder:"DIR" cmds:"commit prune report" help:"Daily backups of the inventory (default: STATE/invbak)."`
	MntBase         string  `name:"mnt-base" env:"GB_MNT_BASE" ini:"settings,path" group:"settings" placeholder:"DIR" cmds:"scan pack" help:"Where remote sources (user@host:/path) are mounted with sshfs while read (default: STATE/mnt)."`
	SSHCommand      string  `name:"ssh-command" env:"GB_SSH_COMMAND" ini:"settings" group:"settings" default:"ssh" placeholder:"CMD" cmds:"scan pack" help:"The ssh that sshfs and gb run for remote sources, split on spaces (e.g. \"ssh -F /etc/gb/ssh_config\")."`
	ExcludeFile     string  `name:"exclude-file" env:"GB_EXCLUDE_FILE" ini:"settings,path" group:"settings" placeholder:"FILE" cmds:"scan" help:"Tar-style exclude patterns (default: exclude.txt beside glacier.cfg; with no glacier.cfg, beside list.txt)."`
	EncryptFile     string  `name:"encrypt-file" env:"GB_ENCRYPT_FILE" ini:"settings,path" group:"settings" placeholder:"FILE" cmds:"scan" help:"Atom paths to encrypt (default: encrypt.txt beside glacier.cfg; with no glacier.cfg, beside list.txt)."`
	RecipientsFile  string  `name:"recipients-file" env:"GB_RECIPIENTS_FILE" ini:"settings,path" group:"settings" placeholder:"FILE" cmds:"scan pack commit" help:"age public keys (age1…) that encrypted bags are encrypted to (default: recipients.txt beside glacier.cfg; with no glacier.cfg, beside list.txt)."`
	KeyFile         string  `name:"key-file" env:"GB_KEY_FILE" ini:"settings,path" group:"settings" placeholder:"FILE" cmds:"scan pack commit" help:"Seed-compatible passphrase file, used when there is no recipients file (default: key.txt, found the same way)."`
	S3Endpoint      string  `name:"s3-endpoint" env:"GB_S3_ENDPOINT" ini:"settings" group:"settings" placeholder:"URL" cmds:"audit commit find prune put recover report restore" help:"Endpoint of an S3-compatible service (path-style); AWS_ENDPOINT_URL works too."`
	S3Region        string  `name:"s3-region" env:"GB_S3_REGION" ini:"settings" group:"settings" placeholder:"REGION" cmds:"audit commit find prune put recover report restore" help:"Bucket region (default: AWS_REGION or the AWS profile's)."`
	S3Checksum      string  `name:"s3-checksum" env:"GB_S3_CHECKSUM" ini:"settings" group:"settings" default:"when_supported" enum:"when_supported,when_required" cmds:"audit commit find prune put recover report restore" help:"SDK request checksums: when_supported, or when_required for services that reject them."`
	S3Parallel      int     `name:"s3-parallel" env:"GB_S3_PARALLEL" ini:"settings" group:"settings" default:"4" cmds:"put commit" help:"Multipart parts uploaded at once."`
	Limit           float64 `name:"limit" env:"GB_LIMIT" ini:"settings" group:"settings" default:"0" placeholder:"MB/s" cmds:"put commit" help:"Upload limit in MB/s for all parts together (0: none); seed-compatible."`
	BagStorageClass string  `name:"bag-storage-class" env:"GB_BAG_STORAGE_CLASS" ini:"settings" group:"settings" default:"DEEP_ARCHIVE" cmds:"put" help:"Storage class for bags (manifests and system files are STANDARD)."`
	Compress        string  `name:"compress" env:"GB_COMPRESS" ini:"settings" group:"settings" default:"zstd" enum:"zstd,none" cmds:"plan" help:"Bag compression: zstd or none."`
	KeepDeletedDays float64 `name:"keep-deleted-days" env:"GB_KEEP_DELETED_DAYS" ini:"settings" group:"settings" default:"365" cmds:"plan" help:"Days an atom gone from disk stays in the inventory, with its bags, before it is forgotten (0: at once)."`
	StagingLimitGB  float64 `name:"staging-limit-gb" env:"GB_STAGING_LIMIT_GB" ini:"settings" group:"settings" default:"-1" cmds:"pack" help:"Pack waits while staged bags exceed this many GB (default: two bags; 0: no limit)."`
	// AbortUploadsAfter is read by gb-prune (see pkg/prune.ParseAge).
	AbortUploadsAfter string `name:"abort-uploads-after" env:"GB_ABORT_UPLOADS_AFTER" ini:"settings" group:"settings" default:"7d" placeholder:"AGE" cmds:"prune" help:"gb-prune aborts incomplete multipart uploads older than this (7d, 36h; 0: all)."`
	// Progress is read by gb-scan, gb-pack, gb-put and gb-restore fetch (see pkg/progress).
	Progress string `name:"progress" env:"GB_PROGRESS" ini:"settings" group:"settings" default:"auto" enum:"auto,always,never" cmds:"scan pack put restore" help:"Progress bars on stderr: auto (only when stderr is a terminal), always or never."`

	MinRetentionDays    float64 `name:"min-retention-days" env:"GB_MIN_RETENTION_DAYS" ini:"pricing" group:"pricing" default:"180" cmds:"plan commit prune audit report restore" help:"Days an object is billed at least."`
	PriceGBMonth        float64 `name:"price-gb-month" env:"GB_PRICE_GB_MONTH" ini:"pricing" group:"pricing" default:"0.00099" cmds:"plan commit prune audit report restore" help:"Storage, USD per GB-month."`
	PricePut1k          float64 `name:"price-put-1k" env:"GB_PRICE_PUT_1K" ini:"pricing" group:"pricing" default:"0.05" cmds:"plan commit prune audit report restore" help:"USD per 1,000 PUT requests."`
	PriceEgressGB       float64 `name:"price-egress-gb" env:"GB_PRICE_EGRESS_GB" ini:"pricing" group:"pricing" default:"0.09" cmds:"plan commit prune audit report restore" help:"Download, USD per GB."`
	PriceThawStandardGB float64 `name:"price-thaw-standard-gb" env:"GB_PRICE_THAW_STANDARD_GB" ini:"pricing" group:"pricing" default:"0.02" cmds:"plan commit prune audit report restore" help:"Standard restore, USD per GB."`
	PriceThawBulkGB     float64 `name:"price-thaw-bulk-gb" env:"GB_PRICE_THAW_BULK_GB" ini:"pricing" group:"pricing" default:"0.0025" cmds:"plan commit prune audit report restore" help:"Bulk restore, USD per GB."`
	PriceReqStandard1k  float64 `name:"price-req-standard-1k" env:"GB_PRICE_REQ_STANDARD_1K" ini:"pricing" group:"pricing" default:"0.10" cmds:"plan commit prune audit report restore" help:"Standard restore requests, USD per 1,000."`
	PriceReqBulk1k      float64 `name:"price-req-bulk-1k" env:"GB_PRICE_REQ_BULK_1K" ini:"pricing" group:"pricing" default:"0.025" cmds:"plan commit prune audit report restore" help:"Bulk restore requests, USD per 1,000."`
	// PriceStandardGBMonth is what a restored (thawed) copy costs while gb-restore keeps it.
	PriceStandardGBMonth float64 `name:"price-standard-gb-month" env:"GB_PRICE_STANDARD_GB_MONTH" ini:"pricing" group:"pricing" default:"0.023" cmds:"plan commit prune audit report restore" help:"S3 Standard storage, USD per GB-month: what a restored copy costs while it is kept."`
}

// Commands are gb's commands, named as in the cmds tags.
var Commands = []string{"scan", "plan", "pack", "put", "commit", "prune", "audit", "report", "find", "restore", "recover", "keygen"}

// UsedBy reports whether a setting whose cmds tag is tag is read by the
// command (gb-scan or scan). A command not in Commands (a custom stage
// that embeds Settings) is taken to use them all.
func UsedBy(tag, command string) bool {
	command = strings.TrimPrefix(command, "gb-")
	if !slices.Contains(Commands, command) {
		return true
	}
	for _, c := range strings.Fields(tag) {
		if c == "all" || c == command {
			return true
		}
	}
	return false
}

// Error is a configuration or input-file error: bad values a person wrote.
// Commands exit 2 for it.
type Error struct {
	File string
	Line int // 0 when not tied to a line
	Msg  string
	Hint string
}

func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return e.Msg
}

// HintText is printed on a second line.
func (e *Error) HintText() string { return e.Hint }

// IsConfigError reports whether err is (or wraps) a config Error.
func IsConfigError(err error) bool {
	var ce *Error
	return errors.As(err, &ce)
}

// TargetBytes is the bag target in bytes.
func (s *Settings) TargetBytes() int64 { return int64(s.TargetBagGB * 1e9) }

// StagingLimitBytes is the staging bound in bytes; 0 means no bound.
func (s *Settings) StagingLimitBytes() int64 {
	if s.StagingLimitGB < 0 {
		return 2 * s.TargetBytes()
	}
	return int64(s.StagingLimitGB * 1e9)
}

// DestURL is the configured destination, and whether it was a default.
func (s *Settings) DestURL() (url string, isDefault bool) {
	switch {
	case s.Dest != "":
		return s.Dest, false
	case s.S3Bucket != "":
		return "s3://" + s.S3Bucket, false
	}
	return "file://" + filepath.Join(s.StateDir, "store"), true
}

// Finish fills defaults that depend on other settings and checks values.
// It must be called once after parsing.
func (s *Settings) Finish() error {
	if s.StateDir == "" {
		if x := os.Getenv("XDG_STATE_HOME"); x != "" {
			s.StateDir = filepath.Join(x, "gb")
		} else if home, err := os.UserHomeDir(); err == nil {
			s.StateDir = filepath.Join(home, ".local", "state", "gb")
		} else {
			return &Error{Msg: "no state directory: set --state-dir, GB_STATE_DIR or HOME"}
		}
	}
	abs, err := filepath.Abs(s.StateDir)
	if err != nil {
		return err
	}
	s.StateDir = abs
	def := func(p *string, name string) {
		if *p == "" {
			*p = filepath.Join(s.StateDir, name)
		}
	}
	def(&s.StagingDir, "stage")
	def(&s.ManifestDir, "manifests")
	def(&s.InventoryFile, "inventory.json")
	def(&s.InventoryBakDir, "invbak")
	def(&s.MntBase, "mnt")
	if strings.Contains(s.SSHCommand, ",") {
		return &Error{Msg: fmt.Sprintf("ssh_command %q holds a comma, which sshfs would split it at", s.SSHCommand),
			Hint: "put the ssh options in an ssh config file and set ssh_command = ssh -F FILE"}
	}
	if strings.TrimSpace(s.SSHCommand) == "" {
		s.SSHCommand = "ssh"
	}
	if s.TargetBagGB <= 0 {
		return &Error{Msg: fmt.Sprintf("target_bag_gb must be above 0, not %v", s.TargetBagGB)}
	}
	if s.TargetBytes() < 1e5 {
		return &Error{Msg: fmt.Sprintf("target_bag_gb %v is below 100 kB", s.TargetBagGB), Hint: "use a fraction such as 0.002 for tests, 10 to 100 for real archives"}
	}
	if s.Dest != "" && s.S3Bucket != "" && s.Dest != "s3://"+s.S3Bucket && !strings.HasPrefix(s.Dest, "s3://"+s.S3Bucket+"/") {
		return &Error{Msg: fmt.Sprintf("dest %q and s3_bucket %q disagree", s.Dest, s.S3Bucket), Hint: "set only one of them"}
	}
	return nil
}

// SideFile resolves a file that lives beside glacier.cfg (or, without one,
// beside list.txt) unless a path was configured.
func (s *Settings) SideFile(configured, name, listFile string) (path string, explicit bool) {
	if configured != "" {
		return configured, true
	}
	if s.Config != "" {
		return filepath.Join(filepath.Dir(s.Config), name), false
	}
	if listFile != "" {
		return filepath.Join(filepath.Dir(listFile), name), false
	}
	return name, false
}

// Prices is the [pricing] section.
func (s *Settings) Prices() cost.Prices {
	return cost.Prices{MinRetentionDays: s.MinRetentionDays, GBMonth: s.PriceGBMonth, Put1k: s.PricePut1k, EgressGB: s.PriceEgressGB,
		ThawStandardGB: s.PriceThawStandardGB, ThawBulkGB: s.PriceThawBulkGB, ReqStandard1k: s.PriceReqStandard1k, ReqBulk1k: s.PriceReqBulk1k,
		StandardGBMonth: s.PriceStandardGBMonth}
}
