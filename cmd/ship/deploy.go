package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/audit"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/hooks"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/ssh"
)

func deployCommand() *cli.Command {
	return &cli.Command{
		Name:  "deploy",
		Usage: "deploy a version with a stop-then-start swap on every host",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "version", Usage: "version to deploy (default: the git commit, with a suffix if the tree is dirty)"},
			&cli.BoolFlag{Name: "skip-build", Aliases: []string{"P", "skip-push"}, Usage: "deploy IMAGE:VERSION as it is, locally or in the registry"},
			&cli.BoolFlag{Name: "no-coalesce", Usage: "run even if a newer deploy is waiting in the queue"},
			jsonFlag,
		}, queueFlags()...),
		Action: func(c *cli.Context) error {
			return reported(c, "deploy", func(rep *deploy.Report) error {
				rep.Version = c.String("version") // until versionOf knows the git commit
				cfg, err := loadConfig(c)
				if err != nil {
					return err
				}
				rep.Service, rep.Destination = cfg.Service, cfg.Destination
				version, err := versionOf(c, cfg)
				if err != nil {
					return err
				}
				rep.Version = version
				if err := buildUnlessSkipped(c, cfg, version); err != nil {
					return err
				}
				return swap(c, cfg, version, swapOptions{report: rep})
			})
		},
	}
}

// deployVersion is --version, or the git commit, built unless --skip-build.
func deployVersion(c *cli.Context, cfg *config.Config) (string, error) {
	version, err := versionOf(c, cfg)
	if err != nil {
		return "", err
	}
	return version, buildUnlessSkipped(c, cfg, version)
}

// buildUnlessSkipped builds the image with the local Docker Engine. With
// --skip-build, IMAGE:VERSION must exist locally or in the registry.
func buildUnlessSkipped(c *cli.Context, cfg *config.Config, version string) error {
	if c.Bool("skip-build") {
		return nil
	}
	return buildImage(c, cfg, version)
}

// versionOf is --version, or the git commit.
func versionOf(c *cli.Context, cfg *config.Config) (string, error) {
	version := c.String("version")
	if version == "" {
		var err error
		if version, err = deploy.GitVersion(c.Context, cfg.Root); err != nil {
			return "", usageError{err}
		}
	}
	if err := spec.CheckVersion(version); err != nil {
		return "", usageError{err}
	}
	return version, nil
}

func rollbackCommand() *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "swap back to a retained version",
		ArgsUsage: "VERSION",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "restore-data", Usage: "put the databases back as they were before the deploy that replaced VERSION; later writes are set aside beside them"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask (needed with --restore-data without a terminal)"},
			jsonFlag,
		}, queueFlags()...),
		Action: func(c *cli.Context) error {
			if c.Args().Len() == 0 {
				return usageError{errors.New("rollback needs the VERSION to go back to (ship app containers lists them)")}
			}
			// urfave/cli stops at VERSION; `rollback v1 --restore-data`
			// is how people type it.
			restoreData, yes, asJSON := c.Bool("restore-data"), c.Bool("yes"), c.Bool("json")
			for _, arg := range c.Args().Tail() {
				switch arg {
				case "--restore-data":
					restoreData = true
				case "--yes", "-y":
					yes = true
				case "--json":
					asJSON = true
				default:
					return usageError{fmt.Errorf("rollback takes one VERSION; %q is not a rollback flag", arg)}
				}
			}
			if asJSON {
				c.Set("json", "true")
			}
			return reported(c, "rollback", func(rep *deploy.Report) error {
				rep.Version = c.Args().First()
				cfg, err := loadConfig(c)
				if err != nil {
					return err
				}
				rep.Service, rep.Destination = cfg.Service, cfg.Destination
				if err := spec.CheckVersion(rep.Version); err != nil {
					return usageError{err}
				}
				if restoreData {
					if err := confirmRestoreData(c, cfg, rep.Version, yes); err != nil {
						return err
					}
				}
				return swap(c, cfg, rep.Version, swapOptions{rollback: true, restoreData: restoreData, report: rep})
			})
		},
	}
}

// confirmRestoreData checks that the restore point exists before anything
// stops, and has the user agree to set the later writes aside.
func confirmRestoreData(c *cli.Context, cfg *config.Config, version string, yes bool) error {
	pool, h, err := connectDBHost(c, cfg)
	if err != nil {
		return fmt.Errorf("--restore-data: %w", err)
	}
	defer pool.Close()
	if err := database.HasRestorePoint(c.Context, h, cfg, version); err != nil {
		return err
	}
	fmt.Fprintf(c.App.ErrWriter, "WARNING: --restore-data puts %s on %s back as they were before the deploy that replaced %s.\n"+
		"Every write since then is set aside in a directory beside each database, NOT kept in the database.\n",
		strings.Join(cfg.Litestream.Databases, ", "), h.Name, version)
	if !yes && !confirm(c, "Roll back the code and the data? [y/N] ") {
		return errors.New("not rolled back: confirm on a terminal, or pass --yes")
	}
	return nil
}

