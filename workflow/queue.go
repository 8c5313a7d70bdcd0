package workflow

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/shipdeploy/ship/audit"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/gate"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/ssh"
)

// mutate runs fn holding the service's deploy queue on the primary host
// (whatever --hosts says, so a partial deploy cannot sidestep it). Before
// fn, it repairs any replacement of databases a killed ship left half-done
// on a connected host, then any swap on units. The
// session must be connected.
func (s *session) mutate(ctx context.Context, units []deploy.Unit, ticket queue.Ticket, fn func(ctx context.Context) error) error {
	return s.mutateOrdered(ctx, units, ticket, func(ctx context.Context, _ *admitted) error { return fn(ctx) })
}

// mutateOrdered is mutate for a deploy: holding the queue, it first
// decides by the ticket's order whether the deploy runs at all (admit),
// and hands fn what it learnt.
func (s *session) mutateOrdered(ctx context.Context, units []deploy.Unit, ticket queue.Ticket, fn func(ctx context.Context, a *admitted) error) error {
	primary := s.cfg.PrimaryHost()
	ticket.Performer = audit.Performer()
	ticket.Since = time.Now()
	ticket.From, _ = os.Hostname()
	timeout := s.QueueTimeout
	if timeout == 0 {
		timeout = 30 * time.Minute
	}
	s.timeline.All(deploy.PhaseQueue)
	held, err := queue.Join(ctx, s.pool.Conn(primary), queue.Dir(s.cfg.ServiceAndDestination()), ticket, queue.Options{
		Timeout: timeout,
		Progress: func(st queue.State) {
			if st.Me > 0 || st.Freeze != nil {
				s.UI.Infof("waiting for the deploy queue on %s: %s", primary, QueueSummary(st))
			}
		},
	})
	if err != nil {
		return s.superseded(ticket, err)
	}
	defer held.Release()
	ctx, cancel := held.Context(ctx)
	defer cancel()
	a := &admitted{ticket: held.Ticket}
	if ticket.Command == "deploy" {
		if a, err = s.admit(ctx, held.Ticket, units); err != nil {
			return s.superseded(ticket, err)
		}
	}
	s.timeline.All(deploy.PhaseRepair)
	out := s.output()
	for _, name := range slices.Sorted(maps.Keys(s.engines)) {
		w := out.Prefixed("[" + name + "] ")
		err := database.RepairData(ctx, s.engines[name], s.cfg, w)
		if err == nil && s.isReplicaHost(name) {
			err = gate.Repair(ctx, s.engines[name], s.cfg, w)
		}
		w.Close()
		if err != nil {
			return err
		}
	}
	for _, unit := range units {
		w := out.Prefixed("[" + unit.Host.Address + " " + unit.Role.Name + "] ")
		err := deploy.Repair(ctx, s.engines[unit.Host.Address], s.cfg, unit.Role, w)
		w.Close()
		if err != nil {
			return err
		}
	}
	s.timeline.All(deploy.PhaseLocal)
	return fn(ctx, a)
}

// superseded prints how a deploy that a newer one superseded ends, and
// makes its error ErrSuperseded, which ends the command well. Other
// errors pass as they are.
func (s *session) superseded(ticket queue.Ticket, err error) error {
	var sup *queue.SupersededError
	if !errors.As(err, &sup) {
		return err
	}
	fmt.Fprintf(s.UI.Out, "%s %s: %v\n", ticket.Command, ticket.Version, sup)
	if sup.Deployed {
		s.UI.Infof("nothing was changed; to deploy %s over the newer version anyway: ship deploy --no-coalesce, a re-run of the workflow run, or ship rollback %s if it is retained", ticket.Version, ticket.Version)
	}
	return fmt.Errorf("%w: %w", ErrSuperseded, sup)
}

// QueueSummary says in one line who holds the queue, any freeze, and the
// caller's place.
func QueueSummary(st queue.State) string {
	s := "free"
	if st.Freeze != nil {
		s = fmt.Sprintf("frozen by %s since %s: %s", st.Freeze.Performer, st.Freeze.Since.Local().Format("15:04:05"), st.Freeze.Message)
	} else if st.Holder != nil {
		s = "held by " + st.Holder.String()
	}
	if st.Me > 0 {
		s += fmt.Sprintf("; you are number %d of %d waiting", st.Me, len(st.Tickets)-1)
	}
	return s
}

// QueueStatus is who holds the service's deploy queue and who waits.
type QueueStatus struct {
	Service string
	Primary string // the host the queue lives on
	State   queue.State
}

// primaryConn connects to the primary host only: queue commands never
// wait in the queue.
func primaryConn(g Globals) (*session, *ssh.Conn, error) {
	cfg, err := LoadConfig(g)
	if err != nil {
		return nil, nil, err
	}
	s := newSession(g, cfg, nil)
	return s, s.pool.Conn(cfg.PrimaryHost()), nil
}

// Queue reads the deploy queue (ship queue, ship lock status).
func Queue(ctx context.Context, g Globals) (QueueStatus, error) {
	s, conn, err := primaryConn(g)
	if err != nil {
		return QueueStatus{}, err
	}
	defer s.close()
	st, err := queue.List(ctx, conn, queue.Dir(s.cfg.ServiceAndDestination()))
	return QueueStatus{Service: s.cfg.Service, Primary: conn.Host(), State: st}, err
}

// LockAcquire freezes deploys until LockRelease: they wait behind the
// freeze, which names message.
func LockAcquire(ctx context.Context, g Globals, message string) error {
	s, conn, err := primaryConn(g)
	if err != nil {
		return err
	}
	defer s.close()
	f := queue.Freeze{Message: message, Performer: audit.Performer(), Since: time.Now()}
	if err := queue.SetFreeze(ctx, conn, queue.Dir(s.cfg.ServiceAndDestination()), f); err != nil {
		return err
	}
	s.UI.Infof("deploys of %s are frozen until ship lock release", s.cfg.Service)
	return nil
}

// LockRelease lifts the freeze, if there is one.
func LockRelease(ctx context.Context, g Globals) error {
	s, conn, err := primaryConn(g)
	if err != nil {
		return err
	}
	defer s.close()
	cleared, err := queue.ClearFreeze(ctx, conn, queue.Dir(s.cfg.ServiceAndDestination()))
	if err != nil {
		return err
	}
	if cleared {
		s.UI.Infof("freeze lifted")
	} else {
		s.UI.Infof("there was no freeze (the queue needs no releasing: it frees itself when a deployer exits)")
	}
	return nil
}
