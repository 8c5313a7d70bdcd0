package doctor

import (
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/queue"
)

func TestQueueState(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	if c := queueState(queue.State{}, now); c.State != OK || c.Message != "free" {
		t.Errorf("free: %s", c)
	}
	holder := queue.Ticket{Command: "deploy", Version: "v2", Performer: "ann", Since: now.Add(-time.Minute), From: "laptop"}
	st := queue.State{Holder: &holder, Tickets: []queue.Ticket{holder, {Command: "deploy"}}}
	if c := queueState(st, now); c.State != OK || !strings.HasPrefix(c.Message, "held for 1m0s by deploy v2") || !strings.HasSuffix(c.Message, "; 1 waiting") {
		t.Errorf("held: %s", c)
	}
	holder.Since = now.Add(-2 * time.Hour)
	if c := queueState(st, now); c.State != Warn || !strings.HasPrefix(c.Message, "held for 2h0m0s") {
		t.Errorf("held long: %s", c)
	}
	st.Freeze = &queue.Freeze{Message: "migrating", Performer: "bob", Since: now.Add(-time.Hour)}
	if c := queueState(st, now); c.State != Warn || !strings.Contains(c.Message, `frozen by bob for 1h0m0s: "migrating"`) || c.Fix != "ship lock release, once the reason is over" {
		t.Errorf("frozen: %s", c)
	}
}
