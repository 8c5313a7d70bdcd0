package workflow

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// A --version or rollback VERSION is checked before anything uses it: a
// bad one is a usage error (exit 2), and the report, which becomes the
// step summary and the version output, never holds it.
func TestBadVersionNeverReachesTheReport(t *testing.T) {
	ctx := context.Background()
	for _, v := range []string{"v1|<img src=x>", "v1\nresult=deployed", "v1\r\n::error::x"} {
		for command, run := range map[string]func() (*deploy.Report, error){
			"deploy": func() (*deploy.Report, error) {
				return Deploy(ctx, DeployRequest{Globals: noConfig, Version: v, SkipBuild: true})
			},
			"rollback": func() (*deploy.Report, error) { return Rollback(ctx, RollbackRequest{Globals: noConfig, Version: v}) },
		} {
			rep, err := run()
			var u UsageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), "may contain only") {
				t.Errorf("%s %q: got %T %v, want the usage error for the version", command, v, err, err)
			}
			if rep == nil || rep.Version != "" || rep.Result != deploy.Failed {
				t.Fatalf("%s %q: report %+v, want failed and no version", command, v, rep)
			}
			md := rep.Markdown()
			if strings.Contains(md, v) || strings.Contains(md, "<img") || strings.Contains(md, "\n::error") {
				t.Errorf("%s %q: the step summary holds the version:\n%s", command, v, md)
			}
		}
	}
}

// ship build pull --version checks the version it is given, as every
// other command does, before any host is contacted.
func TestDeliverChecksTheVersion(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config", "deploy.yml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("service: app\nimage: acme/app\nservers: [\"127.0.0.1:1\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g := noConfig
	g.ConfigFile = file
	err := Deliver(context.Background(), g, "v1;id")
	var u UsageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), `version "v1;id" may contain only`) {
		t.Errorf("got %T %v, want the usage error for the version", err, err)
	}
}
