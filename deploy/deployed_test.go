package deploy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testshell"

	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
)

// The record of each source's newest deploy reads back as written, per
// role; a role never deployed has none; a file that is not the record
// says how to start afresh.
func TestLatestRecord(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	h := &host.Host{Name: "web1", Shell: testshell.Local{Home: home}}
	c := swapConfig(t)
	if got, err := ReadLatest(ctx, h, c, "web"); err != nil || len(got) != 0 {
		t.Fatalf("before any deploy: %v, %v; want an empty record", got, err)
	}
	at := time.Date(2026, 11, 21, 6, 30, 0, 0, time.UTC)
	run := queue.Order{Source: queue.GitHubSource("acme/shop/.github/workflows/deploy.yml"), Run: 63, Attempt: 1}
	commit := queue.Order{Source: queue.GitSource("main"), Commit: "4f9c2e1a8b3d4f9c2e1a8b3d4f9c2e1a8b3d4f9c"}
	want := map[string]Latest{
		run.Source:    {Version: "v63", Order: run, Performer: "octocat", From: "runner", Requested: at, At: at.Add(time.Minute)},
		commit.Source: {Version: commit.Commit, Order: commit, Performer: "alice", From: "laptop", Requested: at, At: at},
	}
	if err := WriteLatest(ctx, h, c, "web", want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLatest(ctx, h, c, "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[run.Source] != want[run.Source] || got[commit.Source] != want[commit.Source] {
		t.Errorf("read back %+v\nwant %+v", got, want)
	}
	if got[run.Source].Ticket().String() != "deploy v63 (run 63 of acme/shop/.github/workflows/deploy.yml; requested by octocat at "+at.Local().Format("15:04:05")+" from runner)" {
		t.Errorf("as a ticket: %s", got[run.Source].Ticket())
	}
	if other, err := ReadLatest(ctx, h, c, "jobs"); err != nil || len(other) != 0 {
		t.Errorf("another role: %v, %v; want an empty record", other, err)
	}
	file := filepath.Join(home, ".ship/apps/shop/deployed/web")
	os.WriteFile(file, []byte("not json\n"), 0o600)
	if _, err := ReadLatest(ctx, h, c, "web"); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Errorf("a damaged record: %v", err)
	}
	if err := ForgetLatest(ctx, h, c); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadLatest(ctx, h, c, "web"); err != nil || len(got) != 0 {
		t.Errorf("after ForgetLatest: %v, %v; want an empty record", got, err)
	}
}
