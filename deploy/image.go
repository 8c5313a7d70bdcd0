package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
)

// ensureImage makes sure ref is on the host: it is there already, or it is
// sent from the local engine over the SSH connection, or pulled from the
// registry. The image that ends up on the host is checked by ID.
func ensureImage(ctx context.Context, h *Host, local client.APIClient, c *config.Config, ref string, out io.Writer) error {
	remote, err := h.Docker.ImageInspect(ctx, ref)
	if err == nil {
		fmt.Fprintf(out, "image %s is on the host\n", ref)
		return nil
	}
	if !errdefs.IsNotFound(err) {
		return fmt.Errorf("inspect image %s: %w", ref, err)
	}
	if local != nil {
		if want, err := local.ImageInspect(ctx, ref); err == nil {
			if err := sendImage(ctx, h, local, ref, want.Size, out); err != nil {
				return err
			}
			if remote, err = h.Docker.ImageInspect(ctx, ref); err != nil || remote.ID != want.ID {
				return fmt.Errorf("image %s on the host is %s after loading, want %s (%v)", ref, remote.ID, want.ID, err)
			}
			return nil
		}
	}
	if c.Registry.Server == "" && c.Registry.Username == "" {
		return fmt.Errorf("image %s is neither on the host nor in the local Docker Engine: build it first (docker build -t %s .)", ref, ref)
	}
	return pullImage(ctx, h, c, ref, out)
}

// sendImage streams `docker save` from the local engine into `docker load`
// on the host through the SSH connection.
func sendImage(ctx context.Context, h *Host, local client.APIClient, ref string, size int64, out io.Writer) error {
	start := time.Now()
	fmt.Fprintf(out, "sending image %s (%.1f MB) over SSH\n", ref, float64(size)/1e6)
	rc, err := local.ImageSave(ctx, []string{ref})
	if err != nil {
		return fmt.Errorf("save image %s: %w", ref, err)
	}
	defer rc.Close()
	counted := &countingReader{r: rc}
	resp, err := h.Docker.ImageLoad(ctx, counted, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("load image %s on the host: %w", ref, err)
	}
	defer resp.Body.Close()
	if err := readProgress(resp.Body); err != nil {
		return fmt.Errorf("load image %s on the host: %w", ref, err)
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(out, "sent %.1f MB in %.1fs (%.1f MB/s)\n", float64(counted.n)/1e6, secs, float64(counted.n)/1e6/secs)
	return nil
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

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
