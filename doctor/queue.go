package doctor

import (
	"context"
	"time"

	"github.com/shipdeploy/ship/queue"
)

// queueAge is how long a holder may hold the queue before doctor warns:
// queue_timeout's default.
const queueAge = 30 * time.Minute

// queueChecks reads the deploy queue on the primary host: its holder and
// how long it has held it, who waits, and a freeze.
func queueChecks(ctx context.Context, t *Target) []Check {
	if t.Host.Name != t.Config.PrimaryHost() {
		return nil
	}
	st, err := queue.Look(ctx, t.Host.Shell, queue.Dir(t.Config.ServiceAndDestination()))
	if err != nil {
		return []Check{fail("queue", "ship queue", "%v", err)}
	}
	return []Check{queueState(st, t.Now())}
}

// queueState judges the queue's state.
func queueState(st queue.State, now time.Time) Check {
	const name = "queue"
	waiting := len(st.Tickets)
	if st.Holder != nil && waiting > 0 {
		waiting-- // the holder's ticket comes first
	}
	switch {
	case st.Freeze != nil:
		return warn(name, "ship lock release, once the reason is over", "frozen by %s for %s: %q; %d waiting",
			st.Freeze.Performer, now.Sub(st.Freeze.Since).Round(time.Second), st.Freeze.Message, waiting)
	case st.Holder != nil && st.Holder.Since.IsZero():
		return ok(name, "held by a ship starting up; %d waiting", waiting)
	case st.Holder != nil && now.Sub(st.Holder.Since) > queueAge:
		return warn(name, "ship queue shows it; the queue frees itself when that ship exits", "held for %s by %s; %d waiting",
			now.Sub(st.Holder.Since).Round(time.Second), st.Holder, waiting)
	case st.Holder != nil:
		return ok(name, "held for %s by %s; %d waiting", now.Sub(st.Holder.Since).Round(time.Second), st.Holder, waiting)
	}
	return ok(name, "free")
}
