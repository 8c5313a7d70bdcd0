// Package actions speaks to GitHub Actions: the step's output and summary
// files, and the workflow commands that annotate and fold the log.
package actions

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shipdeploy/ship/redact"
)

// Env is the GitHub Actions runner's environment for the current step.
type Env struct {
	OutputFile  string // $GITHUB_OUTPUT
	SummaryFile string // $GITHUB_STEP_SUMMARY
	Workspace   string // $GITHUB_WORKSPACE: annotation paths are relative to it
	// Redactor hides the config's secrets in outputs, the summary and
	// annotations, which are as public as the log; nil hides nothing.
	Redactor *redact.Redactor
}

// Detect reports whether ship runs in a GitHub Actions step, and its files.
func Detect() (Env, bool) {
	if os.Getenv("GITHUB_ACTIONS") != "true" {
		return Env{}, false
	}
	return Env{
		OutputFile:  os.Getenv("GITHUB_OUTPUT"),
		SummaryFile: os.Getenv("GITHUB_STEP_SUMMARY"),
		Workspace:   os.Getenv("GITHUB_WORKSPACE"),
	}, true
}

// Run is the workflow run a step belongs to, as the runner's environment
// names it. A workflow's run numbers grow in the order its runs were
// triggered, however late each one's runner starts: that orders its
// deploys (docs/github-actions.md).
type Run struct {
	// Workflow is the workflow file, OWNER/REPO/.github/workflows/FILE:
	// GITHUB_WORKFLOW_REF without its @REF, since run numbers count a
	// workflow's runs on every branch alike. Runners that lack
	// GITHUB_WORKFLOW_REF give OWNER/REPO/NAME, from GITHUB_WORKFLOW.
	Workflow string
	// Number is GITHUB_RUN_NUMBER.
	Number int64
	// Attempt is GITHUB_RUN_ATTEMPT: 1 for a run's first attempt, more
	// when a person re-ran it.
	Attempt int
}

// CurrentRun is the run ship is a step of. It reports false outside
// GitHub Actions, and when the runner names no workflow or no run number,
// since then there is nothing to order runs by.
func CurrentRun() (Run, bool) {
	if os.Getenv("GITHUB_ACTIONS") != "true" {
		return Run{}, false
	}
	number, err := strconv.ParseInt(os.Getenv("GITHUB_RUN_NUMBER"), 10, 64)
	if err != nil || number <= 0 {
		return Run{}, false
	}
	workflow := workflowOf(os.Getenv("GITHUB_WORKFLOW_REF"))
	if workflow == "" {
		repo, name := os.Getenv("GITHUB_REPOSITORY"), os.Getenv("GITHUB_WORKFLOW")
		if repo == "" || name == "" {
			return Run{}, false
		}
		workflow = repo + "/" + name
	}
	attempt, err := strconv.Atoi(os.Getenv("GITHUB_RUN_ATTEMPT"))
	if err != nil || attempt < 1 {
		attempt = 1
	}
	return Run{Workflow: workflow, Number: number, Attempt: attempt}, true
}

// workflowOf is a GITHUB_WORKFLOW_REF without its ref:
// "acme/shop/.github/workflows/deploy.yml@refs/heads/main" is
// "acme/shop/.github/workflows/deploy.yml". A ref may hold an @, a
// workflow's path hardly ever does; so the cut is at "@refs/" when there
// is one, else at the first @.
func workflowOf(ref string) string {
	if i := strings.Index(ref, "@refs/"); i >= 0 {
		return ref[:i]
	}
	workflow, _, _ := strings.Cut(ref, "@")
	return workflow
}

// CI reports whether ship runs unattended: in GitHub Actions, or wherever
// CI=true (GitLab, Buildkite, CircleCI and others set it). Nothing may
// prompt there.
func CI() bool {
	return os.Getenv("GITHUB_ACTIONS") == "true" || os.Getenv("CI") == "true"
}

// SetOutputs appends step outputs, in order, to $GITHUB_OUTPUT. A value
// with a newline is written in the heredoc form under a random delimiter,
// so the value cannot end it early and forge another output.
func (e Env) SetOutputs(pairs ...[2]string) error {
	if e.OutputFile == "" {
		return nil
	}
	var b strings.Builder
	for _, kv := range pairs {
		name, value := kv[0], e.Redactor.String(kv[1])
		if !strings.ContainsAny(value, "\r\n") {
			fmt.Fprintf(&b, "%s=%s\n", name, value)
			continue
		}
		delim := "ship_" + rand.Text()
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
	}
	return appendFile(e.OutputFile, b.String(), "GITHUB_OUTPUT")
}

// AddSummary appends Markdown to the step's job summary. Secrets are
// redacted in it as it is, so the caller must redact any text it escaped
// for Markdown before escaping it.
func (e Env) AddSummary(markdown string) error {
	if e.SummaryFile == "" {
		return nil
	}
	markdown = e.Redactor.String(markdown)
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	return appendFile(e.SummaryFile, markdown, "GITHUB_STEP_SUMMARY")
}

func appendFile(path, text, what string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("$%s: %w", what, err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("$%s: %w", what, err)
	}
	return f.Close()
}

// Annotation is an ::error:: or ::warning:: workflow command. With a
// file, GitHub shows the message on that line of the file in the run and
// the pull request.
type Annotation struct {
	File         string
	Line, Column int
	Title        string
	Message      string
}

// Error is the annotation as an error's workflow command line, secrets
// redacted, and each line of the message that would be a workflow
// command of its own neutralised, as an error may quote a host's output. File is made relative to the workspace, as GitHub expects.
// Write it with Command, so that a Filter lets it through.
func (e Env) Error(a Annotation) string { return e.annotation("error", a) }

// Warning is the annotation as a warning's workflow command line.
func (e Env) Warning(a Annotation) string { return e.annotation("warning", a) }

func (e Env) annotation(level string, a Annotation) string {
	var props []string
	if a.File != "" {
		props = append(props, "file="+escapeProperty(e.relative(a.File)))
		if a.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", a.Line))
		}
		if a.Column > 0 {
			props = append(props, fmt.Sprintf("col=%d", a.Column))
		}
	}
	if a.Title != "" {
		props = append(props, "title="+escapeProperty(e.Redactor.String(a.Title)))
	}
	cmd := "::" + level
	if len(props) > 0 {
		cmd += " " + strings.Join(props, ",")
	}
	return cmd + "::" + escapeData(neutralizeLines(e.Redactor.String(a.Message)))
}

func (e Env) relative(file string) string {
	if e.Workspace == "" {
		return file
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return file
	}
	rel, err := filepath.Rel(e.Workspace, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return file
	}
	return filepath.ToSlash(rel)
}

// GroupStart and GroupEnd fold the lines between them in the log. Write
// them with Command.
func GroupStart(title string) string { return "::group::" + escapeData(title) }

// GroupEnd ends the group GroupStart began.
const GroupEnd = "::endgroup::"

// escapeData escapes a workflow command's message as the runner unescapes
// it: a newline in it would otherwise end the command.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty also escapes the property separators.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Mask returns the add-mask commands that have the runner hide value in
// the job's log from then on, one a line of it, since the runner matches
// a multi-line secret line by line. Write them with Command before
// printing value.
func Mask(value string) []string {
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(value, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) != "" {
			out = append(out, "::add-mask::"+escapeData(line))
		}
	}
	return out
}
