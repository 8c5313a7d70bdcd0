package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/spec"
)

// AccessoryRequest is ship accessory boot, reboot, start, stop, restart,
// remove and details.
type AccessoryRequest struct {
	Globals
	Name string // an accessory of the config, or "all"
}

// AccessoryLogsRequest is ship accessory logs.
type AccessoryLogsRequest struct {
	Globals
	Name   string // an accessory of the config, or "all"
	Follow bool   // keep printing new lines
	Lines  int    // from the end; 0 is all
	Grep   string // only lines containing this text
}

// AccessoryExecRequest is ship accessory exec.
type AccessoryExecRequest struct {
	Globals
	Name    string   // an accessory of the config, or "all"
	Command []string // run as it is, without a shell
}

// accessoryTarget is one accessory on one of its hosts.
type accessoryTarget struct {
	cfg   *config.Config
	acc   *config.Accessory
	host  *host.Host
	local client.APIClient
	out   io.Writer
}

type accessoryFunc func(ctx context.Context, t accessoryTarget) error

// AccessoryBoot boots the accessory where it is not running, through the
// deploy queue.
func AccessoryBoot(ctx context.Context, r AccessoryRequest) error {
	return accessoryRun(ctx, r.Globals, r.Name, "accessory boot", func(ctx context.Context, t accessoryTarget) error {
		return accessories.Boot(ctx, t.host, t.local, t.cfg, t.acc, false, t.out)
	})
}

// AccessoryReboot replaces the accessory's container, stopping the old
// one before the new one starts, through the deploy queue.
func AccessoryReboot(ctx context.Context, r AccessoryRequest) error {
	return accessoryRun(ctx, r.Globals, r.Name, "accessory reboot", func(ctx context.Context, t accessoryTarget) error {
		return accessories.Boot(ctx, t.host, t.local, t.cfg, t.acc, true, t.out)
	})
}

// AccessoryStart starts the accessory's container, through the deploy
// queue.
func AccessoryStart(ctx context.Context, r AccessoryRequest) error {
	return accessoryRun(ctx, r.Globals, r.Name, "accessory start", func(ctx context.Context, t accessoryTarget) error {
		return accessories.Start(ctx, t.host, t.cfg, t.acc, t.out)
	})
}

// AccessoryStop stops the accessory's container, through the deploy
// queue.
func AccessoryStop(ctx context.Context, r AccessoryRequest) error {
	return accessoryRun(ctx, r.Globals, r.Name, "accessory stop", func(ctx context.Context, t accessoryTarget) error {
		return accessories.Stop(ctx, t.host, t.cfg, t.acc, t.out)
	})
}

// AccessoryRestart stops, then starts the accessory's container, through
// the deploy queue.
func AccessoryRestart(ctx context.Context, r AccessoryRequest) error {
	return accessoryRun(ctx, r.Globals, r.Name, "accessory restart", func(ctx context.Context, t accessoryTarget) error {
		if err := accessories.Stop(ctx, t.host, t.cfg, t.acc, t.out); err != nil {
			return err
		}
		return accessories.Start(ctx, t.host, t.cfg, t.acc, t.out)
	})
}

// AccessoryRemove stops and removes the accessory's container, through the
// deploy queue; its data stays.
func AccessoryRemove(ctx context.Context, r AccessoryRequest) error {
	return accessoryRun(ctx, r.Globals, r.Name, "accessory remove", func(ctx context.Context, t accessoryTarget) error {
		return accessories.Remove(ctx, t.host, t.cfg, t.acc, t.out)
	})
}

// AccessoryDirectories creates the accessory's directories on its hosts,
// with their owner and mode, through the deploy queue; what is in them
// stays.
func AccessoryDirectories(ctx context.Context, r AccessoryRequest) error {
	return accessoryRun(ctx, r.Globals, r.Name, "accessory directories", func(ctx context.Context, t accessoryTarget) error {
		return accessories.Directories(ctx, t.host, t.cfg, t.acc, t.out)
	})
}

// AccessoryUpload uploads the accessory's files to its hosts, through the
// deploy queue. A running accessory sees the new content of a mounted
// file only after a reboot, as with Kamal.
func AccessoryUpload(ctx context.Context, r AccessoryRequest) error {
	return accessoryRun(ctx, r.Globals, r.Name, "accessory upload", func(ctx context.Context, t accessoryTarget) error {
		return accessories.Upload(ctx, t.host, t.cfg, t.acc, t.out)
	})
}

// AccessoryUpgradeRequest is ship accessory upgrade.
type AccessoryUpgradeRequest struct {
	AccessoryRequest
	Rolling bool // one host at a time
	Yes     bool // do not ask
}

// AccessoryUpgrade is Kamal's move of accessories from Kamal 1 to 2:
// each is rebooted, so that its new container joins the kamal network
// (ship's boot always puts it there), a host at a time with Rolling.
// Without Yes, the user must agree first.
func AccessoryUpgrade(ctx context.Context, r AccessoryUpgradeRequest) error {
	if !r.Yes && !r.confirm(fmt.Sprintf("This will restart %s (stop, then start anew in the kamal network). Are you sure? [y/N] ", accessoryWhat(r.Name))) {
		return errors.New("not upgraded: confirm on a terminal, or pass --confirmed")
	}
	limit := 0
	if r.Rolling {
		limit = 1
	}
	return accessoryRunLimit(ctx, r.Globals, r.Name, "accessory upgrade", limit, func(ctx context.Context, t accessoryTarget) error {
		return accessories.Boot(ctx, t.host, t.local, t.cfg, t.acc, true, t.out)
	})
}