// atStep is told of each swap step; only the test build sets it
// (hang_shiptest.go).
var atStep func(deploy.Step)

type swapOptions struct {
	rollback    bool
	restoreData bool // rollback --restore-data
	keepRunning bool // setup: leave a version that already runs alone
	report      *deploy.Report
	// before runs first under the queue, on the connected hosts (setup).
	before func(ctx context.Context, engines map[string]*host.Host) error
}

// swap runs a deploy or rollback through the deploy queue on the selected
// hosts and roles, and reports each one's outcome.
func swap(c *cli.Context, cfg *config.Config, version string, opts swapOptions) error {
	rollback := opts.rollback
	hosts, err := selectHosts(c, cfg)
	if err != nil {
		return err
	}
	roles, err := fleet.Roles(cfg, global(c, "roles").String("roles"))
	if err != nil {
		return usageError{err}
	}
	command := "deploy"
	if rollback {
		command = "rollback"
	}
	hook := hookRunner(c, cfg, command, version, hosts, 0)
	if err := hook(c.Context, hooks.PreConnect); err != nil {
		return err
	}
	pool := ssh.NewPool(fleet.SSHConfig(cfg))
	defer pool.Close()
	engines, err := openHosts(c.Context, pool, hosts)
	if err != nil {
		return err
	}
	req := deploy.Request{
		Config:      cfg,
		Units:       deploy.Plan(cfg, hosts, roles),
		Hosts:       engines,
		Version:     version,
		Rollback:    rollback,
		KeepRunning: opts.keepRunning,
		Out:         output(c.App.Writer),
		Hook:        hook,
		Performer:   audit.Performer(),
		AtStep:      atStep,
	}
	restoreVersion := ""
	if opts.restoreData {
		restoreVersion = version
	}
	req.Data = database.DataStep(cfg, restoreVersion)
	if !rollback {
		local, err := localEngine()
		if err != nil {
			return err
		}
		defer local.Close()
		req.Local = local
		req.Terminal = isTerminal(c)
	}
	ticket := queue.Ticket{Command: command, Version: version, Coalesce: command == "deploy" && !opts.keepRunning && !c.Bool("no-coalesce")}
	return mutate(c, cfg, pool, engines, req.Units, ticket, func(ctx context.Context) error {
		if opts.before != nil {
			if err := opts.before(ctx, engines); err != nil {
				return err
			}
		}
		start := time.Now()
		outcomes := deploy.Run(ctx, req)
		if opts.report != nil {
			opts.report.Add(outcomes)
		}
		if err := report(c, outcomes); err != nil {
			return err
		}
		return hookRunner(c, cfg, command, version, hosts, time.Since(start))(ctx, hooks.PostDeploy)
	})
}

// hookRunner runs local hooks with the deploy's SHIP_* (and KAMAL_*)
// variables; a hook that fails stops the command.
func hookRunner(c *cli.Context, cfg *config.Config, command, version string, hosts []string, runtime time.Duration) func(context.Context, string) error {
	env := hooks.Env{
		Service: cfg.Service, Version: version, Destination: cfg.Destination, Command: command,
		Performer: audit.Performer(), Hosts: hosts, RecordedAt: time.Now(), Runtime: runtime,
	}
	return func(ctx context.Context, name string) error {
		ran, err := hooks.Run(ctx, cfg.Root, cfg.HooksPath, name, env, c.App.Writer, c.App.ErrWriter)
		if ran && err == nil {
			newUI(c).infof("ran hook %s", name)
		}
		return err
	}
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

// report prints one line per host and role, and fails if any failed.
func report(c *cli.Context, outcomes []deploy.Outcome) error {
	tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nHOST\tROLE\tFROM\tTO\tRESULT\tTIME")
	failed := 0
	for _, o := range outcomes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1fs\n", o.Host, o.Role, orDash(o.From), o.To, o.Result, o.Took.Seconds())
		if o.Err != nil {
			failed++
		}
	}
	tw.Flush()
	for _, o := range outcomes {
		if o.Err != nil {
			fmt.Fprintf(c.App.ErrWriter, "%s %s: %v\n", o.Host, o.Role, o.Err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d swaps failed", failed, len(outcomes))
	}
	return nil
}
