package drill

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/onhost"
)

// Entry is one drill, as drill.sh logs it: one JSON line.
type Entry struct {
	Time    time.Time `json:"time"`
	OK      bool      `json:"ok"`
	Problem string    `json:"problem"`
	Seconds float64   `json:"seconds"` // the whole drill
	// RestoreSeconds is the time spent restoring, over all databases.
	RestoreSeconds float64 `json:"restore_seconds"`
	// ReplicaAgeSeconds is the age of the newest file in the replicas
	// (the oldest of the databases'); nil when Litestream cannot say (0.3).
	ReplicaAgeSeconds *int64 `json:"replica_age_seconds"`
	// Booted says whether the app passed its health check on the
	// restored copy; nil when the drill does not boot it.
	Booted    *bool      `json:"booted"`
	Databases []Database `json:"databases"`
}

// Database is one database's part of a drill.
type Database struct {
	Path              string           `json:"path"`
	OK                bool             `json:"ok"`
	Rows              map[string]int64 `json:"rows"`  // table → rows in the restored copy
	Bytes             *int64           `json:"bytes"` // the live database's size
	RestoreSeconds    float64          `json:"restore_seconds"`
	ReplicaAgeSeconds *int64           `json:"replica_age_seconds"`
}

// Summary is what the drill log and the host say of the drills.
type Summary struct {
	// Schedule is the installed schedule as written; "" when none is.
	Schedule string `json:"schedule,omitempty"`
	// Running says the scheduled drill's container runs.
	Running bool   `json:"running"`
	Last    *Entry `json:"last,omitempty"`
	LastOK  *Entry `json:"last_ok,omitempty"`
	// DayBefore is the newest drill at least a day older than Last: the
	// previous day's, which Growth compares with.
	DayBefore *Entry `json:"day_before,omitempty"`
}

// Growth is each database's size change, in bytes, from the previous
// day's drill to the last; none without both.
func (s Summary) Growth() map[string]int64 {
	if s.Last == nil || s.DayBefore == nil {
		return nil
	}
	before := map[string]int64{}
	for _, d := range s.DayBefore.Databases {
		if d.Bytes != nil {
			before[d.Path] = *d.Bytes
		}
	}
	out := map[string]int64{}
	for _, d := range s.Last.Databases {
		if b, ok := before[d.Path]; ok && d.Bytes != nil {
			out[d.Path] = *d.Bytes - b
		}
	}
	return out
}

// Last reads the drill log on the Litestream host h: the last drill, the
// last that passed, and the previous day's; and whether a schedule is
// installed. A host without drills gives an empty Summary.
func Last(ctx context.Context, h *host.Host, c *config.Config) (Summary, error) {
	var s Summary
	info, err := h.Docker.ContainerInspect(ctx, Name(c))
	switch {
	case err == nil:
		s.Schedule, s.Running = info.Config.Labels[LabelSchedule], info.State.Running
	case !errdefs.IsNotFound(err):
		return s, fmt.Errorf("inspect %s: %w", Name(c), err)
	}
	home, err := h.Home(ctx)
	if err != nil {
		return s, err
	}
	text, err := onhost.Tail(ctx, h, filesFor(home, c).log, 20000)
	if err != nil {
		return s, fmt.Errorf("read the drill log: %w", err)
	}
	entries, err := parseLog(text)
	if err != nil {
		return s, err
	}
	summarize(&s, entries)
	return s, nil
}

// parseLog reads the log's lines; a torn last line (a drill killed while
// it wrote) is skipped.
func parseLog(text string) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var e Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, errors.Join(errors.New("read the drill log"), err)
	}
	return out, nil
}

func summarize(s *Summary, entries []Entry) {
	for i := len(entries) - 1; i >= 0; i-- {
		e := &entries[i]
		if s.Last == nil {
			s.Last = e
		}
		if s.LastOK == nil && e.OK {
			s.LastOK = e
		}
		if s.DayBefore == nil && !e.Time.After(s.Last.Time.Add(-24*time.Hour)) {
			s.DayBefore = e
		}
	}
}
