package deploy

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Phase is one step of a deploy's timeline: what ship was doing for a
// host from one moment to the next. Every moment of the command belongs to
// one phase, the gaps between the swap's own steps included ("local",
// "wait", "report"), so a host's phases add up to the command's wall time.
//
// In JSON a Phase is its word (docs/json.md); the words never change.
type Phase int

// The phases, in the order a successful deploy passes them on a host;
// the swap's numbered spec in swap.go names the ones of each of its steps.
const (
	// PhaseLocal: ship's own work on this machine: reading the config,
	// planning, working out the order key.
	PhaseLocal Phase = iota + 1
	// PhaseBuild: building the image with the local Docker Engine.
	PhaseBuild
	// PhaseConfirm: rollback --restore-data checks the restore point and
	// asks before anything stops.
	PhaseConfirm
	// PhaseHook: a local hook runs (pre-connect, pre-deploy, post-deploy).
	PhaseHook
	// PhaseConnect: SSH and the Docker Engine of every host, in parallel.
	PhaseConnect
	// PhaseQueue: joining the deploy queue on the primary host, waiting in
	// it, and being admitted.
	PhaseQueue
	// PhaseRepair: repairing what a killed ship left half-done.
	PhaseRepair
	// PhaseProxy: the network, kamal-proxy booted where a role is proxied,
	// its error pages.
	PhaseProxy
	// PhaseImage: the image onto the host, only the layers it lacks (most
	// of it sent while the deploy waited for the queue); the env files
	// are written meanwhile.
	PhaseImage
	// PhaseCreate: assets volumes and the new containers, created not
	// started (a deploy).
	PhaseCreate
	// PhaseRetained: finding the retained containers (a rollback).
	PhaseRetained
	// PhaseWait: the host waits for the others: to be prepared, for its
	// slot among boot.limit (and boot.wait), or to finish their swaps.
	PhaseWait
	// PhaseCheck: the single-writer check (step 5, and 7 after the stop).
	PhaseCheck
	// PhaseCopy: the bulk of the restore point copied while the old
	// version still serves, before the pause.
	PhaseCopy
	// PhasePause: kamal-proxy pauses the service, letting the requests
	// in flight finish (or puts it in maintenance).
	PhasePause
	// PhaseStop: the old version stops (or, after a failed start, the
	// new one does).
	PhaseStop
	// PhaseRestorePoint: the data step at the quiet point: a restore point
	// recorded, or put back (rollback --restore-data).
	PhaseRestorePoint
	// PhaseStart: the new version's container starts.
	PhaseStart
	// PhaseHealth: waiting for the new version's health check: the app's
	// own boot time.
	PhaseHealth
	// PhaseRoute: kamal-proxy is pointed at the new version.
	PhaseRoute
	// PhaseRecord: the healthy version is recorded on the host.
	PhaseRecord
	// PhaseResume: kamal-proxy releases the held requests.
	PhaseResume
	// PhaseUndo: after a failed start, the databases compared with the
	// restore point, and put back if a schema changed.
	PhaseUndo
	// PhaseRestore: after a failed start, the old version started again,
	// health-checked and routed.
	PhaseRestore
	// PhaseTally: the rows the failed version wrote, counted.
	PhaseTally
	// PhaseAudit: the audit log's entry on the host; old versions are
	// pruned meanwhile.
	PhaseAudit
	// PhasePrune: the part of pruning old versions that outlasts the
	// audit entry.
	PhasePrune
	// PhaseTag: the version tagged latest on the host.
	PhaseTag
	// PhaseLatest: the deploy recorded as its source's newest, on the
	// primary host.
	PhaseLatest
	// PhaseReport: printing the outcomes, releasing the queue, closing
	// the connections, and writing the report.
	PhaseReport
)

var phaseWords = map[Phase]string{
	PhaseLocal: "local", PhaseBuild: "build", PhaseConfirm: "confirm", PhaseHook: "hook",
	PhaseConnect: "connect", PhaseQueue: "queue", PhaseRepair: "repair", PhaseProxy: "proxy",
	PhaseImage: "image", PhaseCreate: "create", PhaseRetained: "retained", PhaseWait: "wait",
	PhaseCheck: "check", PhaseCopy: "copy", PhasePause: "pause", PhaseStop: "stop",
	PhaseRestorePoint: "restore point", PhaseStart: "start", PhaseHealth: "health",
	PhaseRoute: "route", PhaseRecord: "record", PhaseResume: "resume", PhaseUndo: "undo",
	PhaseRestore: "restore", PhaseTally: "tally", PhaseAudit: "audit", PhasePrune: "prune",
	PhaseTag: "tag", PhaseLatest: "latest", PhaseReport: "report",
}

