package deploy

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/proxy"
)

// AppContainer is one of a role's containers on a host.
type AppContainer struct {
	Name, Version, State, Status string
	Created                      time.Time
}

// Containers lists a role's containers, newest first: the running one and
// those retained for rollback.
func Containers(ctx context.Context, h *Host, c *config.Config, role string) ([]AppContainer, error) {
	list, err := roleContainers(ctx, h, c, role)
	if err != nil {
		return nil, err
	}
	var out []AppContainer
	for _, ct := range list {
		name := strings.TrimPrefix(firstName(ct.Names), "/")
		out = append(out, AppContainer{Name: name, Version: versionOf(c, role, name, ct.Labels),
			State: ct.State, Status: ct.Status, Created: time.Unix(ct.Created, 0)})
	}
	return out, nil
}

// Stop stops a role's running containers.
func Stop(ctx context.Context, h *Host, c *config.Config, r *config.Role, out io.Writer) error {
	running, err := runningContainers(ctx, h, c, r.Name)
	if err != nil {
		return err
	}
	timeout := int(r.StopTimeout.Seconds())
	for _, ct := range running {
		name := strings.TrimPrefix(firstName(ct.Names), "/")
		fmt.Fprintf(out, "stopping %s\n", name)
		if err := h.Docker.ContainerStop(ctx, ct.ID, container.StopOptions{Timeout: &timeout}); err != nil {
			return fmt.Errorf("stop %s: %w", name, err)
		}
	}
	if len(running) == 0 {
		fmt.Fprintf(out, "%s is not running\n", r.Name)
	}
	// Stopped on purpose: a later repair must not start it again.
	return recordHealthy(ctx, h, c, r.Name, "")
}

// Start starts the role's newest container if none is running, after the
// single-writer check, and waits for it to be healthy.
func Start(ctx context.Context, h *Host, c *config.Config, r *config.Role, out io.Writer) error {
	list, err := Containers(ctx, h, c, r.Name)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("role %s has no container on this host: deploy first", r.Name)
	}
	for _, ct := range list {
		if ct.State == "running" {
			fmt.Fprintf(out, "%s is already running\n", ct.Name)
			return nil
		}
	}
	if ws, err := writers(ctx, h.Docker, c.Volumes, allowedWriters(c)); err != nil {
		return err
	} else if len(ws) > 0 {
		return writersError(ws)
	}
	name := list[0].Name
	fmt.Fprintf(out, "starting %s\n", name)
	if err := h.Docker.ContainerStart(ctx, name, container.StartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if err := waitHealthy(ctx, h, name, checkFor(c, r), c.DeployTimeout); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := route(ctx, h, c, r, name, c.DeployTimeout, out); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s is healthy\n", name)
	return recordHealthy(ctx, h, c, r.Name, list[0].Version)
}

// Exec runs cmd inside the role's running container: a console that is
// part of the one writer, not a second process opening the database. With
// stdin it runs interactively on a TTY. It returns the command's exit
// status.
func Exec(ctx context.Context, h *Host, c *config.Config, role string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	running, err := runningContainers(ctx, h, c, role)
	if err != nil {
		return 0, err
	}
	if len(running) == 0 {
		return 0, fmt.Errorf("role %s is not running here: use --new for a one-off container", role)
	}
	return execIn(ctx, h, strings.TrimPrefix(firstName(running[0].Names), "/"), cmd, stdin, stdout, stderr)
}

// execIn runs cmd in a running container and returns its exit status.
func execIn(ctx context.Context, h *Host, name string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	tty := stdin != nil
	exec, err := h.Docker.ContainerExecCreate(ctx, name, container.ExecOptions{
		Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: tty, Tty: tty,
	})
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", name, err)
	}
	attach, err := h.Docker.ContainerExecAttach(ctx, exec.ID, container.ExecAttachOptions{Tty: tty})
	if err != nil {
		return 0, fmt.Errorf("attach to exec: %w", err)
	}
	defer attach.Close()
	stop := context.AfterFunc(ctx, attach.Close) // a hijacked stream ignores ctx
	defer stop()
	if tty {
		go func() {
			io.Copy(attach.Conn, stdin)
			attach.CloseWrite()
		}()
		_, err = io.Copy(stdout, attach.Reader)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, attach.Reader)
	}
	if err != nil {
		return 0, fmt.Errorf("exec output: %w", err)
	}
	info, err := h.Docker.ContainerExecInspect(ctx, exec.ID)
	if err != nil {
		return 0, fmt.Errorf("exec status: %w", err)
	}
	return info.ExitCode, nil
}

