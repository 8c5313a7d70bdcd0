package main

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
)

// timelineDoc is what these tests read of deploy --json's document.
type timelineDoc struct {
	Command     string  `json:"command"`
	Result      string  `json:"result"`
	TookSeconds float64 `json:"took_seconds"`
	Timeline    []struct {
		Host  string `json:"host"`
		Steps []struct {
			Step        string  `json:"step"`
			Role        string  `json:"role"`
			AtSeconds   float64 `json:"at_seconds"`
			TookSeconds float64 `json:"took_seconds"`
		} `json:"steps"`
	} `json:"timeline"`
}

// steps are the host's steps, "STEP ROLE" where the step has a role.
func (d timelineDoc) steps(t *testing.T, host string) []string {
	t.Helper()
	for _, h := range d.Timeline {
		if h.Host != host {
			continue
		}
		var steps []string
		for _, s := range h.Steps {
			steps = append(steps, strings.TrimSpace(s.Step+" "+s.Role))
		}
		return steps
	}
	t.Fatalf("no timeline of %s in %+v", host, d.Timeline)
	return nil
}

// checkSum fails unless every host's steps follow each other from the
// command's start and add up to its wall time, within 5 %.
func (d timelineDoc) checkSum(t *testing.T) {
	t.Helper()
	for _, h := range d.Timeline {
		sum, at := 0.0, 0.0
		for _, s := range h.Steps {
			if math.Abs(s.AtSeconds-at) > 0.0015 {
				t.Errorf("%s: step %s begins at %.3fs, the one before ended at %.3fs", h.Host, s.Step, s.AtSeconds, at)
			}
			sum += s.TookSeconds
			at = s.AtSeconds + s.TookSeconds
		}
		if math.Abs(sum-d.TookSeconds) > 0.05*d.TookSeconds {
			t.Errorf("%s: the steps add up to %.3fs, the deploy took %.3fs", h.Host, sum, d.TookSeconds)
		}
	}
}

// inOrder fails unless want's steps appear in got in this order, other
// steps allowed between them.
func inOrder(t *testing.T, what string, got, want []string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("%s: the timeline lacks %q after %q:\n%s", what, want[i], want[:i], strings.Join(got, "\n"))
	}
}

func timelineOf(t *testing.T, a *app, wantCode int, args ...string) (timelineDoc, string) {
	t.Helper()
	out, errOut, code := a.ship(t, args...)
	var d timelineDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != wantCode {
		t.Fatalf("ship %s: exit %d (%v)\n%s%s", strings.Join(args, " "), code, err, out, errOut)
	}
	return d, errOut
}