// String is the phase's word, as JSON carries it: "restore point".
func (p Phase) String() string {
	if w, ok := phaseWords[p]; ok {
		return w
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// MarshalText encodes the phase as its word.
func (p Phase) MarshalText() ([]byte, error) {
	w, ok := phaseWords[p]
	if !ok {
		return nil, fmt.Errorf("deploy: invalid Phase %d", int(p))
	}
	return []byte(w), nil
}

// UnmarshalText reads a phase's word, as MarshalText writes it.
func (p *Phase) UnmarshalText(b []byte) error {
	for v, w := range phaseWords {
		if w == string(b) {
			*p = v
			return nil
		}
	}
	return fmt.Errorf("deploy: unknown phase %q", b)
}

// HostTimeline is where a command's time went on one host.
type HostTimeline struct {
	Host  string      `json:"host"`
	Steps []TimedStep `json:"steps"`
}

// TimedStep is one phase on a host: when it began, and how long it took.
// A host's steps follow each other without a gap: each ends as the next
// begins, and the last as the command ends.
type TimedStep struct {
	Step Phase `json:"step"`
	// Role is the role the step was for; "" for a step of the whole host
	// or command.
	Role string `json:"role,omitempty"`
	// AtSeconds is when it began, in seconds since the command started.
	AtSeconds   float64 `json:"at_seconds"`
	TookSeconds float64 `json:"took_seconds"`
}

// Timeline records a command's phases as they begin, for every host at
// once or for one, from any goroutine. A nil Timeline records nothing.
type Timeline struct {
	mu    sync.Mutex
	start time.Time
	hosts []string
	marks []mark
	now   func() time.Time // time.Now; tests set it
}

// mark is the moment a phase began: for every host when host is "".
type mark struct {
	host, role string
	phase      Phase
	at         time.Time
}

// NewTimeline starts a timeline at start, in PhaseLocal.
func NewTimeline(start time.Time) *Timeline {
	return &Timeline{start: start, marks: []mark{{phase: PhaseLocal, at: start}}, now: time.Now}
}

// Hosts adds hosts to the timeline, in the order given: the phases every
// host passed before are theirs too.
func (t *Timeline) Hosts(names ...string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, n := range names {
		if !slices.Contains(t.hosts, n) {
			t.hosts = append(t.hosts, n)
		}
	}
}

// All marks phase beginning now, on every host.
func (t *Timeline) All(phase Phase) {
	t.Mark("", "", phase)
}

// Mark marks phase beginning now on host, for role ("" for none); the
// host's phase before it ends.
func (t *Timeline) Mark(host, role string, phase Phase) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.marks = append(t.marks, mark{host: host, role: role, phase: phase, at: t.now()})
}

// Steps is every host's timeline, ending at end. Each host's steps are
// whole milliseconds since the timeline's start, so they add up to the
// command's took_seconds exactly.
func (t *Timeline) Steps(end time.Time) []HostTimeline {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ms := func(at time.Time) int64 { return at.Sub(t.start).Milliseconds() }
	var out []HostTimeline
	for _, h := range t.hosts {
		var steps []TimedStep
		var began []int64
		for _, m := range t.marks {
			if m.host != "" && m.host != h {
				continue
			}
			if n := len(steps); n > 0 && steps[n-1].Step == m.phase && steps[n-1].Role == m.role {
				continue // the same phase goes on
			}
			steps = append(steps, TimedStep{Step: m.phase, Role: m.role, AtSeconds: float64(ms(m.at)) / 1000})
			began = append(began, ms(m.at))
		}
		for i := range steps {
			until := ms(end)
			if i+1 < len(steps) {
				until = began[i+1]
			}
			steps[i].TookSeconds = float64(until-began[i]) / 1000
		}
		out = append(out, HostTimeline{Host: h, Steps: steps})
	}
	return out
}

// WriteTimeline prints each host's timeline as a table, for -v.
func WriteTimeline(w io.Writer, timeline []HostTimeline, took float64) {
	for _, h := range timeline {
		fmt.Fprintf(w, "\ntimeline of %s (%.3fs):\n", h.Host, took)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  STEP\tROLE\tAT\tTOOK\tSHARE")
		for _, s := range h.Steps {
			fmt.Fprintf(tw, "  %s\t%s\t%.3fs\t%.3fs\t%s\n", s.Step, orDash(s.Role), s.AtSeconds, s.TookSeconds, share(s.TookSeconds, took))
		}
		tw.Flush()
	}
}

// timelineMarkdown is the timeline for the step summary, folded: one
// table per host.
func timelineMarkdown(timeline []HostTimeline, took float64) string {
	if len(timeline) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>Timeline: where the %.1fs went</summary>\n\n", took)
	for _, h := range timeline {
		fmt.Fprintf(&b, "**%s**\n\n| Step | Role | At | Took | Share |\n| --- | --- | --- | --- | --- |\n", cell(h.Host))
		for _, s := range h.Steps {
			fmt.Fprintf(&b, "| %s | %s | %.3fs | %.3fs | %s |\n", cell(s.Step.String()), cell(orDash(s.Role)), s.AtSeconds, s.TookSeconds, share(s.TookSeconds, took))
		}
		b.WriteString("\n")
	}
	b.WriteString("</details>\n")
	return b.String()
}

// share is part's share of whole, in whole percent.
func share(part, whole float64) string {
	if whole <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*part/whole)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
