package main

// The helpers of the commands not yet moved into package workflow. This
// file goes when the last of them has moved.

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/client"
	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/ssh"
	"github.com/shipdeploy/ship/workflow"
)

type ui struct{ u *workflow.UI }

func legacyUI(c *cli.Context) *ui { return &ui{newUI(c)} }

func (u *ui) infof(format string, args ...any)  { u.u.Infof(format, args...) }
func (u *ui) debugf(format string, args ...any) { u.u.Debugf(format, args...) }
func (u *ui) warnf(format string, args ...any)  { u.u.Warnf(format, args...) }

func loadConfig(c *cli.Context) (*config.Config, error) {
	return workflow.LoadConfig(globals(c))
}

func connect(c *cli.Context) (*config.Config, *ssh.Pool, []string, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return nil, nil, nil, err
	}
	hosts, err := selectHosts(c, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	legacyUI(c).debugf("hosts: %s (ssh as %s)", strings.Join(hosts, ", "), cfg.SSH.User)
	return cfg, ssh.NewPool(fleet.SSHConfig(cfg)), hosts, nil
}

func connectEngines(c *cli.Context) (*config.Config, *ssh.Pool, []string, map[string]*host.Host, error) {
	cfg, pool, hosts, err := connect(c)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	engines, err := openHosts(c.Context, pool, hosts)
	if err != nil {
		pool.Close()
		return nil, nil, nil, nil, err
	}
	return cfg, pool, hosts, engines, nil
}

func selectHosts(c *cli.Context, cfg *config.Config) ([]string, error) {
	hostsFlag := global(c, "hosts").String("hosts")
	if global(c, "primary").Bool("primary") {
		primary := cfg.PrimaryHost()
		if primary == "" {
			return nil, usageError{fmt.Errorf("--primary: role %s has no hosts", cfg.PrimaryRole)}
		}
		hostsFlag = primary
	}
	hosts, err := fleet.Select(cfg, hostsFlag, global(c, "roles").String("roles"))
	if err != nil {
		return nil, usageError{err}
	}
	return hosts, nil
}

func openHosts(ctx context.Context, pool *ssh.Pool, hosts []string) (map[string]*host.Host, error) {
	results := fleet.Each(ctx, hosts, 0, func(ctx context.Context, h string) (*host.Host, error) {
		cli, err := fleet.Engine(ctx, pool.Conn(h))
		if err != nil {
			return nil, err
		}
		return &host.Host{Name: h, Shell: pool.Conn(h), Docker: cli}, nil
	})
	if err := fleet.Failed(results); err != nil {
		return nil, err
	}
	out := map[string]*host.Host{}
	for _, r := range results {
		out[r.Host] = r.Value
	}
	return out, nil
}

func output(w io.Writer) *fleet.Output { return workflow.Output(w) }

func mutate(c *cli.Context, cfg *config.Config, pool *ssh.Pool, engines map[string]*host.Host, units []deploy.Unit,
	ticket queue.Ticket, fn func(ctx context.Context) error) error {
	return workflow.LegacyMutate(c.Context, globals(c), cfg, pool, engines, units, ticket, fn)
}

func localEngine() (*client.Client, error) { return workflow.LocalEngine() }
