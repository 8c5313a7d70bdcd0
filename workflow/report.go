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
	return &deploy.Report{Command: command, Version: version, Performer: audit.Performer(),
		StartedAt: time.Now().UTC(), Hosts: []deploy.OutcomeReport{}}
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
		r.SupersededBy = &deploy.SupersededBy{Command: sup.By.Command, Version: sup.By.Version, Performer: sup.By.Performer}
		r.Finish(nil)
		return err
	}
	r.Finish(err)
	return err
}
