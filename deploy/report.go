package deploy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/redact"
)

// Report is how one deploy or rollback command ended: the document
// `ship deploy --json` prints, and the GitHub Actions step summary.
// docs/json.md is its schema; fields are only ever added.
type Report struct {
	Command     string `json:"command"` // deploy or rollback
	Service     string `json:"service"`
	Destination string `json:"destination,omitempty"`
	Version     string `json:"version"`
	// Order is the deploy's place among its source's deploys; nil for a
	// rollback, and for a deploy without a source.
	Order        *queue.Order `json:"order,omitempty"`
	Result       Result       `json:"result"` // Deployed, Superseded, RolledBack or Failed
	SupersededBy *Newer       `json:"superseded_by,omitempty"`
	// ReplacedNewer is set when the deploy went ahead although a newer one
	// from its source had been deployed already: a re-run, or
	// --no-coalesce, deploys what it was asked to. It is that newer one.
	ReplacedNewer *Newer          `json:"replaced_newer,omitempty"`
	Performer     string          `json:"performer"`
	StartedAt     time.Time       `json:"started_at"`
	TookSeconds   float64         `json:"took_seconds"`
	Hosts         []OutcomeReport `json:"hosts"`
	Error         string          `json:"error,omitempty"`
	// Timeline is where the command's time went, per host: its steps add
	// up to TookSeconds. Empty when the command ended before it selected
	// hosts.
	Timeline []HostTimeline `json:"timeline"`
	// Clock records the timeline as the command runs; Finish reads it.
	// nil records none.
	Clock *Timeline `json:"-"`
}

// Newer is a deploy newer than this one from the same source: the one
// that made it step aside, or the one it replaced.
type Newer struct {
	Command   string `json:"command"`
	Version   string `json:"version"`
	Performer string `json:"performer"`
	// Order is its place among the source's deploys; nil when it has none
	// (then it was newer by arriving later).
	Order *queue.Order `json:"order,omitempty"`
	// Deployed is set when it had been deployed already; else it was
	// waiting in the queue.
	Deployed bool `json:"deployed"`
	// Reason says why it is newer, for people: "v63 (run 63) is newer".
	Reason string `json:"reason"`
}

// name is the version with its place: "v63 (run 63)".
func (n *Newer) name() string {
	if n.Order == nil {
		return n.Version
	}
	return n.Order.Name(n.Version)
}

// OutcomeReport is one role's swap on one host.
type OutcomeReport struct {
	Host        string  `json:"host"`
	Role        string  `json:"role"`
	From        string  `json:"from"` // "" when nothing ran before
	To          string  `json:"to"`
	Result      Result  `json:"result"` // Deployed, RolledBack, Unchanged or Failed
	Health      Health  `json:"health"` // Healthy, Unhealthy, or NotChecked ("") if not reached
	Restored    bool    `json:"restored"`
	SwapSeconds float64 `json:"swap_seconds"`
	Error       string  `json:"error,omitempty"`

	// DataRestored: the target version changed a database's schema before
	// it failed, and every database was put back as the previous version
	// left it, its files set aside (Databases says where).
	DataRestored bool `json:"data_restored"`
	// DataCheck is what comparing the databases with the restore point
	// found after the target version started and failed; "" when it did
	// not get that far, or nothing ran before it.
	DataCheck DataCheck `json:"data_check,omitempty"`
	// Databases are the databases compared, when DataCheck compared them.
	Databases []DatabaseUndo `json:"databases,omitempty"`
}

// Add records the swaps' outcomes.
func (r *Report) Add(outcomes []Outcome) {
	for _, o := range outcomes {
		or := OutcomeReport{Host: o.Host, Role: o.Role, From: o.From, To: o.To, Result: o.Result,
			Health: o.Health, SwapSeconds: seconds(o.Took)}
		if o.Err != nil {
			or.Error = o.Err.Error()
			var restored *restoredError
			or.Restored = errors.As(o.Err, &restored)
		}
		if u := o.Data; u != nil {
			or.DataCheck, or.DataRestored, or.Databases = u.Check, u.Check == SchemaChanged && u.Restored, u.Databases
		}
		r.Hosts = append(r.Hosts, or)
	}
}

// Redact hides red's secrets in every text of the report: errors, which
// quote commands' output, and performers. The report must be redacted
// before it is rendered, since JSON and Markdown escape a secret into a
// form the plain value no longer matches.
func (r *Report) Redact(red *redact.Redactor) {
	r.Performer, r.Error = red.String(r.Performer), red.String(r.Error)
	if r.SupersededBy != nil {
		r.SupersededBy.Performer = red.String(r.SupersededBy.Performer)
	}
	for i := range r.Hosts {
		r.Hosts[i].Error = red.String(r.Hosts[i].Error)
	}
}

// Finish sets the command's result, from the outcomes and err, the
// command's own error.
func (r *Report) Finish(err error) {
	end := time.Now()
	took := end.Sub(r.StartedAt)
	if r.Clock != nil {
		took = end.Sub(r.Clock.start) // on the monotonic clock, as its steps are
	}
	r.TookSeconds = seconds(took)
	r.Timeline = r.Clock.Steps(end)
	if r.Timeline == nil {
		r.Timeline = []HostTimeline{}
	}
	if err != nil {
		r.Error = err.Error()
	}
	r.Result = r.result(err)
}

