package workflow

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/queue"
)

// ProxyLogsRequest is ship proxy logs.
type ProxyLogsRequest struct {
	Globals
	Follow bool   // keep printing new lines
	Lines  int    // from the end; 0 is all
	Grep   string // only lines containing this text
}

// proxyTarget is kamal-proxy on one host.
type proxyTarget struct {
	cfg   *config.Config
	host  *host.Host
	local client.APIClient // only for the commands run through the queue
	out   io.Writer
}

type proxyFunc func(ctx context.Context, t proxyTarget) error

// ProxyBoot boots kamal-proxy where it is not running, through the deploy
// queue; an existing one, Kamal's too, is used as it is.
func ProxyBoot(ctx context.Context, g Globals) error {
	return proxyRun(ctx, g, "proxy boot", func(ctx context.Context, t proxyTarget) error {
		return proxy.Boot(ctx, t.host.Docker, t.local, deploy.ProxyRunOn(t.host, t.cfg), t.out)
	})
}

// ProxyReboot replaces the kamal-proxy container with one made from
// proxy.run, through the deploy queue; requests fail while it restarts.
func ProxyReboot(ctx context.Context, g Globals) error {
	return proxyRun(ctx, g, "proxy reboot", func(ctx context.Context, t proxyTarget) error {
		return proxy.Reboot(ctx, t.host.Docker, t.local, deploy.ProxyRunOn(t.host, t.cfg), t.out)
	})
}

// ProxyStart starts the kamal-proxy container, through the deploy queue.
func ProxyStart(ctx context.Context, g Globals) error {
	return proxyRun(ctx, g, "proxy start", func(ctx context.Context, t proxyTarget) error {
		return proxy.Start(ctx, t.host.Docker, t.out)
	})
}

// ProxyStop stops the kamal-proxy container, through the deploy queue:
// proxied apps stop answering.
func ProxyStop(ctx context.Context, g Globals) error {
	return proxyRun(ctx, g, "proxy stop", func(ctx context.Context, t proxyTarget) error {
		return proxy.Stop(ctx, t.host.Docker, t.out)
	})
}

// ProxyRestart stops, then starts the kamal-proxy container, through the
// deploy queue.
func ProxyRestart(ctx context.Context, g Globals) error {
	return proxyRun(ctx, g, "proxy restart", func(ctx context.Context, t proxyTarget) error {
		if err := proxy.Stop(ctx, t.host.Docker, t.out); err != nil {
			return err
		}
		return proxy.Start(ctx, t.host.Docker, t.out)
	})
}

// ProxyRemove stops and removes the kamal-proxy container, through the
// deploy queue; its volumes stay.
func ProxyRemove(ctx context.Context, g Globals) error {
	return proxyRun(ctx, g, "proxy remove", func(ctx context.Context, t proxyTarget) error {
		return proxy.Remove(ctx, t.host.Docker, t.out)
	})
}

// ProxyDetails shows the kamal-proxy container and its routes on each
// selected host with a proxied role.
func ProxyDetails(ctx context.Context, g Globals) error {
	return proxyRun(ctx, g, "", func(ctx context.Context, t proxyTarget) error {
		return proxy.Details(ctx, t.host.Docker, t.out)
	})
}

// ProxyLogs writes kamal-proxy's logs from each selected host with a
// proxied role.
func ProxyLogs(ctx context.Context, r ProxyLogsRequest) error {
	opts := host.LogOptions{Follow: r.Follow, Lines: r.Lines, Grep: r.Grep}
	return proxyRun(ctx, r.Globals, "", func(ctx context.Context, t proxyTarget) error {
		return host.Logs(ctx, t.host, proxy.ContainerName, opts, t.out)
	})
}

// proxyHosts are the selected hosts that run a proxied role, in config
// order without repeats.
func proxyHosts(cfg *config.Config, selected []string) []string {
	var hosts []string
	for _, r := range cfg.Roles {
		if r.Proxy == nil {
			continue
		}
		for _, h := range r.Hosts {
			if slices.Contains(selected, h.Address) && !slices.Contains(hosts, h.Address) {
				hosts = append(hosts, h.Address)
			}
		}
	}
	return hosts
}

