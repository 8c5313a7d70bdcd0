package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/delivery"
)

// ensureImage makes sure ref is on the host: it is there already, or the
// local engine has it and the layers the host lacks are sent over the SSH
// connection, or it is pulled from the registry.
func ensureImage(ctx context.Context, h *Host, local *localImage, c *config.Config, ref string, out io.Writer) error {
	if _, err := h.Docker.ImageInspect(ctx, ref); err == nil {
		fmt.Fprintf(out, "image %s is on the host\n", ref)
		return nil
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("inspect image %s: %w", ref, err)
	}
	img, err := local.open(ctx, ref)
	if err != nil {
		if c.Registry.Server == "" && c.Registry.Username == "" {
			return fmt.Errorf("image %s is neither on the host nor in the local Docker Engine: build it first", ref)
		}
		return pullImage(ctx, h, c, ref, out)
	}
	fmt.Fprintf(out, "sending image %s over SSH (%.1f MB in all)\n", ref, float64(img.Size)/1e6)
	st, err := img.Send(ctx, h.Docker, delivery.Progress(out, ref, local.terminal))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sent %d of %d layers, %.1f MB in %.1fs\n", st.Sent, st.Layers, float64(st.Bytes)/1e6, st.Took.Seconds())
	return nil
}

// localImage is the version's image in the local engine, saved at most
// once however many hosts need it.
type localImage struct {
	engine   client.APIClient
	terminal bool
	once     sync.Once
	img      *delivery.Image
	err      error
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

func pullImage(ctx context.Context, h *Host, c *config.Config, ref string, out io.Writer) error {
	auth, err := registry.EncodeAuthConfig(registry.AuthConfig{
		Username: c.Registry.Username, Password: c.Registry.Password.Reveal(), ServerAddress: c.Registry.Server,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "pulling image %s\n", ref)
	rc, err := h.Docker.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		return fmt.Errorf("pull image %s: %w", ref, err)
	}
	defer rc.Close()
	if err := readProgress(rc); err != nil {
		return fmt.Errorf("pull image %s: %w", ref, err)
	}
	return nil
}

// readProgress drains a JSON message stream, returning the error it
// reports, which the engine sends in-band with a 200 status.
func readProgress(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if msg.Error != "" {
			return fmt.Errorf("%s", msg.Error)
		}
	}
}
