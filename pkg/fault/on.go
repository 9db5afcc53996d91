//go:build gbfault

package fault

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Enabled reports whether this build kills at fault points.
const Enabled = true

var (
	mu     sync.Mutex
	counts = map[string]int{}
)

// Point kills the process when GB_FAULT names this point and count.
func Point(name string) {
	spec := os.Getenv(Env)
	if spec == "" {
		return
	}
	for _, s := range strings.Split(spec, ",") {
		p, n, _ := strings.Cut(s, ":")
		if p != name {
			continue
		}
		want := 1
		if n != "" {
			want, _ = strconv.Atoi(n)
		}
		mu.Lock()
		counts[name]++
		c := counts[name]
		mu.Unlock()
		if c == want {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
}
