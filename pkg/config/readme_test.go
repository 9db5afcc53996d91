package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/config"
)

// The glacier.cfg and list.txt examples in the README must parse as shown.
func TestREADMEExamples(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{}
	for _, part := range strings.Split(string(b), "```")[1:] {
		lang, body, _ := strings.Cut(part, "\n")
		if _, seen := blocks[lang]; !seen {
			blocks[lang] = body
		}
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "glacier.cfg")
	os.WriteFile(cfg, []byte(blocks["ini"]), 0o644)
	cf, err := config.LoadFile(cfg)
	if err != nil {
		t.Fatalf("README glacier.cfg: %v", err)
	}
	if cf.Values["staging-dir"] != filepath.Join(dir, "stage") || cf.Values["dest"] != "file:///mnt/usb/gb-store" {
		t.Fatalf("README glacier.cfg read as %v", cf.Values)
	}
	var list string
	for _, part := range strings.Split(string(b), "```\n") {
		if strings.Contains(part, "::MUTABLE\n") && strings.Contains(part, "::IMMUTABLE") {
			list = part
		}
	}
	for _, d := range []string{"home/me/Documents", "srv/photos/2019"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	list = strings.ReplaceAll(list, " /", " "+dir+"/")
	list = strings.ReplaceAll(strings.ReplaceAll(list, "\n/home", "\n"+dir+"/home"), "\n/srv", "\n"+dir+"/srv")
	lf := filepath.Join(dir, "list.txt")
	os.WriteFile(lf, []byte(list), 0o644)
	srcs, err := config.ParseList(lf)
	if err != nil || len(srcs) != 3 || !srcs[2].Remote {
		t.Fatalf("README list.txt: %v %v\n%s", srcs, err, list)
	}
}
