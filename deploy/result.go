package deploy

import "fmt"

// Result is how a swap, or a whole deploy or rollback command, ended.
// Outcomes are Deployed, RolledBack, Unchanged or Failed; a Report's
// result is Deployed, Superseded, RolledBack or Failed. The zero Result
// is no result yet: it prints, and encodes, as "".
//
// In JSON and the audit log a Result is its word (docs/json.md): the
// words are part of schema version 1, so they never change.
type Result int

// Results.
const (
	// Deployed: the new version runs, healthy.
	Deployed Result = iota + 1
	// RolledBack: a rollback that succeeded; for a whole deploy, that the
	// new version failed somewhere and the previous one serves there again.
	RolledBack
	// Failed: anything else.
	Failed
	// Unchanged: the version ran already (setup, or a rollback to the
	// running version).
	Unchanged
	// Superseded: a newer deploy waiting in the queue replaced this one
	// before it touched anything. Only a whole command ends so.
	Superseded
)

var resultWords = map[Result]string{
	0:          "",
	Deployed:   "deployed",
	RolledBack: "rolled_back",
	Failed:     "failed",
	Unchanged:  "unchanged",
	Superseded: "superseded",
}

// String is the result's word, as JSON carries it: "rolled_back".
func (r Result) String() string {
	if w, ok := resultWords[r]; ok {
		return w
	}
	return fmt.Sprintf("Result(%d)", int(r))
}

// MarshalText encodes the result as its word; the zero Result as "".
func (r Result) MarshalText() ([]byte, error) {
	w, ok := resultWords[r]
	if !ok {
		return nil, fmt.Errorf("deploy: invalid Result %d", int(r))
	}
	return []byte(w), nil
}

// UnmarshalText reads a result's word, as MarshalText writes it.
func (r *Result) UnmarshalText(b []byte) error {
	for v, w := range resultWords {
		if w == string(b) {
			*r = v
			return nil
		}
	}
	return fmt.Errorf("deploy: unknown result %q", b)
}

// Health is the outcome of the target version's health check. The zero
// Health, NotChecked, is a swap that ended before the check: JSON carries
// it as "", and people read "not checked".
type Health int

// Health values.
const (
	// NotChecked: the swap ended before the health check.
	NotChecked Health = iota
	// Healthy: the target version passed its health check.
	Healthy
	// Unhealthy: the target version failed its health check.
	Unhealthy
)

var healthWords = map[Health]string{
	NotChecked: "",
	Healthy:    "healthy",
	Unhealthy:  "unhealthy",
}

// String is the health for people: "healthy", "unhealthy" or
// "not checked".
func (h Health) String() string {
	if h == NotChecked {
		return "not checked"
	}
	if w, ok := healthWords[h]; ok {
		return w
	}
	return fmt.Sprintf("Health(%d)", int(h))
}

// MarshalText encodes the health as JSON carries it: "healthy",
// "unhealthy", or "" when not checked.
func (h Health) MarshalText() ([]byte, error) {
	w, ok := healthWords[h]
	if !ok {
		return nil, fmt.Errorf("deploy: invalid Health %d", int(h))
	}
	return []byte(w), nil
}

// UnmarshalText reads a health as MarshalText writes it.
func (h *Health) UnmarshalText(b []byte) error {
	for v, w := range healthWords {
		if w == string(b) {
			*h = v
			return nil
		}
	}
	return fmt.Errorf("deploy: unknown health %q", b)
}
