package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/onhost"
)

// State is where the gate has put the replicas on its host.
type State string

const (
	// Out: a follower is not running, and the replicas are stopped.
	Out State = "out"
	// In: every follower runs, and the replicas the gate stopped were
	// started again.
	In State = "in"
)

// String is the state as the log has it.
func (s State) String() string { return string(s) }

// Entry is one change, as gate.sh logs it: one JSON line.
type Entry struct {
	Time  time.Time `json:"time"`
	State State     `json:"state"`
	// Reason names the followers not running (out), or the containers
	// left stopped (in).
	Reason string `json:"reason"`
	// Containers are those the change stopped or started.
	Containers []string `json:"containers"`
}

// Summary is what the host says of its gate.
type Summary struct {
	// Installed says the gate's container exists; Running that it runs.
	Installed bool   `json:"installed"`
	Running   bool   `json:"running"`
	Last      *Entry `json:"last,omitempty"`
}

// Last reads the gate on h: whether it is installed and runs, and its
// last change, for db status and doctor. A host without a gate gives an
// empty Summary.
func Last(ctx context.Context, h *host.Host, c *config.Config) (Summary, error) {
	var s Summary
	info, err := h.Docker.ContainerInspect(ctx, Name(c))
	switch {
	case err == nil:
		s.Installed, s.Running = true, info.State.Running
	case !errdefs.IsNotFound(err):
		return s, fmt.Errorf("inspect %s: %w", Name(c), err)
	}
	home, err := h.Home(ctx)
	if err != nil {
		return s, err
	}
	// A few lines: the last may be torn, by a gate killed as it wrote.
	text, err := onhost.Tail(ctx, h, filesFor(home, c).log, 5)
	if err != nil {
		return s, fmt.Errorf("read the gate's log: %w", err)
	}
	s.Last = lastEntry(text)
	return s, nil
}

// lastEntry is the last whole entry of the log's text; nil if none.
func lastEntry(text string) *Entry {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var e Entry
		if json.Unmarshal([]byte(lines[i]), &e) == nil && (e.State == Out || e.State == In) {
			return &e
		}
	}
	return nil
}
