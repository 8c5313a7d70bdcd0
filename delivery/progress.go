package delivery

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress reports a transfer as plain lines: often on a terminal, now and
// then in CI logs. Each line has the bytes, the rate and the time left.
func Progress(out io.Writer, what string, terminal bool) func(sent, total int64) {
	every := 5 * time.Second
	if terminal {
		every = 500 * time.Millisecond
	}
	start := time.Now()
	var mu sync.Mutex
	last := start
	return func(sent, total int64) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if now.Sub(last) < every {
			return
		}
		last = now
		rate := float64(sent) / now.Sub(start).Seconds()
		eta := "?"
		if rate > 0 && total > sent {
			eta = (time.Duration(float64(total-sent)/rate) * time.Second / time.Second).Round(time.Second).String()
		}
		fmt.Fprintf(out, "sending %s: %.1f of %.1f MB, %.1f MB/s, %s left\n", what, float64(sent)/1e6, float64(total)/1e6, rate/1e6, eta)
	}
}
