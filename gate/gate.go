// Package gate takes a replica host's app containers out of the read
// targets while a Litestream follower there is not running, and puts them
// back when every follower runs again; likewise while a follower runs
// but its copy stays behind the replica (benbjohnson/litestream#1515),
// until it advances: kamal-proxy drops a read target at
// its first failed health check, but nothing else tells it a replica
// serves an ever older copy. One container per host, SERVICE-replica-gate,
// runs gate.sh with the host's own bash and docker CLI, as the fire drill
// does (package onhost): no ship on the host.
package gate

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/onhost"
)

// Label marks the gate's container with SERVICE[-DESTINATION].
const Label = "ship.gate"

//go:embed gate.sh
var gateScript string

// Name is the gate's container: SERVICE[-DESTINATION]-replica-gate.
func Name(c *config.Config) string { return c.ServiceAndDestination() + "-replica-gate" }

// script is gate.sh after the shell functions it shares: json, and
// safe.sh's link-safe primitives, with which it reads each copy's DB-txid
// in a volume.
func script() string { return onhost.Lib() + "\n" + database.LinkSafe() + "\n" + gateScript }

// containerSpec is the gate's container: no network (it speaks only to
// the Docker socket, through the host's root), restarted unless ship
// stopped it, so that an engine restart during ship's work on the
// replicas does not start it behind ship's back.
func containerSpec(c *config.Config, chroot, data string) (*container.Config, *container.HostConfig) {
	cc, hc := onhost.Container(chroot, script(), "ship-gate", []string{data}, map[string]string{Label: c.ServiceAndDestination()})
	hc.NetworkMode = "none"
	hc.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyUnlessStopped}
	// Stopping the gate waits for a change it is making to finish.
	stop := 20
	cc.StopTimeout = &stop
	return cc, hc
}

// Install puts the gate on h, a host of the config's replica roles, or
// replaces it: its data file, its image if missing, its container,
// started, and watching: a host where the gate's docker CLI reaches
// another engine than ship's is refused. Containers it stopped stay
// recorded across a reinstall. On failure no gate is left half-made: none
// runs.
func Install(ctx context.Context, h *host.Host, c *config.Config, out io.Writer) error {
	roles := Roles(c, h.Name)
	if len(roles) == 0 {
		return fmt.Errorf("no replica role has the host %s: the gate runs only where replicas do", h.Name)
	}
	if len(Followers(c)) == 0 {
		return errors.New("the config has no litestream section with databases: a replica role reads the copies its followers keep (see docs/replicas.md)")
	}
	home, err := h.Home(ctx)
	if err != nil {
		return err
	}
	info, err := h.Docker.Info(ctx)
	if err != nil {
		return fmt.Errorf("docker info on %s: %w", h.Name, err)
	}
	text, err := render(c, home, info.ID, roles)
	if err != nil {
		return err
	}
	chroot, err := onhost.Build(ctx, h)
	if err != nil {
		return err
	}
	f := filesFor(home, c)
	if err := host.WriteEnvFile(ctx, h, f.data(), text); err != nil {
		return fmt.Errorf("the gate's data file: %w", err)
	}
	if _, err := onhost.Remove(ctx, h, Name(c)); err != nil {
		return err
	}
	cc, hc := containerSpec(c, chroot, f.data())
	created, err := h.Docker.ContainerCreate(ctx, cc, hc, nil, nil, Name(c))
	if err == nil {
		err = h.Docker.ContainerStart(ctx, created.ID, container.StartOptions{})
	}
	if err == nil {
		err = watching(ctx, h, created.ID)
	}
	if err != nil {
		_, rerr := onhost.Remove(context.WithoutCancel(ctx), h, Name(c))
		return errors.Join(fmt.Errorf("start %s: %w (no gate runs on %s now)", Name(c), err, h.Name), rerr)
	}
	fmt.Fprintf(out, "%s takes %s out of the read targets while %s is not running or does not advance; changes go to %s\n",
		Name(c), roleNames(roles), strings.Join(Followers(c), " or "), f.log)
	return nil
}

// watching waits until the gate says it watches, after its checks, or
// fails with what it said instead.
func watching(ctx context.Context, h *host.Host, id string) error {
	deadline := time.Now().Add(startWait)
	for {
		info, err := h.Docker.ContainerInspect(ctx, id)
		if err != nil {
			return err
		}
		text := host.LogTail(ctx, h, id, 20)
		switch {
		case info.State.Running && !info.State.Restarting && strings.Contains(text, " is watching the followers "):
			return nil
		case !info.State.Running || info.State.Restarting || time.Now().After(deadline):
			return fmt.Errorf("it did not start watching:\n  %s", strings.ReplaceAll(strings.TrimSpace(text), "\n", "\n  "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// startWait bounds how long Install waits for the gate to watch.
const startWait = 30 * time.Second

func roleNames(roles []*config.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

// Stop stops the gate on h, if there is one, and returns once it has
// exited: ship stops it while it works on the replicas or followers there,
// so that the two never race. A gate that is out stays out: the
// containers it stopped stay stopped, and recorded.
func Stop(ctx context.Context, h *host.Host, c *config.Config) error {
	err := h.Docker.ContainerStop(ctx, Name(c), container.StopOptions{})
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("stop %s: %w", Name(c), err)
	}
	return nil
}

// Start starts the gate on h again after Stop, if there is one; it looks
// at once, so it takes replicas out that ship started while a follower is
// down, or puts back those it stopped.
func Start(ctx context.Context, h *host.Host, c *config.Config) error {
	_, err := start(ctx, h, c)
	return err
}

// Repair starts a gate that a killed ship left stopped, and says so: no
// one else stops it.
func Repair(ctx context.Context, h *host.Host, c *config.Config, out io.Writer) error {
	started, err := start(ctx, h, c)
	if err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	if started {
		fmt.Fprintf(out, "repair: started %s, left stopped by an interrupted ship\n", Name(c))
	}
	return nil
}

// start starts the gate if it exists and is not running, and says whether
// it did.
func start(ctx context.Context, h *host.Host, c *config.Config) (bool, error) {
	info, err := h.Docker.ContainerInspect(ctx, Name(c))
	switch {
	case errdefs.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("inspect %s: %w", Name(c), err)
	case info.State.Running:
		return false, nil
	}
	if err := h.Docker.ContainerStart(ctx, Name(c), container.StartOptions{}); err != nil {
		return false, fmt.Errorf("start %s: %w", Name(c), err)
	}
	return true, nil
}

// Remove removes the gate's container, data file, record of the
// containers it stopped (which stay as they are) and of the copies'
// positions; the log stays. It says
// whether a gate was there.
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
	return found, host.RemoveEnvFiles(ctx, h, []string{f.data(), f.state(), f.positions()})
}
