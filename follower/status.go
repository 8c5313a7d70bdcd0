package follower

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// Phase is whether a follower runs.
type Phase int

// A follower's phases.
const (
	Missing   Phase = iota // no container: never started, or removed
	Stopped                // its container exists but does not run
	Following              // its container runs
)

// String is the phase as ship db status prints it and --json writes it.
func (p Phase) String() string {
	switch p {
	case Following:
		return "following"
	case Stopped:
		return "stopped"
	}
	return "missing"
}

// MarshalJSON writes the phase as its String.
func (p Phase) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// State is one follower on a replica host: whether it runs, the copy's
// position against the replica's, and how far behind that is. Running is
// not enough: a follower can stop advancing while it runs
// (benbjohnson/litestream#1515), so the positions are what count.
type State struct {
	Database string `json:"database"`
	Follower string `json:"follower"`
	Phase    Phase  `json:"state"`
	// CopyTXID is what DB-txid says the copy holds; "" without a copy.
	CopyTXID string `json:"copy_txid,omitempty"`
	// ReplicaTXID is the newest transaction in the replica, and
	// ReplicaTime when its file was uploaded; empty when unknown.
	ReplicaTXID string     `json:"replica_txid,omitempty"`
	ReplicaTime *time.Time `json:"replica_time,omitempty"`
	// Behind is how many transactions the copy lacks, LagSeconds how much
	// newer, by the replica's file times, the newest is than the copy's.
	Behind     uint64  `json:"behind_txids"`
	LagSeconds float64 `json:"lag_seconds"`
	// Error says why the positions are incomplete.
	Error string `json:"error,omitempty"`
	// Warnings are what a person must act on; [] when all is well.
	Warnings []string `json:"warnings"`
}

// Lag is LagSeconds as a duration.
func (s State) Lag() time.Duration { return time.Duration(s.LagSeconds * float64(time.Second)) }

// Status reads every follower's state on h, a replica host. It only
// reads: the copy's TXID from its DB-txid, the replica's files by
// `litestream ltx` inside the running follower (a stopped one has none to
// ask, and Status starts nothing).
func Status(ctx context.Context, h *host.Host, c *config.Config) ([]State, error) {
	cps, err := copies(c)
	if err != nil {
		return nil, err
	}
	var out []State
	for _, cp := range cps {
		s := State{Database: cp.DB, Follower: cp.Follower, Warnings: []string{}}
		info, err := h.Docker.ContainerInspect(ctx, cp.Follower)
		switch {
		case errdefs.IsNotFound(err):
		case err != nil:
			return nil, fmt.Errorf("inspect %s on %s: %w", cp.Follower, h.Name, err)
		case info.State.Running:
			s.Phase = Following
		default:
			s.Phase = Stopped
		}
		var copyTXID TXID
		db, ok, err := cp.file(ctx, h)
		if err != nil {
			return nil, err
		}
		if ok {
			pos, err := readPosition(ctx, h, db)
			if err != nil {
				return nil, err
			}
			if pos.Prepared() {
				copyTXID = pos.TXID
				s.CopyTXID = pos.TXID.String()
			}
		}
		if s.Phase != Following {
			s.Error = fmt.Sprintf("%s is %s: the replica's position is read through it", cp.Follower, s.Phase)
		} else if files, err := replicaFiles(ctx, h, cp); err != nil {
			s.Error = err.Error()
		} else {
			s.position(files, copyTXID)
		}
		s.warn(c.Litestream.LagWarning, h.Name)
		out = append(out, s)
	}
	return out, nil
}

// warn adds the warnings a person must act on: a follower that does not
// run, or whose copy on host is further behind than lag_warning.
func (s *State) warn(lagWarning time.Duration, host string) {
	switch {
	case s.Phase != Following:
		s.Warnings = append(s.Warnings, fmt.Sprintf("%s is %s: the copy of %s is not kept up to date", s.Follower, s.Phase, s.Database))
	case s.Lag() > lagWarning:
		s.Warnings = append(s.Warnings, fmt.Sprintf("the copy is %d transactions and %s behind the replica (lag_warning is %s): a follower that runs but does not advance must be re-seeded (ship db reseed -h %s)",
			s.Behind, s.Lag().Round(time.Second), lagWarning, host))
	}
}

// ltxFile is one file of the replica, as `litestream ltx -json` lists it.
type ltxFile struct {
	Level     int       `json:"level"`
	MinTXID   string    `json:"min_txid"`
	MaxTXID   string    `json:"max_txid"`
	Timestamp time.Time `json:"timestamp"`
}

// replicaFiles lists the replica's files at every level, asking the
// follower's own Litestream with its litestream.yml and credentials.
func replicaFiles(ctx context.Context, h *host.Host, cp copyOf) ([]ltxFile, error) {
	var stdout, stderr bytes.Buffer
	status, err := host.Exec(ctx, h, cp.Follower, []string{"litestream", "ltx", "-json", "-level", "all", cp.DB}, nil, &stdout, &stderr)
	if err != nil {
		return nil, err
	}
	if status != 0 {
		return nil, fmt.Errorf("litestream ltx in %s: %s", cp.Follower, strings.TrimSpace(stderr.String()+stdout.String()))
	}
	var files []ltxFile
	if err := json.Unmarshal(stdout.Bytes(), &files); err != nil {
		return nil, fmt.Errorf("litestream ltx -json in %s: %w", cp.Follower, err)
	}
	return files, nil
}

// position compares the copy's TXID with the replica's files. The lag in
// seconds is measured on the replica's own clock, from the first upload
// the copy lacks, or the upload that brought the copy's TXID if earlier,
// to the newest: it needs no clock of this machine's or the host's.
// Every such upload happened after the copy's transaction, so the lag is
// never overstated, even where compaction replaced the copy's own file.
func (s *State) position(files []ltxFile, copyTXID TXID) {
	var newest, copied *ltxFile
	var newestTXID, copiedTXID TXID
	var from time.Time // the earliest upload at or after the copy's transaction
	for i := range files {
		f := &files[i]
		t, err := ParseTXID(f.MaxTXID)
		if err != nil {
			s.Error = fmt.Sprintf("litestream ltx listed a file with max_txid %q", f.MaxTXID)
			return
		}
		if newest == nil || t > newestTXID || (t == newestTXID && f.Timestamp.Before(newest.Timestamp)) {
			newest, newestTXID = f, t
		}
		if t <= copyTXID && (copied == nil || t > copiedTXID || (t == copiedTXID && f.Timestamp.Before(copied.Timestamp))) {
			copied, copiedTXID = f, t
		}
		if t > copyTXID && (from.IsZero() || f.Timestamp.Before(from)) {
			from = f.Timestamp
		}
	}
	if newest == nil {
		s.Error = "the replica has no files"
		return
	}
	s.ReplicaTXID = newestTXID.String()
	at := newest.Timestamp
	s.ReplicaTime = &at
	if copyTXID >= newestTXID {
		return
	}
	s.Behind = uint64(newestTXID - copyTXID)
	if copied != nil && copied.Timestamp.Before(from) {
		from = copied.Timestamp
	}
	if lag := newest.Timestamp.Sub(from); lag > 0 {
		s.LagSeconds = lag.Seconds()
	}
}
