package workflow

import (
	"errors"
	"time"

	"github.com/shipdeploy/ship/audit"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/redact"
)

// newReport starts a deploy's or rollback's report.
func newReport(command, version string) *deploy.Report {
	now := time.Now()
	return &deploy.Report{Command: command, Version: version, Performer: audit.Performer(),
		StartedAt: now.UTC(), Hosts: []deploy.OutcomeReport{}, Clock: deploy.NewTimeline(now)}
}

// finish records how the command ended and returns its error. A deploy a
// newer one superseded ends well: it is no error in the report, though
// the command still ends with ErrSuperseded. The report's texts are
// redacted here, before the JSON document and the Markdown summary escape
// them past recognition.
func finish(red *redact.Redactor, r *deploy.Report, err error) error {
	defer r.Redact(red)
	var sup *queue.SupersededError
	if errors.As(err, &sup) {
		r.SupersededBy = newer(sup.By, sup.Reason, sup.Deployed)
		r.Finish(nil)
		return err
	}
	r.Finish(err)
	return err
}

// newer describes, for the report, a deploy newer than the command's.
func newer(t queue.Ticket, reason string, deployed bool) *deploy.Newer {
	return &deploy.Newer{Command: t.Command, Version: t.Version, Performer: t.Performer,
		Order: orderPtr(t.Order), Deployed: deployed, Reason: reason}
}

// orderPtr is o for a report: nil without a source.
func orderPtr(o queue.Order) *queue.Order {
	if o.Source == "" {
		return nil
	}
	return &o
}
