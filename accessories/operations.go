package accessories

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/delivery"
	"github.com/shipdeploy/ship/guard"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/ssh"
)

// Boot puts an accessory's files and directories on the host,
// writes its env file, and starts its container. A running accessory is
// left alone unless reboot: then the old container is stopped and removed
// before the new one starts, so there are never two (never two Litestream
// processes on one database).
func Boot(ctx context.Context, h *host.Host, local client.APIClient, c *config.Config, a *config.Accessory, reboot bool, out io.Writer) error {
	name := spec.AccessoryName(c, a)
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
	ct, err := prepareAccessory(ctx, h, c, a)
	if err != nil {
		return err
	}
	if found {
		if err := Stop(ctx, h, c, a, out); err != nil {
			return err
		}
		if err := h.Docker.ContainerRemove(ctx, existing.ID, container.RemoveOptions{}); err != nil {
			return fmt.Errorf("remove old %s: %w", name, err)
		}
	}
	if err := checkAccessoryWriter(ctx, h, c, a, name); err != nil {
		return err
	}
	if _, err := h.Docker.ContainerCreate(ctx, ct.Config, ct.Host, nil, nil, name); err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	return Start(ctx, h, c, a, out)
}

// prepareAccessory puts an accessory's files, directories and env file on
// the host and returns its container's spec.
func prepareAccessory(ctx context.Context, h *host.Host, c *config.Config, a *config.Accessory) (*spec.Container, error) {
	home, err := h.Home(ctx)
	if err != nil {
		return nil, err
	}
	dir := spec.AccessoryDir(home, c, a)
	ct, err := spec.Accessory(c, a, dir)
	if err != nil {
		return nil, err
	}
	if err := placeFiles(ctx, h, c, a, dir); err != nil {
		return nil, err
	}
	if err := host.WriteEnvFile(ctx, h, spec.AccessoryEnvFile(home, c, a), ct.EnvFile); err != nil {
		return nil, err
	}
	return ct, nil
}

// Prepare puts an accessory's files, env file and image on the host, as
// Run does before a one-off, and returns its container's spec: for
// one-offs that a script on the host starts itself (the fire drill's
// restores).
func Prepare(ctx context.Context, h *host.Host, local client.APIClient, c *config.Config, a *config.Accessory) (*spec.Container, error) {
	ct, err := prepareAccessory(ctx, h, c, a)
	if err != nil {
		return nil, err
	}
	if err := ensureAccessoryImage(ctx, h, local, c, a, io.Discard); err != nil {
		return nil, err
	}
	return ct, nil
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

// Run runs a one-off command and returns its exit status and
// output. A command that writes to the app's volumes runs only when
// nothing else does (the caller has stopped the app and the replicator).
func Run(ctx context.Context, h *host.Host, c *config.Config, a *config.Accessory, o OneOff) (int, string, error) {
	ct, err := prepareAccessory(ctx, h, c, a)
	if err != nil {
		return 0, "", err
	}
	if err := ensureAccessoryImage(ctx, h, o.Local, c, a, io.Discard); err != nil {
		return 0, "", err
	}
	cc, hc := *ct.Config, *ct.Host
	cc.Cmd = o.Cmd
	cc.Labels = maps.Clone(cc.Labels)
	delete(cc.Labels, spec.LabelAccessory) // not the accessory itself
	hc.RestartPolicy = container.RestartPolicy{}
	hc.PortBindings = nil
	hc.Binds = slices.Clone(hc.Binds)
	if o.ReadOnly {
		// Only a writer counts as one of the accessory's containers.
		delete(cc.Labels, spec.LabelService)
		for i, b := range hc.Binds {
			for _, v := range a.Volumes {
				if b == v.String() && !v.ReadOnly() {
					hc.Binds[i] = b + ":ro"
				}
			}
		}
	} else {
		if ws, err := guard.Writers(ctx, h.Docker, c.Volumes, nil); err != nil {
			return 0, "", err
		} else if len(ws) > 0 {
			return 0, "", fmt.Errorf("not running %s: %w", o.Task, guard.Error(ws))
		}
	}
	hc.Binds = append(hc.Binds, o.Binds...)
	name := ct.Name + "-" + o.Task + "-" + strings.ToLower(rand.Text()[:6])
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
		return int(res.StatusCode), host.LogTail(ctx, h, created.ID, 200), nil
	case err := <-errC:
		return 0, "", fmt.Errorf("wait for %s: %w", name, err)
	}
}

// checkAccessoryWriter refuses to start an accessory that would write to
// the app's database volumes, except one Litestream replicator.
func checkAccessoryWriter(ctx context.Context, h *host.Host, c *config.Config, a *config.Accessory, name string) error {
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
	if !slices.Contains(guard.Replicators(c), name) {
		return fmt.Errorf("accessory %s mounts the app's database volume writable: only a Litestream replicator may; mount it read-only (:ro)", a.Name)
	}
	// The app's own containers are its writer; anything else that writes,
	// another Litestream above all, must not run beside this one.
	allowed := []string{name}
	for _, r := range c.Roles {
		running, err := host.RunningContainers(ctx, h, c, r.Name)
		if err != nil {
			return err
		}
		for _, ct := range running {
			allowed = append(allowed, host.Name(ct))
		}
	}
	ws, err := guard.Writers(ctx, h.Docker, c.Volumes, allowed)
	if err != nil {
		return err
	}
	if len(ws) > 0 {
		return fmt.Errorf("not starting %s: %w", name, guard.Error(ws))
	}
	return nil
}

