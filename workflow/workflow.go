// Package workflow is what each ship command does, end to end: it loads
// the config, selects hosts and roles, connects, joins the deploy queue
// (repairing any swap a killed ship left half-done), runs the command's
// operation on each host, and reports. Each command has one function and
// one typed request; cmd/ship only parses flags into the request, calls
// the function and prints what it returns.
package workflow

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/shipdeploy/ship/actions"
	"github.com/shipdeploy/ship/redact"
)

// Globals are Kamal's global options, which every command takes, and where
// the command writes.
type Globals struct {
	ConfigFile  string // -c; "" is config/deploy.yml
	Destination string // -d
	Hosts       string // -h: comma-separated, wildcards allowed
	Roles       string // -r: likewise
	Primary     bool   // -p: the primary host only
	UI          *UI
	// Terminal is true when Out is a terminal: transfers then show
	// progress often.
	Terminal bool
	// QueueTimeout is how long a mutating command waits for the deploy
	// queue; zero is 30 minutes.
	QueueTimeout time.Duration
	// Confirm asks the person running ship a yes/no question; nil, or a
	// false answer, is no.
	Confirm func(question string) bool
}

func (g Globals) confirm(question string) bool {
	return g.Confirm != nil && g.Confirm(question)
}

// UI prints progress and results, honouring -q and -v.
type UI struct {
	Out, Err       io.Writer
	Quiet, Verbose bool
	// Redactor hides secret values wherever ship prints or writes: cmd/ship
	// wraps Out and Err with it, LoadConfig adds the config's secrets to
	// it, and what is written elsewhere (the audit log, the Actions outputs
	// and summary, reports) is redacted with it. nil hides nothing.
	Redactor *redact.Redactor
}

// actions detects a GitHub Actions step, with the UI's Redactor for what
// goes to the runner's files and annotations.
func (u *UI) actions() (actions.Env, bool) {
	env, ok := actions.Detect()
	env.Redactor = u.Redactor
	return env, ok
}

// Infof is progress: hidden by -q.
func (u *UI) Infof(format string, args ...any) {
	if !u.Quiet {
		fmt.Fprintf(u.Out, format+"\n", args...)
	}
}

// Debugf is detail: shown only with -v.
func (u *UI) Debugf(format string, args ...any) {
	if u.Verbose {
		fmt.Fprintf(u.Err, format+"\n", args...)
	}
}

// Warnf always shows, on stderr.
func (u *UI) Warnf(format string, args ...any) {
	fmt.Fprintf(u.Err, "warning: "+format+"\n", args...)
}

// UsageError is a mistake in how ship was called, such as a selection
// that matches nothing: exit status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }

func (e UsageError) Unwrap() error { return e.Err }

func usage(err error) error { return UsageError{err} }

// ErrSuperseded ends a deploy that a newer queued deploy replaced. It is
// how such a deploy ends well: exit status 0.
var ErrSuperseded = errors.New("superseded")
