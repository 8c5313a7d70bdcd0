package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/delivery"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
)

// ensureImage makes sure ref is on the host, and, when the local engine
// has ref, that the host's is the same image: a version rebuilt with other
// content must not leave the old one running. With a registry, the local
// image is pushed there once and every host pulls it; without one, the
// layers the host lacks are sent over the SSH connection. loaded says
// whether it put ref there (a pull or a load), or found it.
func ensureImage(ctx context.Context, h *host.Host, local *localImage, c *config.Config, ref string, out io.Writer) (loaded bool, err error) {
	img, localErr := local.open(ctx, ref)
	if localErr == nil && !usesRegistry(c) {
		return send(ctx, h, local, img, ref, out) // it asks whether the host has it
	}
	remote, err := h.Docker.ImageInspect(ctx, ref)
	if err != nil && !errdefs.IsNotFound(err) {
		return false, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	onHost := err == nil
	switch {
	case localErr != nil && onHost: // built elsewhere (--skip-build): trust the host's
		fmt.Fprintf(out, "image %s is on the host\n", ref)
		return false, nil
	case localErr == nil && onHost && remote.ID == img.ID:
		fmt.Fprintf(out, "image %s is on the host\n", ref)
		return false, nil
	case usesRegistry(c):
		if err := local.push(ctx, ref, spec.LatestRef(c), credentials(c)); err != nil {
			return false, err
		}
		fmt.Fprintf(out, "pulling image %s\n", ref)
		return true, delivery.Pull(ctx, h.Docker, ref, credentials(c))
	}
	return false, fmt.Errorf("image %s is neither on the host nor in the local Docker Engine: build it first", ref)
}

// send sends the host the layers of img it lacks, over the SSH connection.
func send(ctx context.Context, h *host.Host, local *localImage, img *delivery.Image, ref string, out io.Writer) (loaded bool, err error) {
	var header sync.Once
	progress := delivery.Progress(out, ref, local.terminal)
	st, err := img.Send(ctx, h.Docker, func(t delivery.Transfer) {
		header.Do(func() { fmt.Fprintf(out, "sending image %s over SSH (%.1f MB in all)\n", ref, float64(img.Size)/1e6) })
		progress(t)
	})
	if err != nil {
		return false, err
	}
	if st.AlreadyThere {
		fmt.Fprintf(out, "image %s is on the host\n", ref)
		return false, nil
	}
	how := st.Route.String()
	if st.Note != "" { // why it could not send less
		how += ": " + st.Note
	}
	fmt.Fprintf(out, "sent %d of %d layers, %.1f MB in %.1fs (%s)\n", st.Sent, st.Layers, float64(st.Bytes)/1e6, st.Took.Seconds(), how)
	return true, nil
}

func usesRegistry(c *config.Config) bool {
	return c.Registry.Server != "" || c.Registry.Username != ""
}

func credentials(c *config.Config) delivery.Credentials {
	return delivery.Credentials{Server: c.Registry.Server, Username: c.Registry.Username, Password: c.Registry.Password.Reveal()}
}

// localImage is the version's image in the local engine, saved at most
// once however many hosts need it.
type localImage struct {
	engine   client.APIClient
	terminal bool
	once     sync.Once
	img      *delivery.Image
	err      error
	pushOnce sync.Once
	pushErr  error
}

// push sends the image to the registry once, if the local engine has it:
// otherwise the hosts pull what the registry already holds (--skip-build).
func (l *localImage) push(ctx context.Context, ref, latest string, creds delivery.Credentials) error {
	l.pushOnce.Do(func() {
		img, err := l.open(ctx, ref)
		if err != nil {
			return
		}
		l.pushErr = pushWithLatest(ctx, l.engine, ref, latest, img.ID, creds)
	})
	return l.pushErr
}

// pushWithLatest pushes ref, and the latest tag when it names the same
// image (ship build just made it): Kamal's build pushes both tags.
func pushWithLatest(ctx context.Context, local client.APIClient, ref, latest, id string, creds delivery.Credentials) error {
	if err := delivery.Push(ctx, local, ref, creds); err != nil {
		return err
	}
	if info, err := local.ImageInspect(ctx, latest); err != nil || info.ID != id {
		return nil // another version's build, or none
	}
	return delivery.Push(ctx, local, latest, creds)
}

// tagLatest tags the version IMAGE:latest on a host where every role now
// runs it, as Kamal does once a version has booted: the tag names what
// the host serves. A tag that fails is reported; the swap stands.
func tagLatest(ctx context.Context, h *host.Host, c *config.Config, version string, out io.Writer) {
	latest := spec.LatestRef(c)
	if err := h.Docker.ImageTag(ctx, spec.ImageRef(c, version), latest); err != nil {
		fmt.Fprintf(out, "tag %s: %v\n", latest, err)
	}
}

func (l *localImage) open(ctx context.Context, ref string) (*delivery.Image, error) {
	if l == nil || l.engine == nil {
		return nil, errors.New("no local Docker Engine")
	}
	l.once.Do(func() { l.img, l.err = delivery.Open(ctx, l.engine, ref) })
	return l.img, l.err
}

func (l *localImage) close() {
	if l != nil && l.img != nil {
		l.img.Close()
	}
}

// Deliver puts the version's image on every host (a registry push and
// pulls, or layers over SSH), a few hosts at once.
func Deliver(ctx context.Context, c *config.Config, hosts map[string]*host.Host, local client.APIClient, version string, out *fleet.Output, terminal bool) error {
	l := &localImage{engine: local, terminal: terminal}
	defer l.close()
	names := make([]string, 0, len(hosts))
	for name := range hosts {
		names = append(names, name)
	}
	sort.Strings(names)
	return fleet.EachPrefixed(ctx, out, names, maxDeliveries, func(ctx context.Context, name string, w io.Writer) error {
		_, err := ensureImage(ctx, hosts[name], l, c, spec.ImageRef(c, version), w)
		return err
	})
}

// Push sends the version's image from the local engine to the registry,
// with the latest tag when that is the same image.
func Push(ctx context.Context, c *config.Config, local client.APIClient, version string) error {
	if !usesRegistry(c) {
		return errors.New("no registry is configured: ship sends images to the hosts over SSH (ship build deliver)")
	}
	ref := spec.ImageRef(c, version)
	info, err := local.ImageInspect(ctx, ref)
	if err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return pushWithLatest(ctx, local, ref, spec.LatestRef(c), info.ID, credentials(c))
}
