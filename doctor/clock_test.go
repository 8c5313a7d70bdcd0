package doctor

import (
	"strings"
	"testing"
	"time"
)

func TestClockSkew(t *testing.T) {
	tg := target(t, "deploy")
	for _, tc := range []struct {
		skew, margin time.Duration
		want         State
		says         string
	}{
		{300 * time.Millisecond, 10 * time.Millisecond, OK, "within 310ms"},
		{5 * time.Second, 10 * time.Millisecond, Warn, "5s ahead of"},
		{-5 * time.Second, 10 * time.Millisecond, Warn, "5s behind"},
		{3 * time.Second, 2 * time.Second, OK, "within 5s"}, // a slow round trip cannot tell
		{-2 * time.Minute, 10 * time.Millisecond, Fail, "2m0s behind"},
	} {
		c := clockSkew(tg, tc.skew, tc.margin)
		if c.State != tc.want || !strings.Contains(c.Message, tc.says) {
			t.Errorf("skew %s ± %s: %s, want %s saying %q", tc.skew, tc.margin, c, tc.want, tc.says)
		}
		if c.State != OK && !strings.Contains(c.Fix, "sudo timedatectl set-ntp true") {
			t.Errorf("fix %q", c.Fix)
		}
	}
}