// A proxied deploy's --json document has each host's timeline: every
// step of the swap's spec in its order, from connecting to the report,
// adding up to the deploy's wall time. -v shows it as a table. A rollback
// and a failed deploy have theirs too.
func TestDeployTimeline(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	a := proxiedApp(t, "timeline", "", "", "v1", "v2")
	testapp.Image(t, h1.DockerHost, "ship-it-timeline:bad", testapp.ImageOptions{FailHealthcheck: true})
	appendConfig(t, a, "databases: [/data/app.sqlite3]\n", "")
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")

	d, errOut := timelineOf(t, a, 0, "deploy", "--skip-build", "--version", "v2", "--json", "-v")
	if d.Result != "deployed" || len(d.Timeline) != 1 {
		t.Fatalf("deploy v2: result %q, %d timelines", d.Result, len(d.Timeline))
	}
	steps := d.steps(t, h2.Addr)
	inOrder(t, "deploy", steps, []string{"local", "connect", "local", "queue", "repair", "local",
		"proxy", "image", "create", "wait",
		"check web", "copy web", "pause web", "stop web", "check web", "restore point web",
		"start web", "health web", "route web", "record web", "resume web", "audit web",
		"prune web", "tag", "wait", "latest", "report"})
	if steps[0] != "local" || steps[len(steps)-1] != "report" {
		t.Errorf("the timeline runs from %q to %q, want local to report", steps[0], steps[len(steps)-1])
	}
	d.checkSum(t)
	if i := strings.Index(errOut, "\ntimeline of "); i >= 0 {
		t.Log(errOut[i:])
	}
	for _, want := range []string{"timeline of " + h2.Addr, "STEP", "restore point  web"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("-v does not show %q:\n%s", want, errOut)
		}
	}

	d, _ = timelineOf(t, a, 0, "rollback", "v1", "--json")
	steps = d.steps(t, h2.Addr)
	inOrder(t, "rollback", steps, []string{"connect", "queue", "repair", "proxy", "retained", "wait",
		"check web", "pause web", "stop web", "restore point web", "start web", "health web",
		"route web", "record web", "resume web", "audit web", "report"})
	if slices.Contains(steps, "image") || slices.Contains(steps, "create") {
		t.Errorf("a rollback's timeline has an image or create step:\n%s", strings.Join(steps, "\n"))
	}
	d.checkSum(t)

	d, _ = timelineOf(t, a, exitFailed, "deploy", "--skip-build", "--version", "bad", "--json")
	steps = d.steps(t, h2.Addr)
	inOrder(t, "a failed deploy", steps, []string{"pause web", "stop web", "restore point web",
		"start web", "health web", "stop web", "undo web", "restore web", "resume web", "audit web", "report"})
	if slices.Contains(steps, "tag") || slices.Contains(steps, "prune web") {
		t.Errorf("a failed deploy's timeline tags or prunes:\n%s", strings.Join(steps, "\n"))
	}
	d.checkSum(t)
}

// With two hosts and boot.limit 1, each host has its own timeline, adding
// up to the wall time: the host that swaps second waits, named so, while
// the first one swaps.
func TestDeployTimelineTwoHosts(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	a := deployedApp(t, "timeline-pair", h1, h2)
	appendConfig(t, a, "boot:\n  limit: 1\n", "")
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")

	d, _ := timelineOf(t, a, 0, "deploy", "--skip-build", "--version", "v2", "--json")
	if len(d.Timeline) != 2 || d.Timeline[0].Host != h1.Addr || d.Timeline[1].Host != h2.Addr {
		t.Fatalf("timelines of %+v, want %s and %s in config order", d.Timeline, h1.Addr, h2.Addr)
	}
	d.checkSum(t)
	swapped := map[string][2]float64{} // host: when its swap began and ended
	for _, h := range d.Timeline {
		steps := d.steps(t, h.Host)
		inOrder(t, h.Host, steps, []string{"connect", "queue", "repair", "proxy", "image", "create", "wait",
			"check web", "stop web", "start web", "health web", "route web", "audit web", "tag", "wait", "latest", "report"})
		var began, ended float64
		for _, s := range h.Steps {
			switch {
			case s.Step == "check" && began == 0:
				began = s.AtSeconds
			case s.Step == "audit":
				ended = s.AtSeconds + s.TookSeconds
			}
		}
		swapped[h.Host] = [2]float64{began, ended}
	}
	first, second := swapped[h1.Addr], swapped[h2.Addr]
	if first[0] > second[0] {
		first, second = second, first
	}
	if second[0] < first[1] {
		t.Errorf("with boot.limit 1, one host's swap (%v) began before the other's (%v) ended", second, first)
	}
	// What the second host did meanwhile is a wait, right before its swap.
	for _, h := range d.Timeline {
		if swapped[h.Host] != second {
			continue
		}
		for i, s := range h.Steps {
			if s.Step == "check" {
				if prev := h.Steps[i-1]; prev.Step != "wait" || prev.AtSeconds > first[0] {
					t.Errorf("%s: before its swap %+v, want a wait from before the other host's swap began", h.Host, prev)
				}
				break
			}
		}
	}
}
