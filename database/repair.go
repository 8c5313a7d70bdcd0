package database

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/guard"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
)

// RepairData finishes a replacement of databases that a killed ship left
// half-done on the host (db restore, rollback --restore-data, a failed
// release taking its data back), from the journal it left: the app is
// stopped if anything started it, every database gets its own files back
// as they were before the replacement began, and Litestream and the
// versions the replacement had stopped start again. Nothing is deleted but
// the replacement's own new files. It runs under the queue, before the
// containers' repair, and does nothing when no journal is left.
func RepairData(ctx context.Context, h *host.Host, c *config.Config, out io.Writer) error {
	j, err := readJournal(ctx, h, c)
	if err != nil || j == nil {
		return err
	}
	fmt.Fprintf(out, "repair: a ship was stopped while it replaced the databases (%s, while %s): putting each back as it was\n", j.Why, j.Phase)
	// Nothing may have the databases open while they move.
	running, err := stopApp(ctx, h, c, out)
	if err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	if replicating(ctx, h, c) {
		if err := accessories.Stop(ctx, h, c, Accessory(c), out); err != nil {
			return fmt.Errorf("repair: %w", err)
		}
	}
	if err := removeRestores(ctx, h, c, out); err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	if ws, err := guard.Writers(ctx, h.Docker, c.Volumes, nil); err != nil {
		return fmt.Errorf("repair: %w", err)
	} else if len(ws) > 0 {
		return fmt.Errorf("repair: not putting the databases back: %w", guard.Error(ws))
	}
	if err := putBackAll(ctx, h, j, out); err != nil {
		return fmt.Errorf("repair: %w; the databases stay as they are, and the journal %s stays for the next try", err, deploy.RecordFile("~", c, journalKind, journalName))
	}
	start := running
	for _, s := range j.Start {
		i := slices.IndexFunc(c.Roles, func(r *config.Role) bool { return r.Name == s.Role })
		if i < 0 {
			fmt.Fprintf(out, "repair: role %s is no longer in the config: not starting %s\n", s.Role, s.Version)
			continue
		}
		if list, err := deploy.Containers(ctx, h, c, s.Role); err != nil {
			return fmt.Errorf("repair: %w", err)
		} else if len(list) == 0 {
			fmt.Fprintf(out, "repair: role %s has no container on this host any more: not starting %s\n", s.Role, s.Version)
			continue
		}
		start = append(start, ran{role: c.Roles[i], version: s.Version})
	}
	if err := finish(ctx, h, c, *j, start, out); err != nil {
		return fmt.Errorf("repair: the databases are back as they were, but %w", err)
	}
	return nil
}

// removeRestores removes the one-off Litestream restores a killed ship
// left: one may still be writing a database into its place, and would
// finish after the put-back, over it.
func removeRestores(ctx context.Context, h *host.Host, c *config.Config, out io.Writer) error {
	a := Accessory(c)
	if a == nil {
		return nil
	}
	prefix := spec.AccessoryName(c, a) + "-restore-"
	list, err := h.Docker.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("name", "^/"+prefix))})
	if err != nil {
		return fmt.Errorf("list restores: %w", err)
	}
	for _, ct := range list {
		name := host.Name(ct)
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		fmt.Fprintf(out, "repair: removing %s, a restore the killed ship left\n", name)
		if err := h.Docker.ContainerRemove(ctx, ct.ID, container.RemoveOptions{Force: true}); err != nil {
			return fmt.Errorf("remove %s: %w", name, err)
		}
	}
	return nil
}
