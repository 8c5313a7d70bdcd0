package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/shipdeploy/ship/internal/benchkit"
	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/spec"
)

// seed writes the scenario's rows through kamal-proxy and returns the
// writer instance's name as the app reports it: its container's
// hostname, Docker's default, the first 12 characters of its ID.
func (b *bench) seed(ctx context.Context, s *scenario) (string, error) {
	hc := &http.Client{Timeout: requestTimeout, Transport: benchkit.HostTransport{Host: s.host, RT: &http.Transport{}}}
	base := fmt.Sprintf("http://127.0.0.1:%d", proxyHTTPPort)
	for i := range seed {
		if _, err := testapp.Post(hc, base, fmt.Sprintf("seed %d", i)); err != nil {
			return "", fmt.Errorf("seed %s: %w", s.Service, err)
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
	}
	list, err := b.h1cli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", spec.LabelService+"="+s.Service), filters.Arg("label", spec.LabelRole+"=web"))})
	if err != nil {
		return "", fmt.Errorf("list %s's writer on %s: %w", s.Service, b.h1.Name, err)
	}
	if len(list) != 1 {
		return "", fmt.Errorf("%d containers of %s's role web run on %s, want 1", len(list), s.Service, b.h1.Name)
	}
	info, err := b.h1cli.ContainerInspect(ctx, list[0].ID)
	if err != nil {
		return "", fmt.Errorf("inspect %s's writer: %w", s.Service, err)
	}
	return info.Config.Hostname, nil
}

// waitRows waits until the replica at target lists at least n rows: the
// follower has the seed.
func waitRows(ctx context.Context, target string, n int) error {
	hc := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(arriveWithin)
	for {
		ids, err := testapp.Records(hc, target)
		if err == nil && len(ids) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the replica at %s lists %d rows after %s (%v), want %d", target, len(ids), arriveWithin, err, n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
