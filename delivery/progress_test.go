package delivery

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLines(t *testing.T) {
	var b strings.Builder
	p := Progress(&b, "app:v2", true)
	p(Transfer{Sent: 1e6, Total: 10e6, Layers: 1, Of: 3}) // too soon after the start: nothing yet
	time.Sleep(600 * time.Millisecond)
	p(Transfer{Sent: 5e6, Total: 10e6, Layers: 1, Of: 3})
	out := b.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "sending app:v2 (1 of 3 layers): 5.0 of 10.0 MB") || !strings.Contains(out, "MB/s") || !strings.Contains(out, "left") {
		t.Errorf("progress output: %q", out)
	}
}
