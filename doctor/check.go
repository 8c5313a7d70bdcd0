// Package doctor reads a host's state and says, one check at a time, what
// is wrong and the command that fixes it (ship doctor). It only reads: it
// never joins the deploy queue, never starts or stops a container and
// never changes a file. Each family of checks is one small file; adding a
// check is one function that returns a Check.
package doctor

import (
	"encoding/json"
	"fmt"
)

// State is how a check ended.
type State int

// The states of a check, from good to bad: ship doctor exits non-zero on
// Fail only.
const (
	OK State = iota
	Warn
	Fail
)

// String is the state as ship doctor prints it and --json writes it.
func (s State) String() string {
	switch s {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	}
	return "fail"
}

// MarshalJSON writes the state as its String.
func (s State) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Check is one finding on one host: what was checked, how it ended, what
// is wrong, and the command that fixes it.
type Check struct {
	Name    string `json:"check"`
	State   State  `json:"state"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// String is the check's line: state, name, message and fix.
func (c Check) String() string {
	s := fmt.Sprintf("%-4s  %s: %s", c.State, c.Name, c.Message)
	if c.Fix != "" {
		s += "; fix: " + c.Fix
	}
	return s
}

// ok is a passed check.
func ok(name, format string, args ...any) Check {
	return Check{Name: name, State: OK, Message: fmt.Sprintf(format, args...)}
}

// warn is a check that found something to look at, with its fix.
func warn(name, fix, format string, args ...any) Check {
	return Check{Name: name, State: Warn, Message: fmt.Sprintf(format, args...), Fix: fix}
}

// fail is a check that found something broken, with its fix.
func fail(name, fix, format string, args ...any) Check {
	return Check{Name: name, State: Fail, Message: fmt.Sprintf(format, args...), Fix: fix}
}

// Worst is the worst state among checks: OK for none.
func Worst(checks []Check) State {
	w := OK
	for _, c := range checks {
		w = max(w, c.State)
	}
	return w
}
