package database

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/ssh"
)

// A restore point copied at the quiet point holds requests for as long as
// the copy takes, which grows with the database. prepoint.sh takes the
// bulk of it before the pause, while the old version serves, and at the
// quiet point brings it up to date from the WAL: the hold then grows with
// what was written during the swap, not with the database. Where it
// cannot (no WAL, the WAL restarted), the quiet point copies the whole
// database as before (record.sh).

//go:embed prepoint.sh
var prepointScript string

// maxPreCopies bounds the copies a swap keeps waiting for its quiet
// point: each holds one SSH session (8 per connection) until then, and the
// swap needs others meanwhile. Further databases are copied whole.
const maxPreCopies = 4

// DataFunc is a swap's quiet-point data step (deploy.Request.Data).
type DataFunc = func(ctx context.Context, h *host.Host, r *config.Role, from string, out io.Writer) error

// preCopy is one database's prepoint.sh, waiting for the quiet point.
type preCopy struct {
	db    DB
	in    *io.PipeWriter
	lines chan string // its output, line by line; closed when it ends
	done  chan error  // its exit
}

// startPreCopy runs prepoint.sh for db and waits until its copy is
// taken. It returns nil and why when the database must be copied whole at
// the quiet point instead.
func startPreCopy(ctx context.Context, h *host.Host, c *config.Config, db DB, version string) (*preCopy, string, error) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	p := &preCopy{db: db, in: inW, lines: make(chan string, 4), done: make(chan error, 1)}
	var stderr strings.Builder
	args := append([]string{db.Root, db.relDir(), db.Name()}, version, strconv.Itoa(c.RetainContainers+1))
	cmd := ssh.Script(asRootScript, ssh.Script(safeScript+"\n"+prepointScript, args...).Args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, &stderr
	go func() {
		err := h.Shell.Run(ctx, cmd)
		if msg := strings.TrimSpace(stderr.String()); err != nil && msg != "" {
			err = errors.New(msg)
		}
		outW.Close()
		inR.Close()
		p.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	line, err := p.next()
	switch {
	case err != nil:
		return nil, "", fmt.Errorf("copy %s before the pause: %w", db.Path, err)
	case line == "ready":
		return p, "", nil
	}
	p.in.Close()
	<-p.done
	return nil, strings.TrimPrefix(line, "full: "), nil
}

// next is the script's next line; at its end, its error.
func (p *preCopy) next() (string, error) {
	if line, ok := <-p.lines; ok {
		return line, nil
	}
	err := <-p.done
	p.done <- err
	if err == nil {
		err = errors.New("prepoint.sh ended without saying why")
	}
	return "", err
}

// finish brings the copy up to date at the quiet point. It reports false
// and why when the database must be copied whole instead. Once the
// restore point is recorded, the script goes on removing the pruned ones
// outside the hold, until release.
func (p *preCopy) finish() (bool, string, error) {
	if _, err := io.WriteString(p.in, "go\n"); err != nil {
		return false, "", fmt.Errorf("finish the restore point of %s: %w", p.db.Path, err)
	}
	line, err := p.next()
	if err != nil {
		return false, "", fmt.Errorf("finish the restore point of %s: %w", p.db.Path, err)
	}
	if line == "recorded" {
		return true, "", nil
	}
	if err := p.release(); err != nil {
		return false, "", fmt.Errorf("finish the restore point of %s: %w", p.db.Path, err)
	}
	return false, strings.TrimPrefix(line, "full: "), nil
}

// release ends the script, which removes the copy unless finish moved it
// into place, and returns its exit.
func (p *preCopy) release() error {
	p.in.Close()
	for range p.lines {
	}
	err := <-p.done
	p.done <- err
	return err
}

// PrepareStep is the swap's step before the pause
// (deploy.Request.PrepareData), where DataStep will record a restore
// point: it copies each database while the old version still serves, and
// returns the quiet-point step that finishes those copies, and a release
// that removes the copies the swap did not use. It is nil when ship knows
// no databases.
func PrepareStep(c *config.Config, restoreVersion string) func(ctx context.Context, h *host.Host, r *config.Role, from string, out io.Writer) (DataFunc, func(), error) {
	if c.Litestream == nil && len(c.Databases) == 0 {
		return nil
	}
	return func(ctx context.Context, h *host.Host, r *config.Role, from string, out io.Writer) (DataFunc, func(), error) {
		if from == "" {
			return nil, func() {}, nil
		}
		dbs, err := locateKnown(ctx, h, c, r.Name)
		if err != nil {
			return nil, nil, err
		}
		began := time.Now()
		copies := map[string]*preCopy{}
		release := func() {
			for _, p := range copies {
				p.release()
			}
		}
		for _, db := range dbs {
			if len(copies) == maxPreCopies {
				fmt.Fprintf(out, "%s is copied whole at the quiet point: %d databases are copied before the pause at most\n", db.Path, maxPreCopies)
				continue
			}
			p, why, err := startPreCopy(ctx, h, c, db, from)
			if err != nil {
				release()
				return nil, nil, err
			}
			if p == nil {
				fmt.Fprintf(out, "%s is copied whole at the quiet point: %s\n", db.Path, why)
				continue
			}
			copies[db.Path] = p
		}
		if len(copies) > 0 {
			fmt.Fprintf(out, "copied the databases before the pause (%.2fs)\n", time.Since(began).Seconds())
		}
		data := func(ctx context.Context, h *host.Host, r *config.Role, from string, out io.Writer) error {
			return dataStep(ctx, h, c, r, from, restoreVersion, copies, out)
		}
		return data, release, nil
	}
}

// finishRestorePoint records the restore point of version from the
// copies taken before the pause, and copies the databases without one
// whole.
func finishRestorePoint(ctx context.Context, h *host.Host, c *config.Config, dbs []DB, version string, copies map[string]*preCopy, out io.Writer) error {
	began := time.Now()
	var whole []DB
	for _, db := range dbs {
		p := copies[db.Path]
		if p == nil {
			whole = append(whole, db)
			continue
		}
		done, why, err := p.finish()
		if err != nil {
			return err
		}
		if !done {
			fmt.Fprintf(out, "%s is copied whole at the quiet point: %s\n", db.Path, why)
			whole = append(whole, db)
		}
	}
	if len(whole) < len(dbs) {
		fmt.Fprintf(out, "recorded the restore point of %s from the copies taken before the pause (%.2fs)\n", version, time.Since(began).Seconds())
	}
	if len(whole) == 0 {
		return nil
	}
	return recordRestorePoint(ctx, h, c, whole, version, out)
}
