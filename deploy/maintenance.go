package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/spec"
)

// Maintenance puts a proxied role's service on the host in maintenance,
// as Kamal's app maintenance does: kamal-proxy lets the requests in flight
// finish within drain, then answers every request 503 with message (and
// the app's 503 error page) until Live. It reports whether the service was
// in maintenance already. Deploys keep it in maintenance.
func Maintenance(ctx context.Context, h *host.Host, c *config.Config, r *config.Role, drain time.Duration, message string, out io.Writer) (already bool, err error) {
	if r.Proxy == nil {
		return false, nil
	}
	svc := spec.ProxyService(c, r.Name)
	state, err := proxy.ServiceState(ctx, h.Docker, svc)
	if err != nil {
		return false, fmt.Errorf("kamal-proxy: %w", err)
	}
	if state == proxy.Absent {
		return false, fmt.Errorf("kamal-proxy does not route %s on this host: deploy first", svc)
	}
	if err := proxy.Maintenance(ctx, h.Docker, svc, drain, message); err != nil {
		return false, fmt.Errorf("kamal-proxy: maintenance %s: %w", svc, err)
	}
	fmt.Fprintf(out, "%s is in maintenance: kamal-proxy answers 503\n", svc)
	return state == proxy.Stopped, nil
}

// Live ends a proxied role's maintenance, as Kamal's app live does, and
// clears the record of a maintenance ship began for its data work.
func Live(ctx context.Context, h *host.Host, c *config.Config, r *config.Role, out io.Writer) error {
	if r.Proxy == nil {
		return nil
	}
	svc := spec.ProxyService(c, r.Name)
	if err := proxy.Resume(ctx, h.Docker, h.Shell.DialContext, svc); err != nil {
		if errors.Is(err, proxy.ErrNotRunning) || !isNotFound(err) {
			return fmt.Errorf("kamal-proxy: live %s: %w", svc, err)
		}
		return fmt.Errorf("kamal-proxy does not route %s on this host: deploy first", svc)
	}
	fmt.Fprintf(out, "%s is live\n", svc)
	// Whoever began it, it is over: repair must not end a later one.
	return Record(ctx, h, c, maintenanceRecord, r.Name, "")
}

// isNotFound is kamal-proxy's answer for a service it does not route.
func isNotFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), "service not found")
}

// DataMaintenanceMessage is what clients see while ship works on the data
// with the app stopped: longer than kamal-proxy should hold requests.
const DataMaintenanceMessage = "Down for maintenance while data is restored. Please try again in a few minutes."

// MaintainHost puts every proxied role on the host that kamal-proxy routes
// in maintenance with message, for work that stops the app for longer than
// a pause may hold requests. The returned live ends the maintenance of
// those that were not in maintenance before; the caller runs it once the
// app serves again.
func MaintainHost(ctx context.Context, h *host.Host, c *config.Config, message string, out io.Writer) (live func() error, err error) {
	var began []*config.Role
	live = func() error {
		ctx := context.WithoutCancel(ctx)
		var errs []error
		for _, r := range began {
			errs = append(errs, Live(ctx, h, c, r, out))
		}
		return errors.Join(errs...)
	}
	for _, r := range c.Roles {
		if r.Proxy == nil || !slices.ContainsFunc(r.Hosts, func(x config.Host) bool { return x.Address == h.Name }) {
			continue
		}
		state, err := proxy.ServiceState(ctx, h.Docker, spec.ProxyService(c, r.Name))
		if err != nil {
			return nil, errors.Join(fmt.Errorf("kamal-proxy: %w", err), live())
		}
		switch state {
		case proxy.Absent:
			continue
		case proxy.Stopped:
			fmt.Fprintf(out, "%s is in maintenance already and stays so\n", spec.ProxyService(c, r.Name))
			continue
		}
		// Recorded first: a ship killed from here on leaves the record,
		// and the next command's repair ends this maintenance.
		if err := Record(ctx, h, c, maintenanceRecord, r.Name, "data"); err != nil {
			return nil, errors.Join(err, live())
		}
		began = append(began, r)
		if _, err := Maintenance(ctx, h, c, r, c.DrainTimeout, message, out); err != nil {
			return nil, errors.Join(err, live())
		}
	}
	return live, nil
}
