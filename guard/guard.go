// Package guard keeps the single-writer invariant: before any container
// that may write to the app's volumes starts, no other running container
// may have them open for writing, so an SQLite database has one writer at
// every instant.
package guard

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/volumes"
)

// Writer is a running container with write access to one of the app's
// volumes.
type Writer struct {
	Container string
	Volume    string
}

// Writers lists the running containers, other than those named in allowed,
// that mount any of the app's writable volumes writable. This is the
// single-writer invariant: when a new version starts, the list must be
// empty, so the new container is the only writer of the database.
func Writers(ctx context.Context, docker client.APIClient, vols []volumes.Mount, allowed []string) ([]Writer, error) {
	list, err := docker.ContainerList(ctx, container.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list running containers: %w", err)
	}
	var out []Writer
	for _, c := range list {
		name := host.Name(c)
		if slices.Contains(allowed, name) {
			continue
		}
		for _, m := range c.Mounts {
			for _, v := range vols {
				if m.RW && !v.ReadOnly() && sameVolume(v, m) {
					out = append(out, Writer{Container: name, Volume: v.Source})
				}
			}
		}
	}
	return out, nil
}

func sameVolume(v volumes.Mount, m container.MountPoint) bool {
	if v.IsHostPath() {
		return m.Type == "bind" && path.Clean(m.Source) == path.Clean(v.Source)
	}
	return m.Type == "volume" && m.Name == v.Source
}

// Error explains a violation and what to do about it.
func Error(ws []Writer) error {
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%s (writes to %s)", w.Container, w.Volume))
	}
	return fmt.Errorf("single-writer check failed: %s has the app's database volume open for writing; "+
		"ship will not start a second writer. Stop or remove it (docker rm -f NAME), or mount the volume read-only (:ro), then deploy again",
		strings.Join(parts, ", "))
}

// Replicators are the containers besides the app that may keep a writable
// mount of its volumes through a swap: its Litestream replicator, which
// must keep running to back up every write.
func Replicators(c *config.Config) []string {
	var out []string
	for _, a := range c.Accessories {
		if config.IsLitestream(a.Image) {
			out = append(out, spec.AccessoryName(c, a))
		}
	}
	return out
}

// Check fails, naming them, when any running container other than the
// app's replicators and those named in also writes to the app's volumes.
func Check(ctx context.Context, docker client.APIClient, c *config.Config, also ...string) error {
	ws, err := Writers(ctx, docker, c.Volumes, append(Replicators(c), also...))
	if err != nil {
		return err
	}
	if len(ws) > 0 {
		return Error(ws)
	}
	return nil
}

// CheckReplica keeps the replica role's rule on a replica host: the
// followers are the only writers of the databases' copies, and the
// replica container about to start (created, not running) mounts every
// volume read-only, so it can write neither a copy nor anything else.
func CheckReplica(ctx context.Context, docker client.APIClient, c *config.Config, starting string) error {
	copies, followers, err := Copies(c)
	if err != nil {
		return err
	}
	ws, err := Writers(ctx, docker, copies, followers)
	if err != nil {
		return err
	}
	if len(ws) > 0 {
		return Error(ws)
	}
	info, err := docker.ContainerInspect(ctx, starting)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", starting, err)
	}
	for _, m := range info.Mounts {
		if m.RW {
			return fmt.Errorf("single-writer check failed: replica container %s mounts %s writable; a replica must mount every volume read-only: remove it (docker rm %s) and deploy again", starting, m.Destination, starting)
		}
	}
	return nil
}

// Copies are, on a replica host, the volumes that hold the copies of the
// writer's databases (each once, though several databases may share one)
// and the followers, the only containers that may mount them writable.
func Copies(c *config.Config) (copies []volumes.Mount, followers []string, err error) {
	if c.Litestream == nil {
		return nil, nil, nil
	}
	for _, db := range c.Litestream.Databases {
		m, _, err := c.DatabaseVolume(db)
		if err != nil {
			return nil, nil, err
		}
		cp := volumes.Mount{Source: spec.ReplicaVolume(c, m), Target: m.Target}
		if !slices.ContainsFunc(copies, func(m volumes.Mount) bool { return m.Source == cp.Source }) {
			copies = append(copies, cp)
		}
		followers = append(followers, spec.FollowerName(c, db))
	}
	return copies, followers, nil
}
