package main

import (
	"errors"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/actions"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/redact"
	"github.com/shipdeploy/ship/workflow"
)

// jsonFlag asks for one JSON document on stdout instead of the report.
var jsonFlag = &cli.BoolFlag{Name: "json", Usage: "print one JSON document (docs/json.md); progress goes to stderr"}

// reported runs a deploy or rollback and publishes how it ended: its
// timeline with -v, as one JSON document with --json, and under GitHub
// Actions as the step's outputs and summary. Whatever fails, the outputs
// are written, so a workflow can act on result=failed.
func reported(c *cli.Context, run func() (*deploy.Report, error)) error {
	stdout := c.App.Writer
	if c.Bool("json") {
		c.App.Writer = c.App.ErrWriter // stdout is the document's alone
		defer func() { c.App.Writer = stdout }()
	}
	rep, err := run()
	if global(c, "verbose").Bool("verbose") {
		// -v: where the time went, per host, beside the progress.
		deploy.WriteTimeline(c.App.ErrWriter, rep.Timeline, rep.TookSeconds)
	}
	if c.Bool("json") {
		if jerr := writeJSON(stdout, rep); jerr != nil {
			return errors.Join(err, jerr)
		}
	}
	if env, ok := actions.Detect(); ok {
		env.Redactor = redactor(c)
		perr := env.SetOutputs([2]string{"version", rep.Version}, [2]string{"result", rep.Result.String()})
		perr = errors.Join(perr, env.AddSummary(rep.Markdown()))
		if perr != nil {
			return errors.Join(err, perr)
		}
	}
	return err
}

// annotate repeats an error as GitHub Actions annotations, so the run's
// page shows it: each configuration problem on its file and line.
func annotate(w io.Writer, red *redact.Redactor, err error) {
	env, ok := actions.Detect()
	if !ok {
		return
	}
	env.Redactor = red
	var problems config.Problems
	if !errors.As(err, &problems) {
		actions.Command(w, env.Error(actions.Annotation{Title: "ship", Message: err.Error()}))
		return
	}
	for _, p := range problems {
		actions.Command(w, env.Error(workflow.ProblemAnnotation(p)))
	}
}
