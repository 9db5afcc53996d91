package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Every command's --help is on stdout, starts with its usage line, shows
// its own flags and the settings it uses, and hides the others, which
// still work (as flags and glacier.cfg keys). gb-keygen's fits in 20 lines.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		cmd       string
		maxLines  int
		want, not []string
	}{
		{"gb-keygen", 20, []string{"--output"}, []string{"--dest", "--compress", "Settings ("}},
		{"gb-scan", 50, []string{"<list.txt>", "--jobs", "--exclude-file", "--encrypt-file", "--target-bag-gb"}, []string{"--dest", "--price-gb-month"}},
		{"gb-plan", 70, []string{"--reset-bag", "--compress", "--keep-deleted-days", "--price-gb-month"}, []string{"--dest", "--staging-dir"}},
		{"gb-pack", 50, []string{"--staging-dir", "--staging-limit-gb", "--recipients-file"}, []string{"--dest", "--price-gb-month"}},
		{"gb-put", 45, []string{"--dest", "--bag-storage-class", "--s3-parallel"}, []string{"--compress", "--inventory-file"}},
		{"gb-commit", 75, []string{"--dry-run", "--inventory-file", "--inventory-bak-dir", "--dest"}, []string{"--compress", "--staging-dir"}},
		{"gb-prune", 70, []string{"--delete", "--abort-uploads-after", "--dest"}, []string{"--compress", "--check-age"}},
		{"gb-audit", 60, []string{"--dest", "--inventory-file"}, []string{"--compress", "--staging-dir"}},
		{"gb-report", 70, []string{"--svg", "--inventory-bak-dir"}, []string{"--staging-dir", "--exclude-file"}},
		{"gb-find", 60, []string{"<pattern>", "--remote", "--manifest-dir"}, []string{"--staging-dir", "--compress"}},
		{"gb-restore", 90, []string{"plan", "request", "status", "fetch", "--restore-file"}, []string{"--compress", "--staging-dir"}},
		{"gb-recover", 40, []string{"<dir>", "--rebuild", "--dest"}, []string{"--compress", "--inventory-file"}},
	} {
		cmd := exec.Command(filepath.Join(binDir, tc.cmd), "--help")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		out := string(b)
		if err != nil || stderr.Len() > 0 {
			t.Errorf("%s --help: %v, stderr %q", tc.cmd, err, stderr.String())
		}
		if !strings.HasPrefix(out, "Usage: "+tc.cmd) {
			t.Errorf("%s --help | head -1: %q", tc.cmd, strings.SplitN(out, "\n", 2)[0])
		}
		if n := strings.Count(out, "\n"); n > tc.maxLines {
			t.Errorf("%s --help: %d lines, want at most %d", tc.cmd, n, tc.maxLines)
		}
		for _, w := range append(tc.want, "--config", "--help-settings", "--version") {
			if !strings.Contains(out, w) {
				t.Errorf("%s --help lacks %s:\n%s", tc.cmd, w, out)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(out, w) {
				t.Errorf("%s --help shows %s, which it does not use:\n%s", tc.cmd, w, out)
			}
		}
	}
	// The hidden ones still work: gb-keygen takes glacier.cfg with every
	// setting, and a setting it does not use as a flag.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "glacier.cfg")
	os.WriteFile(cfg, []byte("[settings]\ndest = file:///srv/gb\ncompress = none\n[pricing]\nprice_gb_month = 0.002\n"), 0o644)
	out, err := exec.Command(filepath.Join(binDir, "gb-keygen"), "-c", cfg, "--target-bag-gb", "10", "-o", filepath.Join(dir, "id.txt")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "age1") {
		t.Errorf("gb-keygen with settings it does not use: %v\n%s", err, out)
	}
	// --help-settings lists them all.
	out, err = exec.Command(filepath.Join(binDir, "gb-keygen"), "--help-settings").Output()
	if err != nil || !strings.Contains(string(out), "bag_storage_class (--bag-storage-class) GB_BAG_STORAGE_CLASS") || !strings.Contains(string(out), "price_gb_month") {
		t.Errorf("--help-settings: %v\n%s", err, out)
	}
}

// gb-restore's completion scripts complete its steps and their flags.
func TestRestoreCompletion(t *testing.T) {
	requireTools(t, "bash")
	b, err := exec.Command(filepath.Join(binDir, "gb-restore"), "--completion", "bash").Output()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "gb-restore.bash")
	os.WriteFile(p, b, 0o644)
	ask := func(words ...string) string {
		script := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _gb_restore; printf '%s\n' "${COMPREPLY[@]}"`
		out, err := exec.Command("bash", append([]string{"-c", script, "_", p}, words...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return string(out)
	}
	if got := ask("gb-restore", ""); got != "plan\nrequest\nstatus\nfetch\n" {
		t.Errorf("gb-restore TAB: %q", got)
	}
	if got := ask("gb-restore", "request", "--t"); got != "--tier\n" {
		t.Errorf("gb-restore request --t TAB: %q", got)
	}
	if got := ask("gb-restore", "fetch", "--k"); got != "--keep-bags\n" {
		t.Errorf("gb-restore fetch --k TAB: %q", got)
	}
	for _, shell := range []string{"zsh", "fish"} {
		b, err := exec.Command(filepath.Join(binDir, "gb-restore"), "--completion", shell).Output()
		if err != nil || !strings.Contains(string(b), "fetch") || !strings.Contains(string(b), "keep-bags") {
			t.Errorf("%s: %v\n%s", shell, err, b)
		}
	}
}
