// Package drill runs ship's fire drills on the Litestream host without
// ship: restore, check and compare as db verify does, by one script
// (drill.sh) that a scheduled restart-always container and ship db drill
// --now both run, appending to one log on the host.
package drill

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/onhost"
)

// Label marks ship's drill containers (and the restores and boots they
// start) with the service they drill; LabelSchedule holds the schedule.
const (
	Label         = "ship.drill"
	LabelSchedule = "ship.drill.schedule"
)

//go:embed drill.sh
var drillScript string

// Name is the scheduled drill's container: SERVICE[-DESTINATION]-drill.
func Name(c *config.Config) string { return c.ServiceAndDestination() + "-drill" }

// script is drill.sh after the link-safe primitives it reads live
// databases with, and the shell functions it shares.
func script() string { return database.LinkSafe() + "\n" + onhost.Lib() + "\n" + drillScript }

// prepared is a drill ready to run on the host.
type prepared struct {
	chroot string // the host's chroot binary, in the image at the same path
	conf   string // the drill's config file on the host
	log    string // the drill log on the host
}

// prepare puts what a drill needs on the host: the Litestream image, the
// drill image, and the drill's config, Litestream env and ping files
// (0600, in a 0700 directory), conf named confName.
func prepare(ctx context.Context, h *host.Host, local client.APIClient, c *config.Config, sched *Schedule, confName string) (prepared, error) {
	a := database.Accessory(c)
	if a == nil || c.Litestream == nil {
		return prepared{}, errors.New("the config has no litestream section and no Litestream accessory whose litestream.yml ship reads: a fire drill restores their replicas (see README, Backups)")
	}
	dbs, err := database.Locate(ctx, h, c)
	if err != nil {
		return prepared{}, err
	}
	acc, err := accessories.Prepare(ctx, h, local, c, a)
	if err != nil {
		return prepared{}, err
	}
	home, err := h.Home(ctx)
	if err != nil {
		return prepared{}, err
	}
	f := filesFor(home, c)
	p := plan{name: c.ServiceAndDestination(), files: f, dbs: dbs, accEnv: f.env(), accessor: acc}
	text, err := render(c, p, sched)
	if err != nil {
		return prepared{}, err
	}
	env, err := envFile(acc.Config.Env)
	if err != nil {
		return prepared{}, err
	}
	chroot, err := onhost.Build(ctx, h)
	if err != nil {
		return prepared{}, err
	}
	if err := writeFiles(ctx, h, c, f, confName, text, env); err != nil {
		return prepared{}, err
	}
	return prepared{chroot: chroot, conf: f.config(confName), log: f.log}, nil
}

// writeFiles writes the drill's config and its ping files; a URL the
// config no longer has loses its file.
func writeFiles(ctx context.Context, h *host.Host, c *config.Config, f files, confName string, text, env []byte) error {
	if err := host.WriteEnvFile(ctx, h, f.config(confName), text); err != nil {
		return fmt.Errorf("drill config: %w", err)
	}
	if err := host.WriteEnvFile(ctx, h, f.env(), env); err != nil {
		return fmt.Errorf("drill env file: %w", err)
	}
	pings := map[string]string{f.heartbeat(): c.Litestream.HeartbeatURL, f.failure(): c.Litestream.FailureURL}
	var gone []string
	for file, url := range pings {
		if url == "" {
			gone = append(gone, file)
			continue
		}
		if err := h.Shell.Upload(ctx, file, bytes.NewReader(pingFile(url)), 0o600, ""); err != nil {
			return fmt.Errorf("write %s: %w", file, err)
		}
	}
	return host.RemoveEnvFiles(ctx, h, gone)
}

// containerSpec is a drill container running drill.sh with args, on the
// host's network (its restores reach S3 as the accessory does, and curl
// the ping URLs).
func containerSpec(c *config.Config, p prepared, labels map[string]string, args ...string) (*container.Config, *container.HostConfig) {
	labels[Label] = c.ServiceAndDestination()
	cc, hc := onhost.Container(p.chroot, script(), "ship-drill", append([]string{p.conf}, args...), labels)
	hc.NetworkMode = "host"
	return cc, hc
}

