package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/delivery"
	"github.com/shipdeploy/ship/runopts"
	"github.com/shipdeploy/ship/ssh"
)

// LabelAccessory marks an accessory's container with the accessory's name.
const LabelAccessory = "ship.accessory"

// BootAccessory puts an accessory's files and directories on the host,
// writes its env file, and starts its container. A running accessory is
// left alone unless reboot: then the old container is stopped and removed
// before the new one starts, so there are never two (never two Litestream
// processes on one database).
func BootAccessory(ctx context.Context, h *Host, local client.APIClient, c *config.Config, a *config.Accessory, reboot bool, out io.Writer) error {
	name := accessories.ContainerName(c, a)
	existing, err := h.Docker.ContainerInspect(ctx, name)
	found := err == nil
	switch {
	case err == nil && existing.State.Running && !reboot:
		fmt.Fprintf(out, "%s is already running (reboot replaces it)\n", name)
		return nil
	case err != nil && !errdefs.IsNotFound(err):
		return fmt.Errorf("inspect %s: %w", name, err)
	}
	if err := ensureAccessoryImage(ctx, h, local, c, a, out); err != nil {
		return err
	}
	spec, err := prepareAccessory(ctx, h, c, a)
	if err != nil {
		return err
	}
	if found {
		if err := StopAccessory(ctx, h, c, a, out); err != nil {
			return err
		}
		if err := h.Docker.ContainerRemove(ctx, existing.ID, container.RemoveOptions{}); err != nil {
			return fmt.Errorf("remove old %s: %w", name, err)
		}
	}
	if err := checkAccessoryWriter(ctx, h, c, a, name); err != nil {
		return err
	}
	if _, err := h.Docker.ContainerCreate(ctx, spec.Config, spec.Host, nil, nil, name); err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	return StartAccessory(ctx, h, c, a, out)
}

// prepareAccessory puts an accessory's files, directories and env file on
// the host and returns its container's spec.
func prepareAccessory(ctx context.Context, h *Host, c *config.Config, a *config.Accessory) (*Spec, error) {
	home, err := h.home(ctx)
	if err != nil {
		return nil, err
	}
	dir := path.Join(path.Dir(path.Dir(envFilePath(home, c, "x"))), "accessories", a.Name)
	spec, err := accessorySpec(c, a, dir)
	if err != nil {
		return nil, err
	}
	if err := placeFiles(ctx, h, c, a, dir); err != nil {
		return nil, err
	}
	if err := writeEnvFile(ctx, h, path.Join(dir, "env"), spec.EnvFile); err != nil {
		return nil, err
	}
	return spec, nil
}

// OneOff is a command run to its end in a new container of an accessory's
// image, configuration and environment (a Litestream restore, say).
type OneOff struct {
	Task string   // names the container: ACCESSORY-CONTAINER-TASK-RANDOM
	Cmd  []string // replaces the accessory's cmd
	// Binds are mounted besides the accessory's own.
	Binds []string
	// ReadOnly mounts the accessory's volumes read-only: the command only
	// reads the app's database, so it is no writer.
	ReadOnly bool
	// Local is where the image comes from when the host lacks it (else
	// the registry).
	Local client.APIClient
}

// RunAccessory runs a one-off command and returns its exit status and
// output. A command that writes to the app's volumes runs only when
// nothing else does (the caller has stopped the app and the replicator).
func RunAccessory(ctx context.Context, h *Host, c *config.Config, a *config.Accessory, o OneOff) (int, string, error) {
	spec, err := prepareAccessory(ctx, h, c, a)
	if err != nil {
		return 0, "", err
	}
	if err := ensureAccessoryImage(ctx, h, o.Local, c, a, io.Discard); err != nil {
		return 0, "", err
	}
	cc, hc := *spec.Config, *spec.Host
	cc.Cmd = o.Cmd
	cc.Labels = maps.Clone(cc.Labels)
	delete(cc.Labels, LabelAccessory) // not the accessory itself
	hc.RestartPolicy = container.RestartPolicy{}
	hc.PortBindings = nil
	hc.Binds = slices.Clone(hc.Binds)
	if o.ReadOnly {
		// Only a writer counts as one of the accessory's containers.
		delete(cc.Labels, LabelService)
		for i, b := range hc.Binds {
			for _, v := range a.Volumes {
				if b == v.String() && !v.ReadOnly() {
					hc.Binds[i] = b + ":ro"
				}
			}
		}
	} else {
		if ws, err := writers(ctx, h.Docker, c.Volumes, nil); err != nil {
			return 0, "", err
		} else if len(ws) > 0 {
			return 0, "", fmt.Errorf("not running %s: %w", o.Task, writersError(ws))
		}
	}
	hc.Binds = append(hc.Binds, o.Binds...)
	name := spec.Name + "-" + o.Task + "-" + strings.ToLower(rand.Text()[:6])
	created, err := h.Docker.ContainerCreate(ctx, &cc, &hc, nil, nil, name)
	if err != nil {
		return 0, "", fmt.Errorf("create %s: %w", name, err)
	}
	defer h.Docker.ContainerRemove(context.WithoutCancel(ctx), created.ID, container.RemoveOptions{Force: true})
	waitC, errC := h.Docker.ContainerWait(ctx, created.ID, container.WaitConditionNextExit)
	if err := h.Docker.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return 0, "", fmt.Errorf("start %s: %w", name, err)
	}
	select {
	case res := <-waitC:
		return int(res.StatusCode), logTail(ctx, h, created.ID, 200), nil
	case err := <-errC:
		return 0, "", fmt.Errorf("wait for %s: %w", name, err)
	}
}

