package workflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/shipdeploy/ship/drill"
	"github.com/shipdeploy/ship/queue"
)

// DBDrillRequest is ship db drill: exactly one of Schedule, Now and
// Unschedule.
type DBDrillRequest struct {
	Globals
	Schedule   string // hourly, daily, or a 5-field cron expression
	Now        bool
	Unschedule bool
}

// DBDrillResult is what ship db drill did on the Litestream host.
type DBDrillResult struct {
	Host string
	// Entry is the drill --now ran, as logged.
	Entry *drill.Entry
	// Scheduled is the schedule installed; Removed says --unschedule
	// found one to remove.
	Scheduled string
	Removed   bool
}

// check reads the request before anything is contacted: one action, and
// a schedule that parses.
func (r DBDrillRequest) check() (*drill.Schedule, error) {
	n := 0
	for _, set := range []bool{r.Schedule != "", r.Now, r.Unschedule} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, usage(errors.New("ship db drill takes one of --schedule hourly|daily|\"CRON\", --now or --unschedule"))
	}
	if r.Schedule == "" {
		return nil, nil
	}
	s, err := drill.ParseSchedule(r.Schedule)
	if err != nil {
		return nil, usage(fmt.Errorf("--schedule: %w", err))
	}
	return &s, nil
}

// DBDrill schedules the fire drill on the Litestream host, removes the
// schedule, or runs one drill now. Installing and removing are
// mutations, under the deploy queue; a drill now only reads the live
// databases, as db verify does, and takes no lock. A drill that ran and
// failed returns its entry and an error.
func DBDrill(ctx context.Context, r DBDrillRequest) (*DBDrillResult, error) {
	sched, err := r.check()
	if err != nil {
		return nil, err
	}
	s, h, err := openDB(ctx, r.Globals)
	if err != nil {
		return nil, err
	}
	defer s.close()
	res := &DBDrillResult{Host: h.Name}
	local, err := localEngine()
	if err != nil {
		return nil, err
	}
	defer local.Close()
	out := s.output().Prefixed("[" + h.Name + "] ")
	defer out.Close()
	switch {
	case r.Now:
		e, err := drill.Now(ctx, h, local, s.cfg, out)
		if err != nil {
			return nil, err
		}
		res.Entry = e
		if !e.OK {
			return res, fmt.Errorf("the fire drill failed: %s", e.Problem)
		}
		return res, nil
	case r.Unschedule:
		err = s.mutate(ctx, nil, queue.Ticket{Command: "db drill --unschedule"}, func(ctx context.Context) error {
			res.Removed, err = drill.Remove(ctx, h, s.cfg)
			return err
		})
		return res, err
	}
	err = s.mutate(ctx, nil, queue.Ticket{Command: "db drill --schedule"}, func(ctx context.Context) error {
		return drill.Install(ctx, h, local, s.cfg, *sched, out)
	})
	if err != nil {
		return nil, err
	}
	res.Scheduled = sched.Spec
	return res, nil
}
