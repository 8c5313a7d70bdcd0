package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/audit"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/ssh"
)

// queueFlags go on every mutating command.
func queueFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "queue-timeout", Value: 30 * time.Minute, Usage: "how long to wait for the deploy queue"},
	}
}

// errSuperseded ends a deploy that a newer queued deploy replaces: exit 0.
var errSuperseded = errors.New("superseded")

// mutate runs fn holding the service's deploy queue on the primary host
// (the first host of the primary role, whatever --hosts says, so a partial
// deploy cannot sidestep it). Before fn, it repairs any swap a killed ship
// left half-done on the selected units.
func mutate(c *cli.Context, cfg *config.Config, pool *ssh.Pool, engines map[string]*host.Host, units []deploy.Unit,
	ticket queue.Ticket, fn func(ctx context.Context) error) error {
	primary := cfg.Role(cfg.PrimaryRole).Hosts[0].Address
	u := newUI(c)
	ticket.Performer = audit.Performer()
	ticket.Since = time.Now()
	ticket.From, _ = os.Hostname()
	held, err := queue.Join(c.Context, pool.Conn(primary), queue.Dir(cfg.ServiceAndDestination()), ticket, queue.Options{
		Timeout: c.Duration("queue-timeout"),
		Progress: func(st queue.State) {
			if st.Me > 0 || st.Freeze != nil {
				u.infof("waiting for the deploy queue on %s: %s", primary, queueSummary(st))
			}
		},
	})
	var sup *queue.SupersededError
	if errors.As(err, &sup) {
		fmt.Fprintf(c.App.Writer, "%s %s: %v\n", ticket.Command, ticket.Version, err)
		return fmt.Errorf("%w: %w", errSuperseded, sup)
	}
	if err != nil {
		return err
	}
	defer held.Release()
	ctx, cancel := held.Context(c.Context)
	defer cancel()
	out := output(c.App.Writer)
	for _, unit := range units {
		w := out.Prefixed("[" + unit.Host.Address + " " + unit.Role.Name + "] ")
		err := deploy.Repair(ctx, engines[unit.Host.Address], cfg, unit.Role, w)
		w.Close()
		if err != nil {
			return err
		}
	}
	return fn(ctx)
}

func queueSummary(st queue.State) string {
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

func queueCommand() *cli.Command {
	return &cli.Command{
		Name:   "queue",
		Usage:  "show who holds the deploy queue, and who waits",
		Flags:  []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "one JSON document"}},
		Action: queueStatus,
	}
}

func lockCommand() *cli.Command {
	return &cli.Command{
		Name:  "lock",
		Usage: "the deploy queue: status, and a manual freeze that deploys wait behind",
		Subcommands: []*cli.Command{
			{Name: "status", Usage: "as ship queue", Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "one JSON document"}}, Action: queueStatus},
			{
				Name: "acquire", Usage: "freeze deploys until ship lock release",
				Flags:  []cli.Flag{&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Required: true, Usage: "why, shown to everyone who waits"}},
				Action: lockAcquire,
			},
			{Name: "release", Usage: "lift the manual freeze (nothing else needs releasing)", Action: lockRelease},
		},
	}
}

// primaryConn connects to the primary host only: queue commands never wait.
func primaryConn(c *cli.Context) (*config.Config, *ssh.Pool, *ssh.Conn, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return nil, nil, nil, err
	}
	pool := ssh.NewPool(fleet.SSHConfig(cfg))
	return cfg, pool, pool.Conn(cfg.Role(cfg.PrimaryRole).Hosts[0].Address), nil
}

func queueStatus(c *cli.Context) error {
	cfg, pool, conn, err := primaryConn(c)
	if err != nil {
		return err
	}
	defer pool.Close()
	st, err := queue.List(c.Context, conn, queue.Dir(cfg.ServiceAndDestination()))
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, st)
	}
	fmt.Fprintf(c.App.Writer, "deploy queue of %s on %s: %s\n", cfg.Service, conn.Host(), queueSummary(st))
	for i, t := range st.Tickets {
		if i == 0 && st.Holder != nil {
			continue
		}
		fmt.Fprintf(c.App.Writer, "  waiting: %s\n", t)
	}
	return nil
}

func lockAcquire(c *cli.Context) error {
	cfg, pool, conn, err := primaryConn(c)
	if err != nil {
		return err
	}
	defer pool.Close()
	f := queue.Freeze{Message: c.String("message"), Performer: audit.Performer(), Since: time.Now()}
	if err := queue.SetFreeze(c.Context, conn, queue.Dir(cfg.ServiceAndDestination()), f); err != nil {
		return err
	}
	newUI(c).infof("deploys of %s are frozen until ship lock release", cfg.Service)
	return nil
}

func lockRelease(c *cli.Context) error {
	cfg, pool, conn, err := primaryConn(c)
	if err != nil {
		return err
	}
	defer pool.Close()
	cleared, err := queue.ClearFreeze(c.Context, conn, queue.Dir(cfg.ServiceAndDestination()))
	if err != nil {
		return err
	}
	if cleared {
		newUI(c).infof("freeze lifted")
	} else {
		newUI(c).infof("there was no freeze (the queue needs no releasing: it frees itself when a deployer exits)")
	}
	return nil
}
