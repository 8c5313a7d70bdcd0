// Package app is what people do with a deployed app besides replacing it:
// run commands in it or beside it, read its logs, remove it. Which version
// runs is the deploy package's business alone.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/spec"
)

// Exec runs cmd inside the role's running container: a console that is
// part of the one writer, not a second process opening the database. With
// stdin it runs interactively on a TTY. It returns the command's exit
// status.
func Exec(ctx context.Context, h *host.Host, c *config.Config, role string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	running, err := host.RunningContainers(ctx, h, c, role)
	if err != nil {
		return 0, err
	}
	if len(running) == 0 {
		return 0, fmt.Errorf("role %s is not running here: use --new for a one-off container", role)
	}
	return host.Exec(ctx, h, host.Name(running[0]), cmd, stdin, stdout, stderr)
}

// ExecNew runs cmd in a one-off container of the running version, with the
// app's volumes mounted read-only, so it can read the database but never
// become a second writer. As with docker run, cmd goes to the image's
// entrypoint. The container is removed afterwards.
func ExecNew(ctx context.Context, h *host.Host, c *config.Config, r *config.Role, on config.Host, cmd []string, stdout, stderr io.Writer) (int, error) {
	list, err := deploy.Containers(ctx, h, c, r.Name)
	if err != nil {
		return 0, err
	}
	if len(list) == 0 {
		return 0, fmt.Errorf("role %s has no version on this host: deploy first", r.Name)
	}
	ct, err := spec.App(c, r, on, list[0].Version)
	if r.IsReplica() {
		ct, err = spec.ReplicaApp(c, r, on, list[0].Version, 0) // read-only already, on the copies
	}
	if err != nil {
		return 0, err
	}
	ct.Config.Cmd = cmd
	ct.Config.Labels = map[string]string{spec.LabelService: c.Service + "-exec"}
	ct.Config.ExposedPorts = nil
	ct.Host.RestartPolicy = container.RestartPolicy{}
	ct.Host.PortBindings = nil
	if !r.IsReplica() {
		ct.Host.Binds = nil
		for _, v := range c.Volumes {
			ro := v
			ro.Options = append(withoutRW(v.Options), "ro")
			ct.Host.Binds = append(ct.Host.Binds, ro.String())
		}
	}
	name := spec.ContainerPrefix(c, r.Name) + "exec-" + strings.ToLower(rand.Text()[:8])
	created, err := h.Docker.ContainerCreate(ctx, ct.Config, ct.Host, nil, nil, name)
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", name, err)
	}
	defer h.Docker.ContainerRemove(context.WithoutCancel(ctx), created.ID, container.RemoveOptions{Force: true})
	attach, err := h.Docker.ContainerAttach(ctx, created.ID, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return 0, fmt.Errorf("attach to %s: %w", name, err)
	}
	defer attach.Close()
	stop := context.AfterFunc(ctx, attach.Close) // a hijacked stream ignores ctx
	defer stop()
	waitC, errC := h.Docker.ContainerWait(ctx, created.ID, container.WaitConditionNextExit)
	if err := h.Docker.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return 0, fmt.Errorf("start %s: %w", name, err)
	}
	if _, err := stdcopy.StdCopy(stdout, stderr, attach.Reader); err != nil {
		return 0, fmt.Errorf("output of %s: %w", name, err)
	}
	select {
	case res := <-waitC:
		if res.Error != nil {
			return 0, errors.New(res.Error.Message)
		}
		return int(res.StatusCode), nil
	case err := <-errC:
		return 0, fmt.Errorf("wait for %s: %w", name, err)
	}
}

func withoutRW(opts []string) []string {
	var out []string
	for _, o := range opts {
		if o != "rw" && o != "ro" {
			out = append(out, o)
		}
	}
	return out
}

// Logs writes the newest container's logs of a role, filtered by Grep.
func Logs(ctx context.Context, h *host.Host, c *config.Config, role string, opts host.LogOptions, out io.Writer) error {
	list, err := deploy.Containers(ctx, h, c, role)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("role %s has no container on this host", role)
	}
	return host.Logs(ctx, h, list[0].Name, opts, out)
}

// Remove stops and removes all of the app's containers on a host, and their
// images. Volumes, and so the database, are kept.
func Remove(ctx context.Context, h *host.Host, c *config.Config, out io.Writer) error {
	for _, r := range c.Roles {
		if r.Proxy != nil {
			if err := proxy.RemoveService(ctx, h.Docker, spec.ProxyService(c, r.Name)); err != nil {
				return fmt.Errorf("kamal-proxy: %w", err)
			}
		}
		if err := deploy.Stop(ctx, h, c, r, out); err != nil {
			return err
		}
		removed, err := deploy.Prune(ctx, h.Docker, 0, func(ctx context.Context) ([]container.Summary, error) {
			return host.RoleContainers(ctx, h, c, r.Name)
		})
		if err == nil {
			var vols []string
			vols, err = deploy.PruneAssets(ctx, h, c, r.Name)
			removed = append(removed, vols...)
		}
		for _, name := range removed {
			fmt.Fprintf(out, "removed %s\n", name)
		}
		if err != nil {
			return err
		}
	}
	// The latest tag (deploy tags the version the host serves) would
	// keep the image with no container left.
	latest := spec.LatestRef(c)
	if _, err := h.Docker.ImageRemove(ctx, latest, image.RemoveOptions{}); err != nil && !errdefs.IsNotFound(err) && !errdefs.IsConflict(err) {
		return fmt.Errorf("remove image %s: %w", latest, err)
	}
	return nil
}