// checkAccessoryWriter refuses to start an accessory that would write to
// the app's database volumes, except one Litestream replicator.
func checkAccessoryWriter(ctx context.Context, h *Host, c *config.Config, a *config.Accessory, name string) error {
	mountsApp := false
	for _, v := range a.Volumes {
		for _, app := range c.Volumes {
			if !v.ReadOnly() && !app.ReadOnly() && v.Source == app.Source {
				mountsApp = true
			}
		}
	}
	if !mountsApp {
		return nil
	}
	if !slices.Contains(allowedWriters(c), name) {
		return fmt.Errorf("accessory %s mounts the app's database volume writable: only a Litestream replicator may; mount it read-only (:ro)", a.Name)
	}
	// The app's own containers are its writer; anything else that writes,
	// another Litestream above all, must not run beside this one.
	allowed := []string{name}
	for _, r := range c.Roles {
		running, err := runningContainers(ctx, h, c, r.Name)
		if err != nil {
			return err
		}
		for _, ct := range running {
			allowed = append(allowed, strings.TrimPrefix(firstName(ct.Names), "/"))
		}
	}
	ws, err := writers(ctx, h.Docker, c.Volumes, allowed)
	if err != nil {
		return err
	}
	if len(ws) > 0 {
		return fmt.Errorf("not starting %s: %w", name, writersError(ws))
	}
	return nil
}

// StartAccessory starts an accessory's existing container and checks it
// stays up.
func StartAccessory(ctx context.Context, h *Host, c *config.Config, a *config.Accessory, out io.Writer) error {
	name := accessories.ContainerName(c, a)
	if err := h.Docker.ContainerStart(ctx, name, container.StartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	time.Sleep(time.Second) // an accessory with a bad config exits at once
	info, err := h.Docker.ContainerInspect(ctx, name)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", name, err)
	}
	if !info.State.Running {
		return fmt.Errorf("%s exited with status %d:\n%s", name, info.State.ExitCode, indent(logTail(ctx, h, name, 20)))
	}
	fmt.Fprintf(out, "%s is running\n", name)
	return nil
}

// StopAccessory stops an accessory's container, if it runs.
func StopAccessory(ctx context.Context, h *Host, c *config.Config, a *config.Accessory, out io.Writer) error {
	name := accessories.ContainerName(c, a)
	timeout := int(c.StopTimeout.Seconds())
	if err := h.Docker.ContainerStop(ctx, name, container.StopOptions{Timeout: &timeout}); err != nil {
		if errdefs.IsNotFound(err) {
			fmt.Fprintf(out, "%s is not booted\n", name)
			return nil
		}
		return fmt.Errorf("stop %s: %w", name, err)
	}
	fmt.Fprintf(out, "stopped %s\n", name)
	return nil
}

// RemoveAccessory stops and removes an accessory's container. Its
// directories and volumes, and so its data, stay.
func RemoveAccessory(ctx context.Context, h *Host, c *config.Config, a *config.Accessory, out io.Writer) error {
	name := accessories.ContainerName(c, a)
	if err := StopAccessory(ctx, h, c, a, out); err != nil {
		return err
	}
	if err := h.Docker.ContainerRemove(ctx, name, container.RemoveOptions{}); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	fmt.Fprintf(out, "removed %s\n", name)
	return nil
}

