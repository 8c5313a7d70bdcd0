package queue

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/shipdeploy/ship/ssh"
)

// printRunner is a primary host whose list.sh prints out.
type printRunner struct{ out string }

func (p printRunner) Run(_ context.Context, c ssh.Cmd) error {
	_, err := io.WriteString(c.Stdout, p.out)
	return err
}

func TestListParses(t *testing.T) {
	out := "1700000000000000001-10\t{\"command\":\"deploy\",\"version\":\"v1\",\"performer\":\"alice\"}\n" +
		"1700000000000000002-11\t{\"command\":\"dep\n" + // caught mid-write
		"FREEZE\t{\"message\":\"migrating\",\"performer\":\"carol\"}\n" +
		"HELD\t\n" // the holder file caught mid-copy
	st, err := List(context.Background(), printRunner{out}, testDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Tickets) != 2 || st.Tickets[0].ID != "1700000000000000001-10" || st.Tickets[0].Version != "v1" || st.Tickets[1].ID != "1700000000000000002-11" {
		t.Errorf("tickets = %+v", st.Tickets)
	}
	if st.Holder == nil {
		t.Error("a held queue whose holder is unknown shows as free")
	}
	if st.Freeze == nil || st.Freeze.Message != "migrating" {
		t.Errorf("freeze = %+v", st.Freeze)
	}
	if st.Me != -1 {
		t.Errorf("Me = %d, want -1", st.Me)
	}
}

func TestListEmpty(t *testing.T) {
	st, err := List(context.Background(), printRunner{""}, testDir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Holder != nil || st.Freeze != nil || len(st.Tickets) != 0 || st.summary() != "free" {
		t.Errorf("state = %+v, summary %q", st, st.summary())
	}
}

func TestSupersederOf(t *testing.T) {
	st := State{Tickets: []Ticket{deploy("v1"), deploy("v2"), deploy("v3"), rollback("v1")}}
	if got, why := st.supersederOf(0); got == nil || got.Version != "v3" || why != "v3 was requested later" {
		t.Errorf("superseder of the first = %+v, %q; want v3, requested later (rollbacks never supersede)", got, why)
	}
	if got, _ := st.supersederOf(2); got != nil {
		t.Errorf("superseder of the newest = %+v, want none", got)
	}
}

func run(version string, number int64) Ticket {
	tk := deploy(version)
	tk.Order = Order{Source: GitHubSource("acme/shop/.github/workflows/deploy.yml"), Run: number, Attempt: 1}
	return tk
}

func commit(version, sha string) Ticket {
	tk := deploy(version)
	tk.Order = Order{Source: GitSource("main"), Commit: sha}
	return tk
}

// Within a workflow the run number decides, whatever the arrival; sources
// are never compared with each other; commits only git can order.
func TestSupersederOfOrders(t *testing.T) {
	rerun := run("v60", 60)
	rerun.Order.Attempt, rerun.Coalesce = 2, false
	other := run("w9", 99)
	other.Order.Source = GitHubSource("acme/shop/.github/workflows/other.yml")
	st := State{Tickets: []Ticket{
		run("v63", 63), run("v62", 62), deploy("laptop"), run("v61", 61), rerun, other,
		commit("c2", "2222"), commit("c1", "1111"), commit("c2-again", "2222"),
	}}
	for i, want := range []string{"", "v63 (run 63) is newer", "", "v63 (run 63) is newer", "", "", "c2-again (commit 2222) was requested later", "", ""} {
		got, why := st.supersederOf(i)
		if got == nil && why != "" || got != nil && why == "" {
			t.Errorf("%s: superseder %+v but reason %q", st.Tickets[i].Version, got, why)
		}
		if why != want {
			t.Errorf("%s: superseded because %q, want %q", st.Tickets[i].Version, why, want)
		}
	}
}

func TestSummary(t *testing.T) {
	since := time.Date(2025, 3, 1, 14, 5, 9, 0, time.Local)
	holder := Ticket{Performer: "alice", Command: "deploy", Version: "v1", Since: since, From: "laptop"}
	waiting := State{Holder: &holder, Tickets: []Ticket{holder, deploy("v2"), deploy("v3")}, Me: 2}
	frozen := waiting
	frozen.Freeze = &Freeze{Message: "migrating", Performer: "carol", Since: since}
	for _, tt := range []struct {
		st   State
		want string
	}{
		{State{Me: -1}, "free"},
		{waiting, "held by deploy v1 (requested by alice at 14:05:09 from laptop); you are number 2 of 2 waiting"},
		{frozen, "frozen by carol since 14:05:09: migrating; you are number 2 of 2 waiting"},
	} {
		if got := tt.st.summary(); got != tt.want {
			t.Errorf("summary = %q\nwant      %q", got, tt.want)
		}
	}
}
