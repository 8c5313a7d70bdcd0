package workflow

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/actions"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/ssh"
)

// session is one command's view of the fleet: the config, the selected
// hosts, and their connections, opened lazily.
type session struct {
	Globals
	cfg   *config.Config
	hosts []string
	pool  *ssh.Pool
	// engines holds each selected host's handle, once connect opened it.
	engines map[string]*host.Host
	// timeline records a deploy's phases; nil for other commands.
	timeline *deploy.Timeline
}

// LoadConfig loads and validates the configuration the globals name,
// makes the UI's Redactor hide its secrets from then on, and shows its
// warnings: as annotations on their lines under GitHub Actions. An invalid
// configuration stops the command before any host is contacted.
func LoadConfig(g Globals) (*config.Config, error) {
	cfg, err := config.Load(config.Options{File: g.ConfigFile, Destination: g.Destination})
	if err != nil {
		return nil, err
	}
	g.UI.Redactor.Add(cfg.SecretValues()...)
	env, actionsRun := g.UI.actions()
	for _, w := range cfg.Warnings {
		switch {
		case actionsRun:
			actions.Command(g.UI.Err, env.Warning(ProblemAnnotation(w)))
		case !g.UI.Quiet:
			g.UI.Warnf("%s", w)
		}
	}
	g.UI.Debugf("config: %s", strings.Join(cfg.Files, " + "))
	g.UI.Debugf("secrets: %s", orNone(cfg.SecretsFiles))
	return cfg, nil
}

// ProblemAnnotation puts a configuration problem on its file and line.
func ProblemAnnotation(p config.Problem) actions.Annotation {
	msg := p.Message
	if p.Path != "" {
		msg = p.Path + ": " + msg
	}
	return actions.Annotation{File: p.File, Line: p.Line, Column: p.Column, Title: "ship: configuration", Message: msg}
}

// open loads the config and selects the hosts; nothing is contacted yet.
func open(g Globals) (*session, error) {
	cfg, err := LoadConfig(g)
	if err != nil {
		return nil, err
	}
	return openWith(g, cfg)
}

// openWith is open, with the config already loaded.
func openWith(g Globals, cfg *config.Config) (*session, error) {
	hosts, err := selectHosts(g, cfg)
	if err != nil {
		return nil, err
	}
	g.UI.Debugf("hosts: %s (ssh as %s)", strings.Join(hosts, ", "), cfg.SSH.User)
	return newSession(g, cfg, hosts), nil
}

// newSession is a session on hosts, whose SSH connections open on first
// use.
func newSession(g Globals, cfg *config.Config, hosts []string) *session {
	return &session{Globals: g, cfg: cfg, hosts: hosts, pool: ssh.NewPool(fleet.SSHConfig(cfg))}
}

// close ends every SSH connection the session opened.
func (s *session) close() { s.pool.Close() }

// selectHosts applies --hosts, --roles and --primary.
func selectHosts(g Globals, cfg *config.Config) ([]string, error) {
	hostsFlag := g.Hosts
	if g.Primary {
		primary := cfg.PrimaryHost()
		if primary == "" {
			return nil, usage(fmt.Errorf("--primary: role %s has no hosts", cfg.PrimaryRole))
		}
		hostsFlag = primary
	}
	hosts, err := fleet.Select(cfg, hostsFlag, g.Roles)
	if err != nil {
		return nil, usage(err)
	}
	return hosts, nil
}

// roles applies --roles.
func (s *session) roles() ([]string, error) {
	roles, err := fleet.Roles(s.cfg, s.Roles)
	if err != nil {
		return nil, usage(err)
	}
	return roles, nil
}

// connect opens every selected host's SSH connection and Docker Engine,
// in parallel.
func (s *session) connect(ctx context.Context) error {
	engines, err := openHosts(ctx, s.pool, s.hosts)
	if err != nil {
		return err
	}
	s.engines = engines
	return nil
}

// openHosts connects to every host and its Docker Engine, in parallel.
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

// output is where work on several hosts writes, each host's lines folded
// in a group of their own under GitHub Actions.
func (s *session) output() *fleet.Output {
	return Output(s.UI.Out)
}

// Output is where work on several hosts writes to w, each host's lines
// folded in a group of their own under GitHub Actions.
func Output(w io.Writer) *fleet.Output {
	if _, ok := actions.Detect(); ok {
		return fleet.NewGroupedOutput(w)
	}
	return fleet.NewOutput(w)
}

// localEngine is the Docker Engine on this machine (DOCKER_HOST honoured).
func localEngine() (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("local Docker Engine: %w", err)
	}
	return cli, nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none found"
	}
	return strings.Join(list, ", ")
}
