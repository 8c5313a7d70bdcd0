package database

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shipdeploy/ship/host"
)

// countScript prints each table's row count as JSON, reading with
// -readonly so that it never takes the write lock. Litestream 0.3's own
// bookkeeping tables are not the app's data.
const countScript = needSQLite + `db=$1
q=$(sqlite3 -readonly -bail "$db" "SELECT group_concat('SELECT ' || quote(name) || ' AS t, count(*) AS n FROM \"' || replace(name, '\"', '\"\"') || '\"', ' UNION ALL ') FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_litestream\_%' ESCAPE '\'") || exit 1
[ -n "$q" ] || { echo '[]'; exit 0; }
sqlite3 -readonly -bail -json "$db" "$q"
`

// countRows returns each table's row count.
func countRows(ctx context.Context, h *host.Host, file string) (map[string]int64, error) {
	out, err := asRoot(ctx, h, countScript, file)
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

const integrityScript = needSQLite + `sqlite3 -bail "$1" "PRAGMA integrity_check"`

// integrityCheck runs PRAGMA integrity_check on a file no app uses (a
// restored copy, or a database before the app starts on it).
func integrityCheck(ctx context.Context, h *host.Host, file string) error {
	out, err := asRoot(ctx, h, integrityScript, file)
	if err != nil {
		return fmt.Errorf("integrity check of %s: %w", file, err)
	}
	if got := strings.TrimSpace(out); got != "ok" {
		return fmt.Errorf("integrity check of %s failed:\n%s", file, got)
	}
	return nil
}