func (r *Report) result(err error) Result {
	if r.SupersededBy != nil {
		return Superseded
	}
	if len(r.Hosts) == 0 {
		return Failed
	}
	failed, restored := 0, 0
	for _, h := range r.Hosts {
		if h.Result == Failed {
			failed++
			// The previous version serving on a schema it does not know
			// is not restored: its writes fail.
			if h.Restored && (h.DataCheck != SchemaChanged || h.DataRestored) {
				restored++
			}
		}
	}
	switch {
	case failed == 0 && err == nil && r.Command == "rollback":
		return RolledBack
	case failed == 0 && err == nil:
		return Deployed
	case r.Command == "deploy" && failed > 0 && failed == restored:
		return RolledBack
	}
	return Failed
}

func seconds(d time.Duration) float64 {
	return float64(d.Milliseconds()) / 1000
}

// Markdown is the report as a GitHub Actions step summary.
func (r *Report) Markdown() string {
	var b strings.Builder
	name := r.Service
	if r.Destination != "" {
		name += " (" + r.Destination + ")"
	}
	// The version is checked before it reaches a report; cell keeps it
	// text in any case, like every other value here.
	version := r.Version
	if r.Order != nil {
		version = r.Order.Name(r.Version)
	}
	fmt.Fprintf(&b, "### %s %s %s: %s\n\n", resultIcon(r.Result), r.Command, cell(name), cell(version))
	switch r.Result {
	case Superseded:
		s := r.SupersededBy
		fmt.Fprintf(&b, "**Superseded** by %s `%s` (%s)", s.Command, cell(s.Version), cell(s.Performer))
		if s.Reason != "" {
			b.WriteString(": " + cell(s.Reason))
		}
		if s.Deployed {
			fmt.Fprintf(&b, ", and deployed already. This run changed nothing: ship does not take production back to an older version unasked. Re-run this job to deploy `%s` anyway.\n", cell(r.Version))
		} else {
			b.WriteString(". It is in the deploy queue too, and deploys instead; this run changed nothing.\n")
		}
		return b.String()
	case Deployed:
		fmt.Fprintf(&b, "**Deployed** `%s` to every host in %.1fs.\n\n", cell(r.Version), r.TookSeconds)
		if n := r.ReplacedNewer; n != nil {
			fmt.Fprintf(&b, "**It replaced a newer version**: %s, which %s deployed, is newer than this one. A re-run (or `--no-coalesce`) deploys what it was asked to; later deploys older than %s still step aside.\n\n",
				code(n.name()), cell(n.Performer), cell(n.name()))
		}
	case RolledBack:
		if r.Command == "rollback" {
			fmt.Fprintf(&b, "**Rolled back** to `%s` on every host in %.1fs.\n\n", cell(r.Version), r.TookSeconds)
		} else {
			fmt.Fprintf(&b, "**Rolled back**: `%s` failed, and the previous version serves again everywhere it failed.", cell(r.Version))
			if slices.ContainsFunc(r.Hosts, func(h OutcomeReport) bool { return h.DataRestored }) {
				b.WriteString(" It had changed a database's schema, so the databases were put back as the previous version left them; its files are set aside beside each, as said below.")
			}
			b.WriteString("\n\n")
		}
	default:
		fmt.Fprintf(&b, "**Failed**: %s\n\n", cell(orText(r.Error, "see the hosts below")))
	}
	if len(r.Hosts) == 0 {
		return b.String() + timelineMarkdown(r.Timeline, r.TookSeconds)
	}
	b.WriteString("| Host | Role | Old version | New version | Swap | Health | Outcome |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, h := range r.Hosts {
		outcome := h.Result.String()
		switch {
		case h.Restored && h.DataRestored:
			outcome = "failed, previous version and its data restored"
		case h.DataCheck == SchemaChanged && !h.DataRestored:
			outcome = "failed, schema changed, data NOT restored"
		case h.Restored:
			outcome = "failed, previous version restored"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.1fs | %s | %s %s |\n", cell(h.Host), cell(h.Role), code(h.From), code(h.To),
			h.SwapSeconds, h.Health, resultIcon(h.Result), cell(outcome))
	}
	var errs []string
	for _, h := range r.Hosts {
		if h.Error != "" {
			errs = append(errs, fmt.Sprintf("- **%s %s**: %s", cell(h.Host), cell(h.Role), cell(h.Error)))
		}
	}
	if len(errs) > 0 {
		b.WriteString("\n" + strings.Join(errs, "\n") + "\n")
	}
	if tl := timelineMarkdown(r.Timeline, r.TookSeconds); tl != "" {
		b.WriteString("\n" + tl)
	}
	return b.String()
}

func resultIcon(result Result) string {
	switch result {
	case Deployed, Unchanged:
		return "✅"
	case Superseded:
		return "⏭️"
	case RolledBack:
		return "↩️"
	}
	return "❌"
}

func code(s string) string {
	if s == "" {
		return "—"
	}
	return "`" + cell(s) + "`"
}

// cell keeps a value inside its table cell and out of the Markdown.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func orText(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}
