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
	var out strings.Builder
	cmd := ssh.NamedScript("ship-queue", listScript, dir)
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

// newestDeployAfter returns the newest coalescing deploy behind index i.
func (s State) newestDeployAfter(i int) *Ticket {
	for j := len(s.Tickets) - 1; j > i; j-- {
		if s.Tickets[j].Coalesce {
			return &s.Tickets[j]
		}
	}
	return nil
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
