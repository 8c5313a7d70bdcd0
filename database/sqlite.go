package database

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shipdeploy/ship/host"
)

var (
	//go:embed count.sh
	countScript string
	//go:embed integrity.sh
	integrityScript string
)

// countRows returns each table's row count.
func countRows(ctx context.Context, h *host.Host, db DB) (map[string]int64, error) {
	file := db.HostPath
	out, err := inVolume(ctx, h, db, countScript)
	if err != nil {
		return nil, fmt.Errorf("count rows of %s: %w", file, err)
	}
	var rows []struct {
		T string `json:"t"`
		N int64  `json:"n"`
	}
	if strings.TrimSpace(out) != "" {
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			return nil, fmt.Errorf("count rows of %s: %w (%q)", file, err, out)
		}
	}
	counts := map[string]int64{}
	for _, r := range rows {
		counts[r.T] = r.N
	}
	return counts, nil
}

// integrityCheck runs PRAGMA integrity_check on a file no app uses (a
// restored copy, or a database before the app starts on it).
func integrityCheck(ctx context.Context, h *host.Host, db DB) error {
	file := db.HostPath
	out, err := inVolume(ctx, h, db, integrityScript)
	if err != nil {
		return fmt.Errorf("integrity check of %s: %w", file, err)
	}
	if got := strings.TrimSpace(out); got != "ok" {
		return fmt.Errorf("integrity check of %s failed:\n%s", file, got)
	}
	return nil
}
