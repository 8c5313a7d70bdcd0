package database

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/host"
)

// phase is how far a replacement of databases got.
type phase int

const (
	// settingAside: the live files are moving aside, and nothing new is
	// in their place yet.
	settingAside phase = iota
	// filling: every database is aside whole; what is in place is new.
	filling
)

func (p phase) String() string {
	if p == filling {
		return "filling"
	}
	return "setting aside"
}

// MarshalText writes the phase as its name, for people reading the
// journal.
func (p phase) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a phase's name.
func (p *phase) UnmarshalText(b []byte) error {
	switch string(b) {
	case "setting aside":
		*p = settingAside
	case "filling":
		*p = filling
	default:
		return fmt.Errorf("unknown phase %q", b)
	}
	return nil
}

// replacement is the journal of databases being replaced on a host,
// written before the first file moves aside and cleared once every
// database is whole again, replaced or put back, and Litestream runs as
// before. A ship killed in between leaves it behind, and RepairData puts
// every database back from what the journal names.
type replacement struct {
	Why         string `json:"why"` // the set-aside directories are NAME.Why
	Phase       phase  `json:"phase"`
	Databases   []DB   `json:"databases"`
	Replicating bool   `json:"replicating"` // Litestream ran before
	// Start is each role's version that ran before, and starts again once
	// the databases are whole: db restore stops the app for its work.
	Start []startAgain `json:"start,omitempty"`
}

// startAgain is a role's version to start again.
type startAgain struct {
	Role    string `json:"role"`
	Version string `json:"version"`
}

// The journal is one of the deploy package's records on the host:
// spec.AppDir/replacing/databases.
const journalKind, journalName = "replacing", "databases"

func writeJournal(ctx context.Context, h *host.Host, c *config.Config, r replacement) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return deploy.Record(ctx, h, c, journalKind, journalName, string(b))
}

// readJournal returns the replacement a killed ship left, or nil.
func readJournal(ctx context.Context, h *host.Host, c *config.Config) (*replacement, error) {
	s, err := deploy.ReadRecord(ctx, h, c, journalKind, journalName)
	if err != nil || s == "" {
		return nil, err
	}
	var r replacement
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("the journal of a replacement of databases on %s is damaged (%w): check every database, then remove %s", h.Name, err, deploy.RecordFile("~", c, journalKind, journalName))
	}
	return &r, nil
}

func clearJournal(ctx context.Context, h *host.Host, c *config.Config) error {
	return deploy.Record(context.WithoutCancel(ctx), h, c, journalKind, journalName, "")
}

// Interrupted names the replacement of databases a killed ship left
// half-done on the host, or "" when there is none: the next mutating
// command puts every database back (RepairData).
func Interrupted(ctx context.Context, h *host.Host, c *config.Config) (string, error) {
	j, err := readJournal(ctx, h, c)
	if err != nil || j == nil {
		return "", err
	}
	return fmt.Sprintf("%s, stopped while %s", j.Why, j.Phase), nil
}