// ExecNew runs cmd in a one-off container of the running version, with the
// app's volumes mounted read-only, so it can read the database but never
// become a second writer. As with docker run, cmd goes to the image's
// entrypoint. The container is removed afterwards.
func ExecNew(ctx context.Context, h *Host, c *config.Config, r *config.Role, host config.Host, cmd []string, stdout, stderr io.Writer) (int, error) {
	list, err := Containers(ctx, h, c, r.Name)
	if err != nil {
		return 0, err
	}
	if len(list) == 0 {
		return 0, fmt.Errorf("role %s has no version on this host: deploy first", r.Name)
	}
	spec, err := NewSpec(c, r, host, list[0].Version)
	if err != nil {
		return 0, err
	}
	spec.Config.Cmd = cmd
	spec.Config.Labels = map[string]string{LabelService: c.Service + "-exec"}
	spec.Host.RestartPolicy = container.RestartPolicy{}
	spec.Host.PortBindings = nil
	spec.Host.Binds = nil
	for _, v := range c.Volumes {
		ro := v
		ro.Options = append(withoutRW(v.Options), "ro")
		spec.Host.Binds = append(spec.Host.Binds, ro.String())
	}
	name := ContainerPrefix(c, r.Name) + "exec-" + strings.ToLower(rand.Text()[:8])
	created, err := h.Docker.ContainerCreate(ctx, spec.Config, spec.Host, nil, nil, name)
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

// LogOptions select what `ship app logs` shows.
type LogOptions struct {
	Follow bool
	Lines  int
	Since  string
	Grep   string
}

// Logs writes the newest container's logs of a role, filtered by Grep.
func Logs(ctx context.Context, h *Host, c *config.Config, role string, opts LogOptions, out io.Writer) error {
	list, err := Containers(ctx, h, c, role)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("role %s has no container on this host", role)
	}
	return containerLogs(ctx, h, list[0].Name, opts, out)
}

// containerLogs writes a container's logs, filtered by opts.Grep.
func containerLogs(ctx context.Context, h *Host, name string, opts LogOptions, out io.Writer) error {
	tail := "all"
	if opts.Lines > 0 {
		tail = fmt.Sprint(opts.Lines)
	}
	rc, err := h.Docker.ContainerLogs(ctx, name, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: opts.Follow, Tail: tail, Since: opts.Since,
	})
	if err != nil {
		return fmt.Errorf("logs of %s: %w", name, err)
	}
	defer rc.Close()
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, pw, rc)
		pw.CloseWithError(err)
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if opts.Grep == "" || strings.Contains(sc.Text(), opts.Grep) {
			fmt.Fprintln(out, sc.Text())
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// Remove stops and removes all of the app's containers on a host, and their
// images. Volumes, and so the database, are kept.
func Remove(ctx context.Context, h *Host, c *config.Config, out io.Writer) error {
	for _, r := range c.Roles {
		if r.Proxy != nil {
			if err := proxy.RemoveService(ctx, h.Docker, proxyService(c, r.Name)); err != nil {
				return fmt.Errorf("kamal-proxy: %w", err)
			}
		}
		if err := Stop(ctx, h, c, r, out); err != nil {
			return err
		}
		removed, err := Prune(ctx, h.Docker, 0, func(ctx context.Context) ([]container.Summary, error) {
			return roleContainers(ctx, h, c, r.Name)
		})
		for _, name := range removed {
			fmt.Fprintf(out, "removed %s\n", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
