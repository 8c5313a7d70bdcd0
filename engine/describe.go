package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// Host is what `ship details` shows of one host. It has no json tags on
// purpose: ship details --json builds its documented document (docs/json.md)
// from it in cmd/ship, so this type can change without breaking that.
type Host struct {
	Version    string
	APIVersion string
	OS         string
	Arch       string
	Containers []Container
}

// Container is one of the service's containers on a host.
type Container struct {
	Name    string
	Image   string
	Role    string // the role label; "" for accessories and others
	State   string
	Status  string
	Created int64 // Unix seconds
}

// Describe reads the engine's version and the service's containers: those
// labelled service=SERVICE (app) or named SERVICE-* (accessories and the
// containers Kamal left).
func Describe(ctx context.Context, cli client.APIClient, service string) (Host, error) {
	v, err := cli.ServerVersion(ctx)
	if err != nil {
		return Host{}, fmt.Errorf("docker version: %w", err)
	}
	h := Host{Version: v.Version, APIVersion: v.APIVersion, OS: v.Os, Arch: v.Arch}
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		return h, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range list {
		name := strings.TrimPrefix(firstName(c.Names), "/")
		if c.Labels["service"] != service && !strings.HasPrefix(name, service+"-") {
			continue
		}
		h.Containers = append(h.Containers, Container{
			Name: name, Image: c.Image, Role: c.Labels["role"],
			State: c.State, Status: c.Status, Created: c.Created,
		})
	}
	sort.Slice(h.Containers, func(i, j int) bool { return h.Containers[i].Created > h.Containers[j].Created })
	return h, nil
}

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}
