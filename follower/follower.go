// Package follower keeps a replica host's copies of the writer's
// databases: for each database of the litestream section, a follower
// container (`litestream restore -f`) that applies what the writer's
// Litestream uploads to S3 to a copy in a volume of its own, which the
// replica role's containers mount read-only. Before a follower first
// runs, its copy is prepared (docs/replicas.md, "Decision"); a copy that
// is prepared already is resumed. The follower is the only writer of its
// copy, and nothing here ever writes to the replica in S3.
package follower

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/guard"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/volumes"
)

// followTimeout bounds how long a started follower may take to say it
// follows: a resume first checks its TXID against the replica.
const followTimeout = time.Minute

// following is what Litestream 0.5 logs once restore -f has restored or
// resumed and polls the replica.
const following = "entering follow mode"

// Ensure makes every follower of the litestream section run on h, a host
// of a replica role: a running follower is left alone; otherwise its copy
// is resumed when it is prepared, or prepared, and the follower is
// (re)created and started. Progress goes to out. Nothing is left
// half-done: what a failed prepare made is removed again.
func Ensure(ctx context.Context, h *host.Host, c *config.Config, out io.Writer) error {
	cps, err := copies(c)
	if err != nil {
		return err
	}
	var l *litestream
	for _, cp := range cps {
		running, err := removeStopped(ctx, h, cp, out)
		if err != nil {
			return err
		}
		if running {
			fmt.Fprintf(out, "%s is following %s\n", cp.Follower, cp.DB)
			continue
		}
		if l == nil {
			if l, err = prepareHost(ctx, h, c); err != nil {
				return err
			}
		}
		if err := l.ensure(ctx, h, c, cp, followerNames(cps), out); err != nil {
			return err
		}
	}
	return nil
}

// prepareHost puts on h what Litestream needs there, as the accessory
// gets it (its litestream.yml, env file and image, accessories.Prepare),
// and the network, and returns the spec followers are made from.
func prepareHost(ctx context.Context, h *host.Host, c *config.Config) (*litestream, error) {
	a := database.Accessory(c)
	if a == nil {
		return nil, errors.New("the config has no litestream section: a replica role's followers restore what it replicates")
	}
	acc, err := accessories.Prepare(ctx, h, nil, c, a)
	if err != nil {
		return nil, err
	}
	if err := proxy.EnsureNetwork(ctx, h.Docker); err != nil {
		return nil, err
	}
	l := newLitestream(a, acc)
	return &l, nil
}

// ensure starts one follower, preparing its copy first unless it is
// prepared already. followers are the config's followers, which may share
// a copy volume, each writing its own database's files.
func (l litestream) ensure(ctx context.Context, h *host.Host, c *config.Config, cp copyOf, followers []string, out io.Writer) error {
	created, err := ensureVolume(ctx, h, c, cp)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(out, "created volume %s for the copy of %s\n", cp.Mount.Source, cp.DB)
	}
	db, _, err := cp.file(ctx, h)
	if err != nil {
		return err
	}
	// undo removes what this call made when a later step fails.
	prepared := false
	undo := func(err error) error {
		ctx := context.WithoutCancel(ctx)
		if prepared {
			err = errors.Join(err, clearCopy(ctx, h, db))
		}
		if created {
			if rerr := h.Docker.VolumeRemove(ctx, cp.Mount.Source, false); rerr != nil {
				err = errors.Join(err, fmt.Errorf("remove volume %s: %w", cp.Mount.Source, rerr))
			}
		}
		return err
	}
	pos, err := readPosition(ctx, h, db)
	if err != nil {
		return undo(err)
	}
	if err := onlyWriter(ctx, h, cp, followers); err != nil {
		return undo(err)
	}
	if pos.Prepared() {
		fmt.Fprintf(out, "resuming the copy of %s at TXID %s\n", cp.DB, pos.TXID)
	} else {
		if !pos.Empty() {
			fmt.Fprintf(out, "deleting an unfinished copy of %s\n", cp.DB)
		}
		// Cleared either way: a killed restore leaves DB.tmp alone.
		prepared = true
		if err := clearCopy(ctx, h, db); err != nil {
			return undo(err)
		}
		if pos.TXID, err = l.prepare(ctx, h, c, cp, db, out); err != nil {
			return undo(err)
		}
	}
	if err := l.start(ctx, h, c, cp); err != nil {
		if !prepared {
			err = fmt.Errorf("%w\nthe copy at TXID %s could not be resumed; to prepare a new one, remove the copy volume (docker volume rm %s on %s) and run ship again",
				err, pos.TXID, cp.Mount.Source, h.Name)
		}
		return undo(err)
	}
	fmt.Fprintf(out, "%s is following %s from TXID %s\n", cp.Follower, cp.DB, pos.TXID)
	return nil
}

