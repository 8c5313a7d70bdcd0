package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/actions"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/ssh"
)

// ui prints progress and results, honouring -q and -v.
type ui struct {
	out, err       io.Writer
	quiet, verbose bool
}

func newUI(c *cli.Context) *ui {
	return &ui{out: c.App.Writer, err: c.App.ErrWriter, quiet: global(c, "quiet").Bool("quiet"), verbose: global(c, "verbose").Bool("verbose")}
}

// infof is progress: hidden by -q.
func (u *ui) infof(format string, args ...any) {
	if !u.quiet {
		fmt.Fprintf(u.out, format+"\n", args...)
	}
}

// debugf is detail: shown only with -v.
func (u *ui) debugf(format string, args ...any) {
	if u.verbose {
		fmt.Fprintf(u.err, format+"\n", args...)
	}
}

// warnf always shows, on stderr.
func (u *ui) warnf(format string, args ...any) {
	fmt.Fprintf(u.err, "warning: "+format+"\n", args...)
}

// loadConfig loads and validates the configuration named by the global
// flags. An invalid configuration stops the command before any host is
// contacted.
func loadConfig(c *cli.Context) (*config.Config, error) {
	cfg, err := config.Load(config.Options{
		File:        global(c, "config-file").String("config-file"),
		Destination: global(c, "destination").String("destination"),
	})
	if err != nil {
		return nil, err
	}
	u := newUI(c)
	env, actionsRun := actions.Detect()
	for _, w := range cfg.Warnings {
		switch {
		case actionsRun:
			// Shown on the file's line in the run and the pull request.
			fmt.Fprintln(u.err, env.Warning(problemAnnotation(w)))
		case !u.quiet:
			u.warnf("%s", w)
		}
	}
	u.debugf("config: %s", strings.Join(cfg.Files, " + "))
	u.debugf("secrets: %s", orNone(cfg.SecretsFiles))
	return cfg, nil
}

// connect loads the config and opens (lazily) one SSH connection per
// selected host.
func connect(c *cli.Context) (*config.Config, *ssh.Pool, []string, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return nil, nil, nil, err
	}
	hosts, err := selectHosts(c, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	newUI(c).debugf("hosts: %s (ssh as %s)", strings.Join(hosts, ", "), cfg.SSH.User)
	return cfg, ssh.NewPool(fleet.SSHConfig(cfg)), hosts, nil
}

// connectEngines is connect, with every selected host's Docker Engine open.
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

// selectHosts applies --hosts, --roles and --primary.
func selectHosts(c *cli.Context, cfg *config.Config) ([]string, error) {
	hostsFlag := global(c, "hosts").String("hosts")
	if global(c, "primary").Bool("primary") {
		primary := cfg.Role(cfg.PrimaryRole)
		if primary == nil || len(primary.Hosts) == 0 {
			return nil, usageError{fmt.Errorf("--primary: role %s has no hosts", cfg.PrimaryRole)}
		}
		hostsFlag = primary.Hosts[0].Address
	}
	hosts, err := fleet.Select(cfg, hostsFlag, global(c, "roles").String("roles"))
	if err != nil {
		return nil, usageError{err}
	}
	return hosts, nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none found"
	}
	return strings.Join(list, ", ")
}
