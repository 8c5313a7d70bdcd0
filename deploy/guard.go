package deploy

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/volumes"
)

// Writer is a running container with write access to one of the app's
// volumes.
type Writer struct {
	Container string
	Volume    string
}

// writers lists the running containers, other than those named in allowed,
// that mount any of the app's writable volumes writable. This is the
// single-writer invariant: when a new version starts, the list must be
// empty, so the new container is the only writer of the database.
func writers(ctx context.Context, docker client.APIClient, vols []volumes.Mount, allowed []string) ([]Writer, error) {
	list, err := docker.ContainerList(ctx, container.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list running containers: %w", err)
	}
	var out []Writer
	for _, c := range list {
		name := strings.TrimPrefix(firstName(c.Names), "/")
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

// writersError explains a violation and what to do about it.
func writersError(ws []Writer) error {
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%s (writes to %s)", w.Container, w.Volume))
	}
	return fmt.Errorf("single-writer check failed: %s has the app's database volume open for writing; "+
		"ship will not start a second writer. Stop or remove it (docker rm -f NAME), or mount the volume read-only (:ro), then deploy again",
		strings.Join(parts, ", "))
}

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}