// accessoryWhat names NAME|all in a question.
func accessoryWhat(name string) string {
	if name == "all" {
		return "all accessories"
	}
	return "accessory " + name
}

// AccessoryDetails shows the accessory's container on each of its hosts:
// image, state and start time, or that it is not booted.
func AccessoryDetails(ctx context.Context, r AccessoryRequest) error {
	return accessoryRun(ctx, r.Globals, r.Name, "", func(ctx context.Context, t accessoryTarget) error {
		name := spec.AccessoryName(t.cfg, t.acc)
		info, err := t.host.Docker.ContainerInspect(ctx, name)
		tw := tabwriter.NewWriter(t.out, 0, 0, 2, ' ', 0)
		defer tw.Flush()
		if err != nil {
			fmt.Fprintf(tw, "%s\tnot booted\n", name)
			return nil
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, info.Config.Image, info.State.Status, info.State.StartedAt)
		return nil
	})
}

// AccessoryLogs writes the accessory's logs from each of its hosts.
func AccessoryLogs(ctx context.Context, r AccessoryLogsRequest) error {
	opts := host.LogOptions{Follow: r.Follow, Lines: r.Lines, Grep: r.Grep}
	return accessoryRun(ctx, r.Globals, r.Name, "", func(ctx context.Context, t accessoryTarget) error {
		return accessories.Logs(ctx, t.host, t.cfg, t.acc, opts, t.out)
	})
}

// AccessoryExec runs a command in the accessory's running container on
// each of its hosts, and fails if it exits non-zero anywhere. Without a
// command it is refused before anything is loaded or contacted.
func AccessoryExec(ctx context.Context, r AccessoryExecRequest) error {
	if len(r.Command) == 0 {
		return usage(errors.New("accessory exec needs NAME and a COMMAND"))
	}
	return accessoryRun(ctx, r.Globals, r.Name, "", func(ctx context.Context, t accessoryTarget) error {
		status, err := accessories.Exec(ctx, t.host, t.cfg, t.acc, r.Command, t.out, t.out)
		if err == nil && status != 0 {
			err = fmt.Errorf("exit status %d", status)
		}
		return err
	})
}

// pickAccessories resolves NAME|all.
func pickAccessories(cfg *config.Config, name string) ([]*config.Accessory, error) {
	if name == "all" {
		return cfg.Accessories, nil
	}
	var names []string
	for _, a := range cfg.Accessories {
		if a.Name == name {
			return []*config.Accessory{a}, nil
		}
		names = append(names, a.Name)
	}
	return nil, usage(fmt.Errorf("no accessory %q in the config (have: %s, or all)", name, strings.Join(names, ", ")))
}

// accessoryHosts are the hosts the accessories run on, in order without
// repeats. --hosts narrows them (and then --roles and --primary apply
// too); without --hosts, every host of the accessories is in.
func accessoryHosts(g Globals, cfg *config.Config, accs []*config.Accessory) ([]string, error) {
	var selected []string
	if g.Hosts != "" {
		var err error
		if selected, err = selectHosts(g, cfg); err != nil {
			return nil, err
		}
	}
	var hosts []string
	for _, a := range accs {
		for _, h := range accessories.Hosts(cfg, a) {
			if !slices.Contains(hosts, h) && (g.Hosts == "" || slices.Contains(selected, h)) {
				hosts = append(hosts, h)
			}
		}
	}
	return hosts, nil
}

// accessoryRun runs fn for each selected accessory on each of its hosts,
// hosts at once, each accessory's lines under "[HOST NAME] ". A command
// runs it through the deploy queue.
func accessoryRun(ctx context.Context, g Globals, name, command string, fn accessoryFunc) error {
	return accessoryRunLimit(ctx, g, name, command, 0, fn)
}

// accessoryRunLimit is accessoryRun on at most limit hosts at once; 0 is
// all at once.
func accessoryRunLimit(ctx context.Context, g Globals, name, command string, limit int, fn accessoryFunc) error {
	cfg, err := LoadConfig(g)
	if err != nil {
		return err
	}
	accs, err := pickAccessories(cfg, name)
	if err != nil {
		return err
	}
	hosts, err := accessoryHosts(g, cfg, accs)
	if err != nil {
		return err
	}
	s := newSession(g, cfg, hosts)
	defer s.close()
	if err := s.connect(ctx); err != nil {
		return err
	}
	local, err := localEngine()
	if err != nil {
		return err
	}
	defer local.Close()
	run := func(ctx context.Context) error {
		out := s.output()
		results := fleet.Each(ctx, hosts, limit, func(ctx context.Context, h string) (struct{}, error) {
			for _, a := range accs {
				if !slices.Contains(accessories.Hosts(cfg, a), h) {
					continue
				}
				w := out.Prefixed("[" + h + " " + a.Name + "] ")
				err := fn(ctx, accessoryTarget{cfg: cfg, acc: a, host: s.engines[h], local: local, out: w})
				w.Close()
				if err != nil {
					return struct{}{}, fmt.Errorf("%s: %w", a.Name, err)
				}
			}
			return struct{}{}, nil
		})
		return fleet.Failed(results)
	}
	if command == "" {
		return run(ctx)
	}
	return s.mutate(ctx, nil, queue.Ticket{Command: command + " " + name}, run)
}
