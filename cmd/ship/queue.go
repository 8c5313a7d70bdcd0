package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/workflow"
)

// queueFlags go on every mutating command.
func queueFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "queue-timeout", Value: 30 * time.Minute, Usage: "how long to wait for the deploy queue"},
	}
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
				Flags: []cli.Flag{&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Required: true, Usage: "why, shown to everyone who waits"}},
				Action: func(c *cli.Context) error {
					return workflow.LockAcquire(c.Context, globals(c), c.String("message"))
				},
			},
			{Name: "release", Usage: "lift the manual freeze (nothing else needs releasing)",
				Action: func(c *cli.Context) error { return workflow.LockRelease(c.Context, globals(c)) }},
		},
	}
}

func queueStatus(c *cli.Context) error {
	q, err := workflow.Queue(c.Context, globals(c))
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, q.State)
	}
	st := q.State
	fmt.Fprintf(c.App.Writer, "deploy queue of %s on %s: %s\n", q.Service, q.Primary, workflow.QueueSummary(st))
	for i, t := range st.Tickets {
		if i == 0 && st.Holder != nil {
			continue
		}
		fmt.Fprintf(c.App.Writer, "  waiting: %s\n", t)
	}
	return nil
}
