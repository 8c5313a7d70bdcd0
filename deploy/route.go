package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/spec"
)

// proxyTarget is a proxied role's kamal-proxy service, routed to container.
func proxyTarget(c *config.Config, r *config.Role, container string, deployTimeout time.Duration) proxy.Target {
	return proxy.Target{
		Service: spec.ProxyService(c, r.Name), App: c.ServiceAndDestination(), Role: r.Name, Container: container, Proxy: r.Proxy,
		DeployTimeout: deployTimeout, DrainTimeout: c.DrainTimeout,
	}
}

// ProxyRunOn says how kamal-proxy runs on the host, when ship creates its
// container: deploy.yml's proxy.run, else the host's boot config (ship
// proxy boot_config), as Kamal decides.
func ProxyRunOn(h *host.Host, c *config.Config) proxy.RunSource {
	return func(ctx context.Context) (config.ProxyRun, error) {
		if c.ProxyRun.Configured {
			return c.ProxyRun, nil
		}
		home, err := h.Home(ctx)
		if err != nil {
			return config.ProxyRun{}, err
		}
		return proxy.BootConfigRun(ctx, h.Shell, home)
	}
}

// bootProxy makes sure kamal-proxy runs on the host when one of units is
// proxied, booting it if boot, and installs their custom certificates.
func bootProxy(ctx context.Context, h *host.Host, c *config.Config, units []Unit, local client.APIClient, boot bool, out io.Writer) error {
	booted := false
	for _, u := range units {
		if u.Role.Proxy == nil {
			continue
		}
		if !booted {
			if err := ensureProxy(ctx, h, c, local, boot, out); err != nil {
				return err
			}
			booted = true
		}
		if cert := u.Role.Proxy.Certificate; cert != nil {
			t := proxyTarget(c, u.Role, "", 0)
			if err := proxy.InstallCertificate(ctx, h.Docker, t.App, u.Role.Name, []byte(cert.CertificatePEM.Reveal()), []byte(cert.PrivateKeyPEM.Reveal())); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensureProxy boots kamal-proxy, or without boot (a redeploy) only checks
// that it runs: a redeploy that found no proxy at the route would have
// stopped the old version already.
func ensureProxy(ctx context.Context, h *host.Host, c *config.Config, local client.APIClient, boot bool, out io.Writer) error {
	if boot {
		return proxy.Boot(ctx, h.Docker, local, ProxyRunOn(h, c), out)
	}
	info, err := h.Docker.ContainerInspect(ctx, proxy.ContainerName)
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("inspect %s: %w", proxy.ContainerName, err)
	}
	if err != nil || !info.State.Running {
		return fmt.Errorf("%s is not running on %s, and redeploy does not boot it: run ship deploy, or ship proxy boot first", proxy.ContainerName, h.Name)
	}
	return nil
}

// installErrorPages puts the version's error pages in kamal-proxy's apps
// volume when one of units is proxied, where route finds them.
func installErrorPages(ctx context.Context, h *host.Host, c *config.Config, units []Unit, version string, pages proxy.ErrorPages, out io.Writer) error {
	if len(pages) == 0 || !slices.ContainsFunc(units, func(u Unit) bool { return u.Role.Proxy != nil }) {
		return nil
	}
	if err := proxy.InstallErrorPages(ctx, h.Docker, c.ServiceAndDestination(), version, pages); err != nil {
		return err
	}
	fmt.Fprintf(out, "installed error pages %s for kamal-proxy\n", strings.Join(pages.Names(), ", "))
	return nil
}

// route points a proxied role's service at container, which kamal-proxy
// health-checks first, with the error pages of the container's version
// when error_pages_path is set and they are on the host (a version
// deployed before has none). Roles without the proxy have nothing to
// route.
func route(ctx context.Context, h *host.Host, c *config.Config, r *config.Role, container string, deployTimeout time.Duration, reads []string, out io.Writer) error {
	if r.Proxy == nil {
		return nil
	}
	t := proxyTarget(c, r, container, deployTimeout)
	t.ReadTargets = reads
	if c.ErrorPagesPath != "" {
		dir := proxy.ErrorPagesDir(t.App, spec.VersionOf(c, r.Name, container, nil))
		has, err := proxy.HasPath(ctx, h.Docker, dir)
		if err != nil {
			return fmt.Errorf("kamal-proxy: %w", err)
		}
		if has {
			t.ErrorPages = dir
		}
	}
	if err := proxy.Deploy(ctx, h.Docker, t); err != nil {
		if strings.Contains(err.Error(), "host settings conflict") {
			err = fmt.Errorf("%w (another app on this host's kamal-proxy already serves the same proxy.host, or none: give each app its own proxy.host)", err)
		}
		return fmt.Errorf("kamal-proxy: route %s to %s: %w", spec.ProxyService(c, r.Name), container, err)
	}
	if len(reads) > 0 {
		fmt.Fprintf(out, "kamal-proxy routes %s to %s, reads also to %s\n", spec.ProxyService(c, r.Name), container, strings.Join(reads, ", "))
		return nil
	}
	fmt.Fprintf(out, "kamal-proxy routes %s to %s\n", spec.ProxyService(c, r.Name), container)
	return nil
}

// repairRoute finishes the proxy's part of an interrupted swap: the
// service routes to the running container and is not left paused, which
// would hold every request until kamal-proxy sheds it.
func repairRoute(ctx context.Context, h *host.Host, c *config.Config, r *config.Role, list func() ([]proxy.Service, error), out io.Writer) error {
	if r.Proxy == nil {
		return nil
	}
	services, err := list()
	if errors.Is(err, proxy.ErrNotRunning) {
		return nil // nothing holds requests
	}
	if err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	running, err := host.RunningContainers(ctx, h, c, r.Name)
	if err != nil || len(running) != 1 {
		return err
	}
	name := host.Name(running[0])
	svc := spec.ProxyService(c, r.Name)
	for _, s := range services {
		if s.Name != svc {
			continue
		}
		if s.Writer() != fmt.Sprintf("%s:%d", name, r.Proxy.AppPort) {
			fmt.Fprintf(out, "repair: kamal-proxy routed %s to %s\n", svc, s.Writer())
			if err := route(ctx, h, c, r, name, c.DeployTimeout, s.Readers(), out); err != nil {
				return fmt.Errorf("repair: %w", err)
			}
		}
		if s.State == proxy.Stopped.String() {
			return endDataMaintenance(ctx, h, c, r, out)
		}
		if s.State == "paused" {
			fmt.Fprintf(out, "repair: resuming %s, left paused by an interrupted swap\n", svc)
			if err := proxy.Resume(ctx, h.Docker, h.Shell.DialContext, svc); err != nil {
				return fmt.Errorf("repair: %w", err)
			}
		}
		return nil
	}
	reads, err := writerReads(ctx, h, nil, c, r, out)
	if err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	return route(ctx, h, c, r, name, c.DeployTimeout, reads, out)
}

// endDataMaintenance ends a maintenance that a ship killed during its data
// work began: the app serves again, and nothing else will end it.
func endDataMaintenance(ctx context.Context, h *host.Host, c *config.Config, r *config.Role, out io.Writer) error {
	if why, err := ReadRecord(ctx, h, c, maintenanceRecord, r.Name); err != nil || why != "data" {
		return err
	}
	svc := spec.ProxyService(c, r.Name)
	fmt.Fprintf(out, "repair: ending the maintenance of %s that an interrupted data operation began\n", svc)
	if err := proxy.Resume(ctx, h.Docker, h.Shell.DialContext, svc); err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	return Record(ctx, h, c, maintenanceRecord, r.Name, "")
}
