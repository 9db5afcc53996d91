package config_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/gbarchive/gb/pkg/config"
)

// docs/configuration.md's "used by" column says what the cmds tags say
// (they decide what each command's --help shows).
func TestConfigurationDocUsedBy(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) != 5 || !strings.HasPrefix(cells[1], "`") {
			continue
		}
		flag := cells[1][strings.LastIndex(cells[1], "`--")+3:]
		flag = flag[:strings.IndexByte(flag, '`')]
		rows[flag] = strings.TrimSuffix(cells[4], " |")
	}
	st := reflect.TypeOf(config.Settings{})
	for i := range st.NumField() {
		f := st.Field(i)
		name, tag := f.Tag.Get("name"), f.Tag.Get("cmds")
		want := "every command"
		if tag != "all" {
			var cmds []string
			for _, c := range strings.Fields(tag) {
				cmds = append(cmds, "gb-"+c)
			}
			want = strings.Join(cmds, ", ")
		}
		got, ok := rows[name]
		switch {
		case !ok:
			t.Errorf("docs/configuration.md has no row for --%s", name)
		case got != want:
			t.Errorf("docs/configuration.md: --%s used by %q, the cmds tag says %q", name, got, want)
		}
	}
}

func TestUsedBy(t *testing.T) {
	for _, tc := range []struct {
		tag, cmd string
		want     bool
	}{
		{"all", "gb-keygen", true},
		{"scan pack", "gb-scan", true},
		{"scan pack", "pack", true},
		{"scan pack", "gb-put", false},
		{"scan pack", "gb-keygen", false},
		{"scan", "gb-my-stage", true}, // a custom stage sees every setting
	} {
		if got := config.UsedBy(tc.tag, tc.cmd); got != tc.want {
			t.Errorf("UsedBy(%q, %q) = %v", tc.tag, tc.cmd, got)
		}
	}
}