// proxyRun runs fn on every selected host with a proxied role, each
// host's lines under "[HOST] ". A command runs it through the deploy
// queue, with the local Docker Engine at hand.
func proxyRun(ctx context.Context, g Globals, command string, fn proxyFunc) error {
	s, err := open(g)
	if err != nil {
		return err
	}
	defer s.close()
	hosts := proxyHosts(s.cfg, s.hosts)
	if len(hosts) == 0 {
		return usage(fmt.Errorf("no selected host runs a role behind kamal-proxy: add a proxy section to %s", s.cfg.Files[0]))
	}
	s.hosts = hosts
	if err := s.connect(ctx); err != nil {
		return err
	}
	var local client.APIClient
	if command != "" {
		l, err := localEngine()
		if err != nil {
			return err
		}
		defer l.Close()
		local = l
	}
	run := func(ctx context.Context) error {
		return fleet.EachPrefixed(ctx, s.output(), hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
			return fn(ctx, proxyTarget{cfg: s.cfg, host: s.engines[h], local: local, out: w})
		})
	}
	if command == "" {
		return run(ctx)
	}
	return s.mutate(ctx, nil, queue.Ticket{Command: command}, run)
}

// bootConfigDeprecated is Kamal's warning for every boot_config command.
const bootConfigDeprecated = "The proxy boot_config command is deprecated - set the config in the deploy YAML at proxy/run instead"

// ProxyBootConfigSetRequest is ship proxy boot_config set.
type ProxyBootConfigSetRequest struct {
	Globals
	Flags proxy.BootConfigFlags
}

// ProxyBootConfigSet writes the kamal-proxy boot config on each selected
// host with a proxied role, where Kamal keeps it (~/.kamal/proxy), through
// the deploy queue. ship proxy boot and reboot use it where deploy.yml
// has no proxy.run; the running proxy is not touched.
func ProxyBootConfigSet(ctx context.Context, r ProxyBootConfigSetRequest) error {
	r.UI.Warnf("%s", bootConfigDeprecated)
	b, err := proxy.NewBootConfig(r.Flags)
	if err != nil {
		return usage(err)
	}
	return proxyRun(ctx, r.Globals, "proxy boot_config set", func(ctx context.Context, t proxyTarget) error {
		if t.cfg.ProxyRun.Configured {
			fmt.Fprintf(t.out, "WARNING: %s has proxy.run, which ship and Kamal boot kamal-proxy with instead of this boot config\n", t.cfg.Files[0])
		}
		home, err := t.host.Home(ctx)
		if err != nil {
			return err
		}
		if err := proxy.WriteBootConfig(ctx, t.host.Shell, home, b); err != nil {
			return err
		}
		fmt.Fprintf(t.out, "kamal-proxy boot config: %s\n", b)
		return nil
	})
}

// ProxyBootConfigReset removes the kamal-proxy boot config of each
// selected host with a proxied role, through the deploy queue: Kamal's
// defaults apply again.
func ProxyBootConfigReset(ctx context.Context, g Globals) error {
	g.UI.Warnf("%s", bootConfigDeprecated)
	return proxyRun(ctx, g, "proxy boot_config reset", func(ctx context.Context, t proxyTarget) error {
		home, err := t.host.Home(ctx)
		if err != nil {
			return err
		}
		if err := proxy.WriteBootConfig(ctx, t.host.Shell, home, proxy.BootConfig{}); err != nil {
			return err
		}
		fmt.Fprintf(t.out, "kamal-proxy boot config reset: %s\n", proxy.BootConfig{})
		return nil
	})
}

// BootConfigRow is one host's kamal-proxy boot config.
type BootConfigRow struct {
	Host   string
	Config proxy.BootConfig
}

// ProxyBootConfigGet reads the kamal-proxy boot config of each selected
// host with a proxied role, in host order.
func ProxyBootConfigGet(ctx context.Context, g Globals) ([]BootConfigRow, error) {
	g.UI.Warnf("%s", bootConfigDeprecated)
	var mu sync.Mutex
	got := map[string]proxy.BootConfig{}
	var hosts []string
	err := proxyRun(ctx, g, "", func(ctx context.Context, t proxyTarget) error {
		home, err := t.host.Home(ctx)
		if err != nil {
			return err
		}
		b, err := proxy.ReadBootConfig(ctx, t.host.Shell, home)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		got[t.host.Name] = b
		hosts = proxyHosts(t.cfg, append(hosts, t.host.Name))
		return nil
	})
	var rows []BootConfigRow
	for _, h := range hosts {
		rows = append(rows, BootConfigRow{Host: h, Config: got[h]})
	}
	return rows, err
}
