package workflow

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/delivery"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
)

// RegistryRequest is ship registry login and logout.
type RegistryRequest struct {
	Globals
	SkipLocal  bool // not on this machine (-L)
	SkipRemote bool // not on the hosts (-R)
}

// RegistryLogin logs the Docker CLI on this machine and on every selected
// host (the app's and the accessories') in to the config's registry, as
// docker login does: the credentials are checked with the registry, then
// kept in the user's Docker config or its credential helper. The password
// never reaches a command line. ship's own pulls and pushes do not need
// it: they pass the credentials with each request.
func RegistryLogin(ctx context.Context, r RegistryRequest) error {
	return registryRun(ctx, r, "registry login",
		func(ctx context.Context, cfg *config.Config, out io.Writer) error {
			local, err := localEngine()
			if err != nil {
				return err
			}
			defer local.Close()
			store, err := delivery.NewLocalCredentials()
			if err != nil {
				return err
			}
			where, err := delivery.Login(ctx, local, store, registryCredentials(cfg))
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "logged in to %s locally (%s)\n", registryName(cfg), where)
			return nil
		},
		func(ctx context.Context, cfg *config.Config, h *host.Host, out io.Writer) error {
			where, err := delivery.Login(ctx, h.Docker, host.DockerCredentials{H: h}, registryCredentials(cfg))
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "logged in to %s (%s)\n", registryName(cfg), where)
			return nil
		})
}

// RegistryLogout removes the login to the config's registry from this
// machine and every selected host, as docker logout does.
func RegistryLogout(ctx context.Context, r RegistryRequest) error {
	logout := func(ctx context.Context, store delivery.CredentialStore, cfg *config.Config, where string, out io.Writer) error {
		had, err := delivery.Logout(ctx, store, cfg.Registry.Server)
		if err != nil {
			return err
		}
		if had {
			fmt.Fprintf(out, "logged out of %s%s\n", registryName(cfg), where)
		} else {
			fmt.Fprintf(out, "not logged in to %s%s\n", registryName(cfg), where)
		}
		return nil
	}
	return registryRun(ctx, r, "registry logout",
		func(ctx context.Context, cfg *config.Config, out io.Writer) error {
			store, err := delivery.NewLocalCredentials()
			if err != nil {
				return err
			}
			return logout(ctx, store, cfg, " locally", out)
		},
		func(ctx context.Context, cfg *config.Config, h *host.Host, out io.Writer) error {
			return logout(ctx, host.DockerCredentials{H: h}, cfg, "", out)
		})
}

// registryRun runs local here unless SkipLocal, then remote on every
// selected host unless SkipRemote, through the deploy queue.
func registryRun(ctx context.Context, r RegistryRequest, command string,
	local func(ctx context.Context, cfg *config.Config, out io.Writer) error,
	remote func(ctx context.Context, cfg *config.Config, h *host.Host, out io.Writer) error) error {
	cfg, err := LoadConfig(r.Globals)
	if err != nil {
		return err
	}
	if cfg.Registry.Server == "" && cfg.Registry.Username == "" {
		return usage(fmt.Errorf("%s has no registry: ship sends images to the hosts over SSH, so there is nothing to log in to", cfg.Files[0]))
	}
	if !r.SkipLocal {
		if err := local(ctx, cfg, r.UI.Out); err != nil {
			return err
		}
	}
	if r.SkipRemote {
		return nil
	}
	hosts, err := everyHost(r.Globals, cfg)
	if err != nil {
		return err
	}
	s := newSession(r.Globals, cfg, hosts)
	defer s.close()
	if err := s.connect(ctx); err != nil {
		return err
	}
	return s.mutate(ctx, nil, queue.Ticket{Command: command}, func(ctx context.Context) error {
		return fleet.EachPrefixed(ctx, s.output(), hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
			return remote(ctx, cfg, s.engines[h], w)
		})
	})
}

// everyHost is every selected host of the app and of its accessories, in
// config order without repeats (Kamal's KAMAL.hosts).
func everyHost(g Globals, cfg *config.Config) ([]string, error) {
	hosts, err := selectHosts(g, cfg)
	if err != nil {
		return nil, err
	}
	more, err := accessoryHosts(g, cfg, cfg.Accessories)
	if err != nil {
		return nil, err
	}
	for _, h := range more {
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts, nil
}

func registryCredentials(cfg *config.Config) delivery.Credentials {
	return delivery.Credentials{Server: cfg.Registry.Server, Username: cfg.Registry.Username, Password: cfg.Registry.Password.Reveal()}
}

// registryName names the config's registry in output.
func registryName(cfg *config.Config) string {
	if cfg.Registry.Server == "" {
		return "Docker Hub"
	}
	return cfg.Registry.Server
}
