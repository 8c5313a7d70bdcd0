package host

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/spec"
)

// RoleContainers lists a role's containers on a host, newest first.
func RoleContainers(ctx context.Context, h *Host, c *config.Config, role string) ([]container.Summary, error) {
	list, err := h.Docker.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", spec.LabelService+"="+c.Service),
		filters.Arg("label", spec.LabelRole+"="+role),
	)})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []container.Summary
	for _, ct := range list {
		if ct.Labels[spec.LabelDestination] == c.Destination {
			out = append(out, ct)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created > out[j].Created })
	return out, nil
}

// RunningContainers lists a role's running containers, newest first.
func RunningContainers(ctx context.Context, h *Host, c *config.Config, role string) ([]container.Summary, error) {
	list, err := RoleContainers(ctx, h, c, role)
	if err != nil {
		return nil, err
	}
	var out []container.Summary
	for _, c := range list {
		if c.State == "running" || c.State == "restarting" {
			out = append(out, c)
		}
	}
	return out, nil
}

// Name is a listed container's name, without Docker's leading slash.
func Name(c container.Summary) string {
	if len(c.Names) == 0 {
		return ""
	}
	return strings.TrimPrefix(c.Names[0], "/")
}
