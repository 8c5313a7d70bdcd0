package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shipdeploy/ship/ssh"
)

// Freeze is a manual hold on the queue (`ship lock acquire -m MSG`): deploys
// wait behind it until `ship lock release`.
type Freeze struct {
	Message   string    `json:"message"`
	Performer string    `json:"performer"`
	Since     time.Time `json:"since"`
}

// State is the queue as the primary host sees it.
type State struct {
	Holder  *Ticket  `json:"holder"`  // nil when free
	Tickets []Ticket `json:"waiting"` // in order; the holder's ticket comes first while it holds
	Freeze  *Freeze  `json:"freeze"`
	Me      int      `json:"-"` // the caller's index in Tickets, -1 if absent
}

// List reads the queue. Dead processes' tickets are cleared as it goes.
func List(ctx context.Context, r ssh.Runner, dir string) (State, error) {
	return listFor(ctx, r, dir, "")
}

// Look reads the queue as List does, but changes nothing: dead processes'
// tickets are left out, and left in place (ship doctor only reads).
func Look(ctx context.Context, r ssh.Runner, dir string) (State, error) {
	return read(ctx, r, ssh.NamedScript("ship-queue", listScript, dir, "", "look"))
}

// listFor is List for the owner of ticket mine ("" for none), which is live
// for as long as its owner asks: list.sh need not probe its lock, which
// costs a live ticket flock's wait.
func listFor(ctx context.Context, r ssh.Runner, dir, mine string) (State, error) {
	return read(ctx, r, ssh.NamedScript("ship-queue", listScript, dir, mine))
}

// read runs list.sh as cmd and reads what it prints.
func read(ctx context.Context, r ssh.Runner, cmd ssh.Cmd) (State, error) {
	var out strings.Builder
	cmd.Stdout = &out
	if err := r.Run(ctx, cmd); err != nil {
		return State{}, fmt.Errorf("read the deploy queue: %w", err)
	}
	st := State{Me: -1}
	// Not TrimSpace: it would take the tab off a last line of "HELD\t",
	// a holder caught before its ticket is copied, and show the queue free.
	for _, line := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		kind, data, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		switch kind {
		case "FREEZE":
			var f Freeze
			if json.Unmarshal([]byte(data), &f) == nil {
				st.Freeze = &f
			}
		case "HELD":
			var t Ticket
			json.Unmarshal([]byte(data), &t) // a holder caught mid-write shows as unknown
			st.Holder = &t
		default:
			var t Ticket
			json.Unmarshal([]byte(data), &t) // a ticket caught mid-write counts, unnamed
			t.ID = kind
			st.Tickets = append(st.Tickets, t)
		}
	}
	return st, nil
}

// supersederOf returns the newest coalescing deploy that makes the
// coalescing deploy at index i unnecessary, and why; nil when there is
// none, or when only git could tell.
//
// Every waiting deploy decides for itself, at its own moments, so the
// rule must give every one of them the same answer whatever subset of the
// queue it sees: newer must be a strict order, read from the tickets
// alone. Within a GitHub Actions workflow that is the run number, within a
// branch the same commit requested again, and among deploys without a
// source the arrival. Sources are never compared with each other: mixing
// arrival across sources with keys within them could make a cycle (A's
// run 2 beats its run 1, a laptop that came later beats run 2, run 1 that
// came later still beats the laptop), and then all three would step aside.
// Ties in the key fall to the later arrival.
func (s State) supersederOf(i int) (*Ticket, string) {
	me := s.Tickets[i]
	if !me.Coalesce {
		return nil, ""
	}
	best := -1
	for j, u := range s.Tickets {
		if j == i || !u.Coalesce || !s.newer(j, i) {
			continue
		}
		if best < 0 || s.newer(j, best) {
			best = j
		}
	}
	if best < 0 {
		return nil, ""
	}
	u := s.Tickets[best]
	if c, _ := u.Order.Compare(me.Order); c > 0 {
		return &u, u.Order.Name(u.Version) + " is newer"
	}
	return &u, u.Order.Name(u.Version) + " was requested later"
}

// newer reports whether the ticket at j is newer than the one at k, from
// the tickets alone (see supersederOf). Tickets are in arrival order.
func (s State) newer(j, k int) bool {
	a, b := s.Tickets[j].Order, s.Tickets[k].Order
	if a.Source == "" && b.Source == "" {
		return j > k
	}
	c, ok := a.Compare(b)
	return ok && (c > 0 || c == 0 && j > k)
}

func (s State) summary() string {
	var b strings.Builder
	switch {
	case s.Freeze != nil:
		fmt.Fprintf(&b, "frozen by %s since %s: %s", s.Freeze.Performer, s.Freeze.Since.Local().Format("15:04:05"), s.Freeze.Message)
	case s.Holder != nil:
		fmt.Fprintf(&b, "held by %s", s.Holder)
	default:
		b.WriteString("free")
	}
	if s.Me > 0 {
		fmt.Fprintf(&b, "; you are number %d of %d waiting", s.Me, len(s.Tickets)-1)
	}
	return b.String()
}

// SetFreeze freezes the queue; ClearFreeze lifts it.
func SetFreeze(ctx context.Context, r ssh.Runner, dir string, f Freeze) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	cmd := ssh.Script(freezeScript, dir)
	cmd.Stdin = strings.NewReader(string(data) + "\n")
	if err := r.Run(ctx, cmd); err != nil {
		return fmt.Errorf("freeze the deploy queue: %w", err)
	}
	return nil
}

// ClearFreeze lifts a freeze; it reports whether there was one.
func ClearFreeze(ctx context.Context, r ssh.Runner, dir string) (bool, error) {
	var out strings.Builder
	cmd := ssh.Script(unfreezeScript, dir)
	cmd.Stdout = &out
	if err := r.Run(ctx, cmd); err != nil {
		return false, fmt.Errorf("release the freeze: %w", err)
	}
	return strings.TrimSpace(out.String()) == "cleared", nil
}
