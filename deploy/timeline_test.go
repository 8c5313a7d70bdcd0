package deploy

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// clockAt makes tl's marks happen at the offsets from its start that
// at gives, in order.
func clockAt(tl *Timeline, start time.Time, offsets ...time.Duration) {
	tl.now = func() time.Time {
		at := start.Add(offsets[0])
		offsets = offsets[1:]
		return at
	}
}

func TestTimelineSteps(t *testing.T) {
	start := time.Now()
	tl := NewTimeline(start)
	clockAt(tl, start, 100*time.Millisecond, 300*time.Millisecond, 350*time.Millisecond,
		400*time.Millisecond, 1000*time.Millisecond)
	tl.Hosts("a", "b", "a")
	tl.All(PhaseConnect)
	tl.Mark("a", "web", PhaseCheck)
	tl.Mark("b", "", PhaseProxy)
	tl.Mark("a", "web", PhaseCheck) // goes on
	tl.All(PhaseReport)
	tl.Hosts("c") // the phases of every host are its own too
	got := tl.Steps(start.Add(1200 * time.Millisecond))
	want := []HostTimeline{
		{Host: "a", Steps: []TimedStep{
			{Step: PhaseLocal, TookSeconds: 0.1},
			{Step: PhaseConnect, AtSeconds: 0.1, TookSeconds: 0.2},
			{Step: PhaseCheck, Role: "web", AtSeconds: 0.3, TookSeconds: 0.7},
			{Step: PhaseReport, AtSeconds: 1, TookSeconds: 0.2},
		}},
		{Host: "b", Steps: []TimedStep{
			{Step: PhaseLocal, TookSeconds: 0.1},
			{Step: PhaseConnect, AtSeconds: 0.1, TookSeconds: 0.25},
			{Step: PhaseProxy, AtSeconds: 0.35, TookSeconds: 0.65},
			{Step: PhaseReport, AtSeconds: 1, TookSeconds: 0.2},
		}},
		{Host: "c", Steps: []TimedStep{
			{Step: PhaseLocal, TookSeconds: 0.1},
			{Step: PhaseConnect, AtSeconds: 0.1, TookSeconds: 0.9},
			{Step: PhaseReport, AtSeconds: 1, TookSeconds: 0.2},
		}},
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("steps:\n got %s\nwant %s", g, w)
	}
}

// Steps shorter than a millisecond still add up to the whole, to the
// millisecond.
func TestTimelineAddsUp(t *testing.T) {
	start := time.Now()
	tl := NewTimeline(start)
	var offsets []time.Duration
	for i := 1; i <= 30; i++ {
		offsets = append(offsets, time.Duration(i)*1700*time.Microsecond)
	}
	clockAt(tl, start, offsets...)
	tl.Hosts("a")
	for i := range offsets {
		tl.Mark("a", "", Phase(i%2)+PhaseStart)
	}
	end := start.Add(time.Second + 900*time.Microsecond)
	var sum int64
	for _, s := range tl.Steps(end)[0].Steps {
		sum += int64(s.TookSeconds*1000 + 0.5)
	}
	if sum != 1000 {
		t.Errorf("the steps add up to %dms, want 1000ms", sum)
	}
}

func TestTimelineNil(t *testing.T) {
	var tl *Timeline
	tl.Hosts("a")
	tl.All(PhaseLocal)
	tl.Mark("a", "web", PhaseStart)
	if got := tl.Steps(time.Now()); got != nil {
		t.Errorf("a nil timeline has steps %v", got)
	}
	r := &Report{Command: "deploy", StartedAt: time.Now()}
	r.Finish(nil)
	if b, _ := json.Marshal(r); !strings.Contains(string(b), `"timeline":[]`) {
		t.Errorf("a report without a clock: %s", b)
	}
}

func TestPhaseWords(t *testing.T) {
	seen := map[string]bool{}
	for p := PhaseLocal; p <= PhaseReport; p++ {
		b, err := p.MarshalText()
		if err != nil || len(b) == 0 || seen[string(b)] || string(b) != p.String() {
			t.Fatalf("phase %d: %q %v", int(p), b, err)
		}
		seen[string(b)] = true
		var back Phase
		if err := back.UnmarshalText(b); err != nil || back != p {
			t.Errorf("%q reads back as %v (%v)", b, back, err)
		}
	}
	if _, err := Phase(0).MarshalText(); err == nil {
		t.Error("the zero phase encodes")
	}
	if s := PhaseRestorePoint.String(); s != "restore point" {
		t.Errorf("PhaseRestorePoint is %q", s)
	}
}

// The report's timeline, for people: a table per host with -v, and in
// the step summary, folded, with each step's share of the whole.
func TestTimelineRendering(t *testing.T) {
	r := &Report{Command: "deploy", Service: "shop", Version: "v2", Result: Deployed, TookSeconds: 10,
		Hosts: []OutcomeReport{{Host: "web|1", Role: "web", From: "v1", To: "v2", Result: Deployed, Health: Healthy}},
		Timeline: []HostTimeline{{Host: "web|1", Steps: []TimedStep{
			{Step: PhaseConnect, TookSeconds: 1},
			{Step: PhaseHealth, Role: "web", AtSeconds: 1, TookSeconds: 8},
			{Step: PhaseRestorePoint, Role: "web<b>", AtSeconds: 9, TookSeconds: 1},
		}}}}
	md := r.Markdown()
	for _, want := range []string{
		"<details><summary>Timeline: where the 10.0s went</summary>\n\n**web\\|1**\n\n",
		"| Step | Role | At | Took | Share |\n| --- | --- | --- | --- | --- |\n",
		"| connect | - | 0.000s | 1.000s | 10% |\n",
		"| health | web | 1.000s | 8.000s | 80% |\n",
		"| restore point | web&lt;b&gt; | 9.000s | 1.000s | 10% |\n\n</details>\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Index(md, "<details>") < strings.Index(md, "| web\\|1 | web |") {
		t.Errorf("the timeline comes before the outcomes:\n%s", md)
	}

	var b bytes.Buffer
	WriteTimeline(&b, r.Timeline, r.TookSeconds)
	want := `
timeline of web|1 (10.000s):
  STEP           ROLE    AT      TOOK    SHARE
  connect        -       0.000s  1.000s  10%
  health         web     1.000s  8.000s  80%
  restore point  web<b>  9.000s  1.000s  10%
`
	if b.String() != want {
		t.Errorf("-v prints:\n%s\nwant:\n%s", b.String(), want)
	}

	r.Hosts = nil // a deploy that ended before any swap
	if !strings.Contains(r.Markdown(), "| health | web | 1.000s | 8.000s | 80% |") {
		t.Errorf("a summary without outcomes lacks the timeline:\n%s", r.Markdown())
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
