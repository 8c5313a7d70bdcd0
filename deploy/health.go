package deploy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// check is how ship decides a container is ready.
type check struct {
	path     string // HTTP path; "" means no HTTP check
	port     int
	interval time.Duration
	timeout  time.Duration // one request
	delay    time.Duration // without any check: how long it must stay up
}

// checkFor picks a role's readiness check: the proxy's health check for a
// proxied role, else ship's healthcheck, else Docker's HEALTHCHECK, else
// "still running after readiness_delay".
func checkFor(c *config.Config, r *config.Role) check {
	ck := check{interval: time.Second, timeout: 5 * time.Second, delay: c.ReadinessDelay}
	if w := c.Role(r.ReplicaOf); r.IsReplica() && w != nil {
		r = w // a replica answers the writer's health check, as its read target
	}
	switch {
	case r.Proxy != nil:
		ck.path, ck.port = r.Proxy.Healthcheck.Path, r.Proxy.AppPort
		ck.interval, ck.timeout = r.Proxy.Healthcheck.Interval, r.Proxy.Healthcheck.Timeout
	case r.Healthcheck.Path != "":
		ck.path, ck.port = r.Healthcheck.Path, r.Healthcheck.Port
		if ck.port == 0 {
			ck.port = 80
		}
		if r.Healthcheck.Interval > 0 {
			ck.interval = r.Healthcheck.Interval
		}
		if r.Healthcheck.Timeout > 0 {
			ck.timeout = r.Healthcheck.Timeout
		}
	}
	return ck
}

// HealthCheck is the HTTP path and port ship checks a role's container
// on ("" for no HTTP check), as a deploy does.
func HealthCheck(c *config.Config, r *config.Role) (string, int) {
	ck := checkFor(c, r)
	return ck.path, ck.port
}

// waitHealthy waits until the container passes its check, within
// deadline. It gives up at once if the container exits.
func waitHealthy(ctx context.Context, h *host.Host, id string, ck check, deadline time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	start := time.Now()
	var last string
	// Poll fast at first: most apps listen within milliseconds of their
	// start, and every wasted moment is time requests are held. A check
	// is one inspect and one connection over SSH, a few ms; starting at
	// 50 ms, a third of the deploys here waited 50 ms for their second.
	wait := 10 * time.Millisecond
	for {
		info, err := h.Docker.ContainerInspect(ctx, id)
		if err != nil {
			return fmt.Errorf("inspect container: %w", err)
		}
		if !info.State.Running {
			return fmt.Errorf("container exited with status %d", info.State.ExitCode)
		}
		switch {
		case ck.path != "":
			if last = httpCheck(ctx, h, info, ck); last == "" {
				return nil
			}
		case info.State.Health != nil:
			if info.State.Health.Status == "healthy" {
				return nil
			}
			last = "Docker health status " + info.State.Health.Status
		default:
			if time.Since(start) >= ck.delay {
				return nil
			}
			last = "waiting readiness_delay"
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not healthy within %s: %s", deadline, last)
		case <-time.After(wait):
		}
		wait = min(2*wait, ck.interval)
	}
}

// httpCheck GETs the health path from the host, through the SSH
// connection, at the container's address on the app network. It returns ""
// when healthy, else why not.
func httpCheck(ctx context.Context, h *host.Host, info container.InspectResponse, ck check) string {
	ip := "127.0.0.1" // host networking
	if info.NetworkSettings != nil {
		for _, n := range info.NetworkSettings.Networks {
			if n.IPAddress != "" {
				ip = n.IPAddress
				break
			}
		}
	}
	client := &http.Client{
		Timeout: ck.timeout,
		Transport: &http.Transport{
			DialContext:       h.Shell.DialContext,
			DisableKeepAlives: true,
		},
	}
	url := "http://" + net.JoinHostPort(ip, strconv.Itoa(ck.port)) + ck.path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return "GET " + ck.path + ": " + err.Error()
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Sprintf("GET %s answered %s", ck.path, resp.Status)
	}
	return ""
}