// Install schedules the drill on h, replacing any schedule there: the
// restart-always container Name(c) runs drill.sh, which sleeps to each
// minute sched matches and drills then. On failure no schedule is left
// half-installed: the old one stays if the new one could not be prepared,
// else none does.
func Install(ctx context.Context, h *host.Host, local client.APIClient, c *config.Config, sched Schedule, out io.Writer) error {
	p, err := prepare(ctx, h, local, c, &sched, "schedule")
	if err != nil {
		return err
	}
	if _, err := onhost.Remove(ctx, h, Name(c)); err != nil {
		return err
	}
	cc, hc := containerSpec(c, p, map[string]string{LabelSchedule: sched.Spec})
	hc.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyAlways}
	created, err := h.Docker.ContainerCreate(ctx, cc, hc, nil, nil, Name(c))
	if err == nil {
		err = h.Docker.ContainerStart(ctx, created.ID, container.StartOptions{})
	}
	if err != nil {
		_, rerr := Remove(context.WithoutCancel(ctx), h, c)
		return errors.Join(fmt.Errorf("start %s: %w (no drill is scheduled now)", Name(c), err), rerr)
	}
	fmt.Fprintf(out, "%s runs a fire drill on schedule %q (host time); each appends to %s\n", Name(c), sched.Spec, p.log)
	return nil
}

// Remove removes the scheduled drill's container and its config and ping
// files; the drill log stays. It says whether a schedule was there.
func Remove(ctx context.Context, h *host.Host, c *config.Config) (bool, error) {
	found, err := onhost.Remove(ctx, h, Name(c))
	if err != nil {
		return found, err
	}
	home, err := h.Home(ctx)
	if err != nil {
		return found, err
	}
	f := filesFor(home, c)
	return found, host.RemoveEnvFiles(ctx, h, []string{f.config("schedule"), f.env(), f.heartbeat(), f.failure()})
}

// Now runs one drill on h at once, in a one-off container of the same
// image and script as the scheduled one, printing its progress to out,
// and returns the drill's log entry.
func Now(ctx context.Context, h *host.Host, local client.APIClient, c *config.Config, out io.Writer) (*Entry, error) {
	p, err := prepare(ctx, h, local, c, nil, "now")
	if err != nil {
		return nil, err
	}
	cc, hc := containerSpec(c, p, map[string]string{}, "once")
	name := Name(c) + "-now-" + strings.ToLower(rand.Text()[:6])
	created, err := h.Docker.ContainerCreate(ctx, cc, hc, nil, nil, name)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	defer h.Docker.ContainerRemove(context.WithoutCancel(ctx), created.ID, container.RemoveOptions{Force: true})
	waitC, errC := h.Docker.ContainerWait(ctx, created.ID, container.WaitConditionNextExit)
	if err := h.Docker.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if err := host.Logs(ctx, h, created.ID, host.LogOptions{Follow: true}, out); err != nil {
		return nil, err
	}
	select {
	case res := <-waitC:
		s, err := Last(ctx, h, c)
		if err != nil {
			return nil, err
		}
		// The entry must be this drill's, not an older one: it began no
		// earlier than the container, by the host's clock.
		info, err := h.Docker.ContainerInspect(ctx, created.ID)
		if err != nil {
			return nil, fmt.Errorf("inspect %s: %w", name, err)
		}
		started, _ := time.Parse(time.RFC3339Nano, info.State.StartedAt)
		if s.Last == nil || s.Last.Time.Before(started.Truncate(time.Second)) || res.StatusCode > 1 {
			return nil, fmt.Errorf("the drill on %s exited with status %d before it logged a result:\n  %s", h.Name, res.StatusCode, host.LogTail(ctx, h, created.ID, 10))
		}
		return s.Last, nil
	case err := <-errC:
		return nil, fmt.Errorf("wait for %s: %w", name, err)
	}
}
