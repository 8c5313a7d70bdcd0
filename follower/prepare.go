package follower

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/host"
)

// noBackup is how Litestream 0.5 says the replica has nothing to restore
// up to the TXID asked for.
const noBackup = "no matching backup files available"

// pinAttempts bounds how often a prepare pins again when the replica's
// files changed between the pin and the restore (compaction may replace
// the files that reach the pinned TXID with one that goes beyond it).
const pinAttempts = 3

// prepare restores the copy as docs/replicas.md "Decision" says, so that
// readers on a read-only mount can open it at once and restore -f resumes
// from exactly what was restored:
//
//  1. pin a TXID: the newest the replica can restore to, as
//     `restore -dry-run -json` plans it. Not `restore -json`'s TXID: it
//     plans a second time before restoring, so a write between the two
//     makes the copy newer than the TXID it names, and a follower resuming
//     from the older TXID re-applies old pages over new ones. Not
//     `litestream ltx`: its newest file need not be one a restore can
//     reach contiguously;
//  2. `restore -txid PIN`, which restores exactly PIN or fails;
//  3. PRAGMA journal_mode=DELETE, through the host's sqlite3 and safe.sh;
//  4. PIN to DB-txid, last.
//
// It returns PIN. The copy must be empty.
func (l litestream) prepare(ctx context.Context, h *host.Host, c *config.Config, cp copyOf, db database.DB, out io.Writer) (TXID, error) {
	for attempt := 1; ; attempt++ {
		pin, err := l.pin(ctx, h, c, cp)
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(out, "restoring %s at TXID %s (the replica's newest)\n", cp.DB, pin)
		err = l.restoreAt(ctx, h, c, cp, pin)
		if errors.Is(err, errGone) && attempt < pinAttempts {
			fmt.Fprintf(out, "the replica's files changed meanwhile: pinning again\n")
			if err := clearCopy(ctx, h, db); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(out, "making the copy of %s a rollback-mode file for read-only readers\n", cp.DB)
		return pin, makeRollback(ctx, h, db, pin)
	}
}

// errGone is a pinned TXID the replica can no longer restore to.
var errGone = errors.New("the pinned TXID is no longer in the replica")

// pin asks Litestream for the newest TXID a restore of the replica
// reaches, without restoring.
func (l litestream) pin(ctx context.Context, h *host.Host, c *config.Config, cp copyOf) (TXID, error) {
	status, stdout, stderr, err := l.oneOff(ctx, h, c, cp, "pin", "restore", "-dry-run", "-json", "-o", cp.DB, cp.DB)
	if err != nil {
		return 0, err
	}
	if status != 0 {
		return 0, restoreError(c, cp, "plan a restore of", status, stderr+stdout)
	}
	return parsePlan(stdout)
}

// parsePlan reads the newest TXID of `restore -dry-run -json`'s plan.
func parsePlan(out string) (TXID, error) {
	var plan struct {
		MaxTXID string `json:"max_txid"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		return 0, fmt.Errorf("litestream restore -dry-run -json: %w (%q)", err, firstLine(out))
	}
	t, err := ParseTXID(plan.MaxTXID)
	if err != nil {
		return 0, fmt.Errorf("litestream restore -dry-run -json: max_txid: %w", err)
	}
	return t, nil
}

// restoreAt restores the replica at exactly pin into the copy.
func (l litestream) restoreAt(ctx context.Context, h *host.Host, c *config.Config, cp copyOf, pin TXID) error {
	status, stdout, stderr, err := l.oneOff(ctx, h, c, cp, "restore", "restore", "-txid", pin.String(), "-json", "-o", cp.DB, cp.DB)
	if err != nil {
		return err
	}
	if status != 0 {
		if strings.Contains(stderr+stdout, noBackup) {
			return errGone
		}
		return restoreError(c, cp, "restore", status, stderr+stdout)
	}
	var res struct {
		TXID string `json:"txid"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		return fmt.Errorf("litestream restore -json: %w (%q)", err, firstLine(stdout))
	}
	if got, err := ParseTXID(res.TXID); err != nil || got != pin {
		return fmt.Errorf("litestream restore -txid %s says it restored TXID %q", pin, res.TXID)
	}
	return nil
}

// ErrNoBackup is the error of a follower whose replica has no backup yet:
// the writer's Litestream has not synced the database once (a first
// deploy, before the writer ran).
var ErrNoBackup = errors.New("the replica has no backup yet")

// noBackupError says what to do about ErrNoBackup.
type noBackupError string

func (e noBackupError) Error() string        { return string(e) }
func (e noBackupError) Is(target error) bool { return target == ErrNoBackup }

// restoreError explains a failed litestream restore, and what to do.
func restoreError(c *config.Config, cp copyOf, what string, status int, output string) error {
	output = strings.TrimSpace(output)
	if strings.Contains(output, noBackup) {
		return noBackupError(fmt.Sprintf("the replica %s has no backup of %s yet: boot the writer's Litestream (ship setup, or ship accessory boot litestream) and let it sync once, then try again",
			c.Litestream.ReplicaURL(cp.DB), cp.DB))
	}
	return fmt.Errorf("litestream could not %s %s from %s (exit %d):\n%s", what, cp.DB, c.Litestream.ReplicaURL(cp.DB), status, indent(output))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
