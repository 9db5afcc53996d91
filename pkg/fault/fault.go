// Package fault lets tests kill a stage with SIGKILL at a named point, so
// "kill -9 in the middle" is tested at exactly the moments that matter
// instead of whenever a timer happens to fire. GB_FAULT=point[:n] kills
// the process the n-th time (default 1st) it reaches point.
package fault

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

var (
	mu     sync.Mutex
	counts = map[string]int{}
)

// Point kills the process when GB_FAULT names this point and count.
func Point(name string) {
	spec := os.Getenv("GB_FAULT")
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