// followerNames are the followers' containers.
func followerNames(cps []copyOf) []string {
	var out []string
	for _, cp := range cps {
		out = append(out, cp.Follower)
	}
	return out
}

// ensureVolume creates the copy volume unless it exists, and says
// whether it did.
func ensureVolume(ctx context.Context, h *host.Host, c *config.Config, cp copyOf) (bool, error) {
	if _, err := h.Docker.VolumeInspect(ctx, cp.Mount.Source); err == nil {
		return false, nil
	} else if !errdefs.IsNotFound(err) {
		return false, fmt.Errorf("inspect volume %s: %w", cp.Mount.Source, err)
	}
	_, err := h.Docker.VolumeCreate(ctx, volume.CreateOptions{Name: cp.Mount.Source, Labels: serviceLabels(c)})
	if err != nil {
		return false, fmt.Errorf("create volume %s: %w", cp.Mount.Source, err)
	}
	return true, nil
}

// onlyWriter refuses to write the copy while a running container other
// than the followers mounts its volume writable: the followers must be
// its only writers (several databases on one app volume share a copy
// volume).
func onlyWriter(ctx context.Context, h *host.Host, cp copyOf, followers []string) error {
	ws, err := guard.Writers(ctx, h.Docker, []volumes.Mount{cp.Mount}, followers)
	if err != nil {
		return err
	}
	if len(ws) > 0 {
		return fmt.Errorf("not writing the copy of %s: %w", cp.DB, guard.Error(ws))
	}
	return nil
}

// start creates and starts the follower, and waits until it says it
// follows. A follower that fails is removed again.
func (l litestream) start(ctx context.Context, h *host.Host, c *config.Config, cp copyOf) error {
	cc, hc := l.followerSpec(c, cp)
	if _, err := h.Docker.ContainerCreate(ctx, cc, hc, nil, nil, cp.Follower); err != nil {
		return fmt.Errorf("create %s: %w", cp.Follower, err)
	}
	err := h.Docker.ContainerStart(ctx, cp.Follower, container.StartOptions{})
	if err != nil {
		err = fmt.Errorf("start %s: %w", cp.Follower, err)
	} else {
		err = waitFollowing(ctx, h, cp.Follower)
	}
	if err != nil {
		if rerr := h.Docker.ContainerRemove(context.WithoutCancel(ctx), cp.Follower, container.RemoveOptions{Force: true}); rerr != nil && !errdefs.IsNotFound(rerr) {
			err = errors.Join(err, fmt.Errorf("remove %s: %w", cp.Follower, rerr))
		}
	}
	return err
}

