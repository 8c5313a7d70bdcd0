package workflow

import (
	"errors"
	"fmt"
	"testing"

	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/queue"
)

func TestFinishSupersededIsNoErrorInTheReport(t *testing.T) {
	rep := newReport("deploy", "v1")
	sup := &queue.SupersededError{By: queue.Ticket{Command: "deploy", Version: "v2", Performer: "ana"}}
	err := finish(nil, rep, fmt.Errorf("%w: %w", ErrSuperseded, sup))
	if !errors.Is(err, ErrSuperseded) {
		t.Errorf("error %v, want ErrSuperseded kept for the exit status", err)
	}
	if rep.Result != deploy.Superseded || rep.Error != "" {
		t.Errorf("report result %s, error %q; want superseded and no error", rep.Result, rep.Error)
	}
	if rep.SupersededBy == nil || rep.SupersededBy.Version != "v2" || rep.SupersededBy.Performer != "ana" {
		t.Errorf("superseded by %+v, want deploy v2 by ana", rep.SupersededBy)
	}
}

func TestFinishFailureIsInTheReport(t *testing.T) {
	rep := newReport("rollback", "v1")
	if err := finish(nil, rep, errors.New("no such version")); err == nil {
		t.Fatal("the error was lost")
	}
	if rep.Result != deploy.Failed || rep.Error != "no such version" {
		t.Errorf("report result %s, error %q; want failed with the error", rep.Result, rep.Error)
	}
}