// Start starts an accessory's existing container and checks it
// stays up.
func Start(ctx context.Context, h *host.Host, c *config.Config, a *config.Accessory, out io.Writer) error {
	name := spec.AccessoryName(c, a)
	if err := h.Docker.ContainerStart(ctx, name, container.StartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	time.Sleep(time.Second) // an accessory with a bad config exits at once
	info, err := h.Docker.ContainerInspect(ctx, name)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", name, err)
	}
	if !info.State.Running {
		return fmt.Errorf("%s exited with status %d:\n%s", name, info.State.ExitCode, indent(host.LogTail(ctx, h, name, 20)))
	}
	fmt.Fprintf(out, "%s is running\n", name)
	return nil
}

// Stop stops an accessory's container, if it runs.
func Stop(ctx context.Context, h *host.Host, c *config.Config, a *config.Accessory, out io.Writer) error {
	name := spec.AccessoryName(c, a)
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

// Remove stops and removes an accessory's container. Its
// directories and volumes, and so its data, stay.
func Remove(ctx context.Context, h *host.Host, c *config.Config, a *config.Accessory, out io.Writer) error {
	name := spec.AccessoryName(c, a)
	if err := Stop(ctx, h, c, a, out); err != nil {
		return err
	}
	if err := h.Docker.ContainerRemove(ctx, name, container.RemoveOptions{}); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	fmt.Fprintf(out, "removed %s\n", name)
	return nil
}

// placeFiles uploads the accessory's files and creates its directories.
func placeFiles(ctx context.Context, h *host.Host, c *config.Config, a *config.Accessory, dir string) error {
	if err := uploadFiles(ctx, h, c, a, dir, io.Discard); err != nil {
		return err
	}
	return makeDirectories(ctx, h, a, dir, io.Discard)
}

// Upload puts the accessory's files on the host, where its container
// mounts them (Kamal's accessory upload), and names each one to out.
func Upload(ctx context.Context, h *host.Host, c *config.Config, a *config.Accessory, out io.Writer) error {
	if len(a.Files) == 0 {
		fmt.Fprintf(out, "accessory %s has no files\n", a.Name)
		return nil
	}
	home, err := h.Home(ctx)
	if err != nil {
		return err
	}
	return uploadFiles(ctx, h, c, a, spec.AccessoryDir(home, c, a), out)
}

// Directories creates the accessory's directories on the host with their
// owner and mode (Kamal's accessory directories), and names each one to
// out; what is in them stays.
func Directories(ctx context.Context, h *host.Host, c *config.Config, a *config.Accessory, out io.Writer) error {
	if len(a.Directories) == 0 {
		fmt.Fprintf(out, "accessory %s has no directories\n", a.Name)
		return nil
	}
	home, err := h.Home(ctx)
	if err != nil {
		return err
	}
	return makeDirectories(ctx, h, a, spec.AccessoryDir(home, c, a), out)
}

// uploadFiles uploads the accessory's files into its directory dir.
func uploadFiles(ctx context.Context, h *host.Host, c *config.Config, a *config.Accessory, dir string, out io.Writer) error {
	for _, f := range a.Files {
		if strings.HasSuffix(f.Local, ".erb") {
			return fmt.Errorf("accessory %s: %s is an ERB template; ship uploads files as they are: render it first", a.Name, f.Local)
		}
		data := f.Content
		if data == nil {
			var err error
			if data, err = os.ReadFile(config.LocalPath(c.Root, f.Local)); err != nil {
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
		dst := spec.AccessoryFile(dir, f.Remote)
		if err := h.Shell.Run(ctx, ssh.Cmd{Args: []string{"mkdir", "-p", path.Dir(dst)}}); err != nil {
			return fmt.Errorf("accessory %s: %w", a.Name, err)
		}
		if err := h.Shell.Upload(ctx, dst, bytes.NewReader(data), mode, f.Owner); err != nil {
			return fmt.Errorf("accessory %s: upload %s: %w", a.Name, f.Remote, err)
		}
		fmt.Fprintf(out, "uploaded %s (mounted at %s)\n", dst, f.Remote)
	}
	return nil
}

// makeDirectories creates the accessory's directories inside dir.
func makeDirectories(ctx context.Context, h *host.Host, a *config.Accessory, dir string, out io.Writer) error {
	for _, d := range a.Directories {
		p := spec.AccessoryDirectory(dir, d.Local)
		var changed strings.Builder
		if err := host.Directory(ctx, h, p, d.Owner, d.Mode, &changed); err != nil {
			return fmt.Errorf("accessory %s: %w", a.Name, err)
		}
		if changed.Len() == 0 {
			fmt.Fprintf(out, "directory %s is in place\n", p)
		}
		io.WriteString(out, changed.String())
	}
	return nil
}

// ensureAccessoryImage puts an accessory's image on the host: there
// already, sent from the local engine, or pulled with the accessory's (or
// the app's) registry credentials.
func ensureAccessoryImage(ctx context.Context, h *host.Host, local client.APIClient, c *config.Config, a *config.Accessory, out io.Writer) error {
	reg := c.Registry
	if a.Registry != nil {
		reg = *a.Registry
	}
	return delivery.Ensure(ctx, h.Docker, local, a.Image, delivery.Credentials{Server: reg.Server, Username: reg.Username, Password: reg.Password.Reveal()}, out)
}

// Logs writes an accessory's logs.
func Logs(ctx context.Context, h *host.Host, c *config.Config, a *config.Accessory, opts host.LogOptions, out io.Writer) error {
	return host.Logs(ctx, h, spec.AccessoryName(c, a), opts, out)
}

// Exec runs cmd in an accessory's running container.
func Exec(ctx context.Context, h *host.Host, c *config.Config, a *config.Accessory, cmd []string, stdout, stderr io.Writer) (int, error) {
	return host.Exec(ctx, h, spec.AccessoryName(c, a), cmd, nil, stdout, stderr)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
