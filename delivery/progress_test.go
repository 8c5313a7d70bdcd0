package delivery

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLines(t *testing.T) {
	var b strings.Builder
	p := Progress(&b, "app:v2", true)
	p(1e6, 10e6) // too soon after the start: nothing yet
	time.Sleep(600 * time.Millisecond)
	p(5e6, 10e6)
	out := b.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "sending app:v2: 5.0 of 10.0 MB") || !strings.Contains(out, "MB/s") || !strings.Contains(out, "left") {
		t.Errorf("progress output: %q", out)
	}
}