// waitFollowing waits until the follower logs that it follows, and fails
// when it exits first (a pruned history, a TXID ahead of the replica,
// wrong credentials).
func waitFollowing(ctx context.Context, h *host.Host, name string) error {
	deadline := time.Now().Add(followTimeout)
	for {
		info, err := h.Docker.ContainerInspect(ctx, name)
		if err != nil {
			return fmt.Errorf("inspect %s: %w", name, err)
		}
		logs := host.LogTail(ctx, h, name, 50)
		if !info.State.Running && !info.State.Restarting {
			return fmt.Errorf("%s exited with status %d:\n%s", name, info.State.ExitCode, indent(logs))
		}
		if info.State.Running && info.RestartCount == 0 && strings.Contains(logs, following) {
			return nil
		}
		if info.RestartCount > 0 {
			return fmt.Errorf("%s exited and restarts:\n%s", name, indent(logs))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not start following in %s:\n%s", name, followTimeout, indent(logs))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// removeStopped says whether the follower runs, and removes its container
// when it does not: it is made again from the config.
func removeStopped(ctx context.Context, h *host.Host, cp copyOf, out io.Writer) (bool, error) {
	info, err := h.Docker.ContainerInspect(ctx, cp.Follower)
	switch {
	case errdefs.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("inspect %s: %w", cp.Follower, err)
	case info.State.Running:
		return true, nil
	}
	if err := h.Docker.ContainerRemove(ctx, cp.Follower, container.RemoveOptions{Force: true}); err != nil && !errdefs.IsNotFound(err) {
		return false, fmt.Errorf("remove %s: %w", cp.Follower, err)
	}
	fmt.Fprintf(out, "removed %s, which had stopped (exit %d)\n", cp.Follower, info.State.ExitCode)
	return false, nil
}

// Reseed prepares every copy on h afresh: the followers are stopped and
// removed, the copies deleted (the file, DB-txid and whatever Litestream
// left), and Ensure prepares and starts them again. After a writer
// rollback that restores data, the copies hold transactions the replica
// no longer has. The caller stops the replica role's containers first.
func Reseed(ctx context.Context, h *host.Host, c *config.Config, out io.Writer) error {
	cps, err := copies(c)
	if err != nil {
		return err
	}
	if err := remove(ctx, h, c, cps, out); err != nil {
		return err
	}
	for _, cp := range cps {
		db, ok, err := cp.file(ctx, h)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := clearCopy(ctx, h, db); err != nil {
			return err
		}
		fmt.Fprintf(out, "deleted the copy of %s\n", cp.DB)
	}
	return Ensure(ctx, h, c, out)
}

// Remove stops and removes every follower on h. The copies stay, as ship
// remove keeps the app's data: RemoveCopies deletes them.
func Remove(ctx context.Context, h *host.Host, c *config.Config) error {
	cps, err := copies(c)
	if err != nil {
		return err
	}
	return remove(ctx, h, c, cps, io.Discard)
}

func remove(ctx context.Context, h *host.Host, c *config.Config, cps []copyOf, out io.Writer) error {
	timeout := int(c.StopTimeout.Seconds())
	for _, cp := range cps {
		err := h.Docker.ContainerStop(ctx, cp.Follower, container.StopOptions{Timeout: &timeout})
		if errdefs.IsNotFound(err) {
			continue
		} else if err != nil {
			return fmt.Errorf("stop %s: %w", cp.Follower, err)
		}
		if err := h.Docker.ContainerRemove(ctx, cp.Follower, container.RemoveOptions{}); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("remove %s: %w", cp.Follower, err)
		}
		fmt.Fprintf(out, "removed %s\n", cp.Follower)
	}
	return nil
}

// RemoveCopies deletes the copy volumes on h, once no follower runs there
// (Remove) and no container mounts them.
func RemoveCopies(ctx context.Context, h *host.Host, c *config.Config) error {
	cps, err := copies(c)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, cp := range cps {
		if _, err := h.Docker.ContainerInspect(ctx, cp.Follower); err == nil {
			return fmt.Errorf("not removing the copy volume %s while %s exists: remove the followers first", cp.Mount.Source, cp.Follower)
		}
		if done[cp.Mount.Source] {
			continue
		}
		done[cp.Mount.Source] = true
		if err := h.Docker.VolumeRemove(ctx, cp.Mount.Source, false); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("remove volume %s (a replica container may still mount it): %w", cp.Mount.Source, err)
		}
	}
	return nil
}
