package delivery

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Transfer is how far a delivery has got.
type Transfer struct {
	Sent, Total int64 // bytes
	Layers, Of  int   // layers being sent, layers in the image
}

// Progress reports a transfer as plain lines: often on a terminal, now and
// then in CI logs. Each line has the layers, the bytes, the rate and the
// time left.
func Progress(out io.Writer, what string, terminal bool) func(Transfer) {
	every := 5 * time.Second
	if terminal {
		every = 500 * time.Millisecond
	}
	start := time.Now()
	var mu sync.Mutex
	last := start
	return func(t Transfer) {
		sent, total := t.Sent, t.Total
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
		fmt.Fprintf(out, "sending %s (%d of %d layers): %.1f of %.1f MB, %.1f MB/s, %s left\n", what, t.Layers, t.Of, float64(sent)/1e6, float64(total)/1e6, rate/1e6, eta)
	}
}
