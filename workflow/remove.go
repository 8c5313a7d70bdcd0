package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/app"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/delivery"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/drill"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/follower"
	"github.com/shipdeploy/ship/gate"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/spec"
)

// RemoveRequest is ship remove.
type RemoveRequest struct {
	Globals
	Yes bool // do not ask (Kamal's --confirmed)
}

// Remove is Kamal's remove, on the selected hosts, through the deploy
// queue: the app's containers, images and kamal-proxy routes; kamal-proxy
// where it routes no other app; the accessories' containers; the hosts'
// login to the registry. It never deletes data: the app's volumes, the
// accessories' directories and volumes, and the Litestream replicas stay,
// and the question says so. Without Yes, the user must agree first.
func Remove(ctx context.Context, r RemoveRequest) error {
	cfg, err := LoadConfig(r.Globals)
	if err != nil {
		return err
	}
	appHosts, err := selectHosts(r.Globals, cfg)
	if err != nil {
		return err
	}
	hosts, err := everyHost(r.Globals, cfg)
	if err != nil {
		return err
	}
	if !r.Yes && !r.confirm(removeQuestion(cfg, hosts)) {
		return errors.New("not removed: confirm on a terminal, or pass --confirmed")
	}
	s := newSession(r.Globals, cfg, hosts)
	defer s.close()
	if err := s.connect(ctx); err != nil {
		return err
	}
	// No repair first: everything is removed anyway.
	return s.mutate(ctx, nil, queue.Ticket{Command: "remove"}, func(ctx context.Context) error {
		out := s.output()
		err := fleet.EachPrefixed(ctx, out, appHosts, 0, func(ctx context.Context, h string, w io.Writer) error {
			return app.Remove(ctx, s.engines[h], cfg, w)
		})
		if err != nil {
			return err
		}
		if all, _ := fleet.Select(cfg, "", ""); len(appHosts) == len(all) {
			primary := cfg.PrimaryHost()
			if err := deploy.ForgetLatest(ctx, &host.Host{Name: primary, Shell: s.pool.Conn(primary)}, cfg); err != nil {
				return err
			}
		}
		err = fleet.EachPrefixed(ctx, out, proxyHosts(cfg, appHosts), 0, func(ctx context.Context, h string, w io.Writer) error {
			return removeProxy(ctx, s.engines[h], w)
		})
		if err != nil {
			return err
		}
		err = fleet.EachPrefixed(ctx, out, hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
			// The scheduled fire drill first: it restores through Litestream.
			if lh, err := database.Host(cfg); err == nil && lh == h {
				removed, err := drill.Remove(ctx, s.engines[h], cfg)
				if err != nil {
					return fmt.Errorf("fire drill: %w", err)
				}
				if removed {
					fmt.Fprintf(w, "removed %s\n", drill.Name(cfg))
				}
			}
			// The replica gate before the replicas it would start again.
			if s.isReplicaHost(h) {
				removed, err := gate.Remove(ctx, s.engines[h], cfg)
				if err != nil {
					return fmt.Errorf("replica gate: %w", err)
				}
				if removed {
					fmt.Fprintf(w, "removed %s\n", gate.Name(cfg))
				}
				// The followers go; their copies stay, as all data does.
				if err := follower.Remove(ctx, s.engines[h], cfg); err != nil {
					return fmt.Errorf("followers: %w", err)
				}
			}
			for _, a := range accessories.On(cfg, h) {
				if err := accessories.Remove(ctx, s.engines[h], cfg, a, w); err != nil {
					return fmt.Errorf("accessory %s: %w", a.Name, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Last, the app's images an accessory still used, and the env
		// files with the secrets.
		err = fleet.EachPrefixed(ctx, out, hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
			if err := app.RemoveImages(ctx, s.engines[h], cfg, w); err != nil {
				return err
			}
			return removeEnvFiles(ctx, s.engines[h], cfg, slices.Contains(appHosts, h), w)
		})
		if err != nil || cfg.Registry.Server == "" && cfg.Registry.Username == "" {
			return err
		}
		return fleet.EachPrefixed(ctx, out, hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
			had, err := delivery.Logout(ctx, host.DockerCredentials{H: s.engines[h]}, cfg.Registry.Server)
			if err == nil && had {
				fmt.Fprintf(w, "logged out of %s\n", registryName(cfg))
			}
			return err
		})
	})
}

// removeEnvFiles deletes the env files of the app's roles (on an app
// host) and of the accessories on h, as Kamal's remove deletes the app's
// directory; the accessories' files and directories stay.
func removeEnvFiles(ctx context.Context, h *host.Host, cfg *config.Config, appHost bool, out io.Writer) error {
	home, err := h.Home(ctx)
	if err != nil {
		return err
	}
	var files []string
	if appHost {
		for _, r := range cfg.Roles {
			files = append(files, spec.EnvFile(home, cfg, r.Name))
		}
	}
	for _, a := range accessories.On(cfg, h.Name) {
		files = append(files, spec.AccessoryEnvFile(home, cfg, a))
	}
	if err := host.RemoveEnvFiles(ctx, h, files); err != nil {
		return err
	}
	fmt.Fprintln(out, "removed the env files")
	return nil
}

// removeProxy removes kamal-proxy unless it still routes another app, as
// Kamal's remove leaves it where other apps are installed.
func removeProxy(ctx context.Context, h *host.Host, out io.Writer) error {
	services, err := proxy.Services(ctx, h.Docker)
	if errors.Is(err, proxy.ErrNotRunning) {
		fmt.Fprintf(out, "%s is not running: left as it is\n", proxy.ContainerName)
		return nil
	}
	if err != nil {
		return err
	}
	if len(services) > 0 {
		var names []string
		for _, svc := range services {
			names = append(names, svc.Name)
		}
		fmt.Fprintf(out, "%s stays: it routes other apps (%s)\n", proxy.ContainerName, strings.Join(names, ", "))
		return nil
	}
	return proxy.Remove(ctx, h.Docker, out)
}

// removeQuestion is what ship remove asks: what goes, and what stays.
func removeQuestion(cfg *config.Config, hosts []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "This will remove from %s:\n", strings.Join(hosts, ", "))
	fmt.Fprintf(&b, "  - every container of %s, every image of %s, its kamal-proxy routes and its env files;\n", cfg.Service, app.Repository(cfg))
	for _, r := range cfg.Roles {
		if _, ok := spec.AssetsOf(cfg, r); ok {
			b.WriteString("  - the volumes asset_path carries assets between versions in (copies of the images' files);\n")
			break
		}
	}
	b.WriteString("  - kamal-proxy, where it routes no other app;\n")
	if len(cfg.Accessories) > 0 {
		var names []string
		for _, a := range cfg.Accessories {
			names = append(names, spec.AccessoryName(cfg, a))
		}
		fmt.Fprintf(&b, "  - the accessories' containers (%s);\n", strings.Join(names, ", "))
	}
	if cfg.Registry.Server != "" || cfg.Registry.Username != "" {
		fmt.Fprintf(&b, "  - the hosts' login to %s.\n", registryName(cfg))
	}
	b.WriteString("Nothing that holds data is deleted: ")
	if vols := appVolumes(cfg); len(vols) > 0 {
		fmt.Fprintf(&b, "the app's volumes (%s) keep the databases, ", strings.Join(vols, ", "))
	}
	b.WriteString("the accessories' directories and volumes stay")
	if cfg.Litestream != nil || len(cfg.Accessories) > 0 {
		b.WriteString(", and no Litestream replica is touched")
	}
	b.WriteString(" (unlike Kamal, which deletes the accessories' directories). Delete them by hand if you mean to.\nAre you sure? [y/N] ")
	return b.String()
}

// appVolumes names the app's volumes and host directories, once each.
func appVolumes(cfg *config.Config) []string {
	var out []string
	for _, v := range cfg.Volumes {
		if !slices.Contains(out, v.Source) {
			out = append(out, v.Source)
		}
	}
	return out
}