// accessorySpec builds the accessory's container. Files and directories
// live on the host under dir and are bind-mounted where the config says.
func accessorySpec(c *config.Config, a *config.Accessory, dir string) (*Spec, error) {
	name := accessories.ContainerName(c, a)
	e := env{}
	merged := config.Env{}.Merge(a.Env)
	maps.Copy(e, merged.Clear)
	for _, s := range merged.Secrets {
		e[s.Name] = s.Value.Reveal()
	}
	var cmd []string
	if a.Cmd != "" {
		words, err := shellquote.Split(a.Cmd)
		if err != nil {
			return nil, fmt.Errorf("accessory %s: cmd %q: %w", a.Name, a.Cmd, err)
		}
		cmd = words
	}
	labels := map[string]string{}
	maps.Copy(labels, a.Labels)
	labels[LabelService] = name
	labels[LabelAccessory] = a.Name
	cc := &container.Config{Image: a.Image, Cmd: cmd, Env: e.list(), Labels: labels}
	network := Network
	if a.Network != "" {
		network = a.Network
	}
	hc := &container.HostConfig{
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		NetworkMode:   container.NetworkMode(network),
	}
	for _, f := range a.Files {
		hc.Binds = append(hc.Binds, bind(path.Join(dir, "files", f.Remote), f.Remote, f.Options))
	}
	for _, d := range a.Directories {
		hc.Binds = append(hc.Binds, bind(directorySource(dir, d.Local), d.Remote, d.Options))
	}
	for _, v := range a.Volumes {
		hc.Binds = append(hc.Binds, v.String())
	}
	opts := a.Options
	if a.Port != "" {
		opts = append(opts, runopts.Option{Name: "publish", Values: []string{a.Port}})
	}
	if err := runopts.Apply(opts, cc, hc); err != nil {
		return nil, fmt.Errorf("accessory %s: %w", a.Name, err)
	}
	return &Spec{Name: name, Config: cc, Host: hc, EnvFile: e.dotenv()}, nil
}

func bind(source, target, options string) string {
	if options == "" {
		return source + ":" + target
	}
	return source + ":" + target + ":" + options
}

// directorySource is a directory's place on the host: as written when
// absolute, else under the accessory's own directory, as in Kamal.
func directorySource(dir, local string) string {
	if path.IsAbs(local) {
		return local
	}
	return path.Join(dir, "directories", local)
}

// placeFiles uploads the accessory's files and creates its directories.
func placeFiles(ctx context.Context, h *Host, c *config.Config, a *config.Accessory, dir string) error {
	for _, f := range a.Files {
		if strings.HasSuffix(f.Local, ".erb") {
			return fmt.Errorf("accessory %s: %s is an ERB template; ship uploads files as they are: render it first", a.Name, f.Local)
		}
		data := f.Content
		if data == nil {
			var err error
			if data, err = os.ReadFile(filepath.Join(c.Root, f.Local)); err != nil {
				return fmt.Errorf("accessory %s: %w", a.Name, err)
			}
		}
		mode := os.FileMode(0o644)
		if f.Mode != "" {
			m, err := strconv.ParseUint(f.Mode, 8, 32)
			if err != nil {
				return fmt.Errorf("accessory %s: file mode %q: %w", a.Name, f.Mode, err)
			}
			mode = os.FileMode(m)
		}
		dst := path.Join(dir, "files", f.Remote)
		if err := h.Shell.Run(ctx, ssh.Cmd{Args: []string{"mkdir", "-p", path.Dir(dst)}}); err != nil {
			return fmt.Errorf("accessory %s: %w", a.Name, err)
		}
		if err := h.Shell.Upload(ctx, dst, bytes.NewReader(data), mode, f.Owner); err != nil {
			return fmt.Errorf("accessory %s: upload %s: %w", a.Name, f.Remote, err)
		}
	}
	for _, d := range a.Directories {
		var discard strings.Builder
		if err := hostDirectory(ctx, h, directorySource(dir, d.Local), d.Owner, d.Mode, &discard); err != nil {
			return fmt.Errorf("accessory %s: %w", a.Name, err)
		}
	}
	return nil
}

// ensureAccessoryImage puts an accessory's image on the host: there
// already, sent from the local engine, or pulled with the accessory's (or
// the app's) registry credentials.
func ensureAccessoryImage(ctx context.Context, h *Host, local client.APIClient, c *config.Config, a *config.Accessory, out io.Writer) error {
	reg := c.Registry
	if a.Registry != nil {
		reg = *a.Registry
	}
	return delivery.Ensure(ctx, h.Docker, local, a.Image, delivery.Credentials{Server: reg.Server, Username: reg.Username, Password: reg.Password.Reveal()}, out)
}

// AccessoryLogs writes an accessory's logs.
func AccessoryLogs(ctx context.Context, h *Host, c *config.Config, a *config.Accessory, opts LogOptions, out io.Writer) error {
	return containerLogs(ctx, h, accessories.ContainerName(c, a), opts, out)
}

// AccessoryExec runs cmd in an accessory's running container.
func AccessoryExec(ctx context.Context, h *Host, c *config.Config, a *config.Accessory, cmd []string, stdout, stderr io.Writer) (int, error) {
	return execIn(ctx, h, accessories.ContainerName(c, a), cmd, nil, stdout, stderr)
}
