package testapp

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/shipdeploy/ship/internal/testhost"
)

// unique returns a name no other test or run uses.
func unique(what string) string {
	return "testapp-" + what + "-" + strings.ToLower(rand.Text()[:10])
}

const appPort = nat.Port("3000/tcp")

// appContainer is a container of the example app, removed with its data
// volume when the test ends.
type appContainer struct {
	t   testing.TB
	cli *client.Client
	ID  string
	URL string // where the app answers on loopback, if published
}

// createApp creates a container of image labelled with labels. With publish,
// the app gets a named data volume and a port on 127.0.0.1 that the engine
// picks, so no two tests race for one.
func createApp(t testing.TB, cli *client.Client, image string, labels map[string]string, publish bool) *appContainer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := unique("app")
	cfg := &container.Config{Image: image, Labels: labels, Env: []string{"SHIP_VERSION=" + name}}
	hostCfg := &container.HostConfig{}
	if publish {
		cfg.ExposedPorts = nat.PortSet{appPort: {}}
		hostCfg.PortBindings = nat.PortMap{appPort: {{HostIP: "127.0.0.1"}}}
		hostCfg.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: name, Target: "/data"}}
	}
	created, err := cli.ContainerCreate(ctx, cfg, hostCfg, nil, nil, name)
	if err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true}); err != nil {
			t.Errorf("remove container %s: %v", name, err)
		}
		if publish {
			if err := cli.VolumeRemove(ctx, name, false); err != nil {
				t.Errorf("remove volume %s: %v", name, err)
			}
		}
	})
	return &appContainer{t: t, cli: cli, ID: created.ID}
}

func (c *appContainer) start() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		c.t.Fatalf("start container %s: %v", c.ID, err)
	}
	inspect, err := c.cli.ContainerInspect(ctx, c.ID)
	if err != nil {
		c.t.Fatalf("inspect container %s: %v", c.ID, err)
	}
	if b := inspect.NetworkSettings.Ports[appPort]; len(b) > 0 {
		c.URL = "http://127.0.0.1:" + b[0].HostPort
	}
}

func (c *appContainer) stop() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.cli.ContainerStop(ctx, c.ID, container.StopOptions{}); err != nil {
		c.t.Fatalf("stop container %s: %v", c.ID, err)
	}
}

// waitUp polls GET /up until the app answers, and returns its status.
func waitUp(t testing.TB, baseURL string) int {
	t.Helper()
	client := newHTTPClient(requestTimeout)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(baseURL + "/up")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/up: no answer in 30 s: %v", baseURL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestImageKeepsWrites(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ref := unique("image") + ":v1"
	id := Image(t, h1.DockerHost, ref, ImageOptions{})
	if !strings.HasPrefix(id, "sha256:") {
		t.Errorf("Image returned %q, want an image ID", id)
	}

	cli := dockerClient(t, h1.DockerHost)
	app := createApp(t, cli, id, nil, true)
	app.start()
	if status := waitUp(t, app.URL); status != http.StatusOK {
		t.Fatalf("GET %s/up = %d, want 200", app.URL, status)
	}
	w := StartWriter(t, app.URL, 20*time.Millisecond)
	time.Sleep(time.Second)
	acked, failed := w.Stop()
	if failed != 0 {
		t.Errorf("%d writes failed against a steady app", failed)
	}
	if len(acked) <= 10 {
		t.Errorf("%d writes acknowledged in 1 s, want more than 10", len(acked))
	}
	Durable(t, app.URL, acked)
}

func TestImageOnH2(t *testing.T) {
	_, h2 := testhost.Hosts(t)
	ref := unique("image") + ":v1"
	id := Image(t, h2.DockerHost, ref, ImageOptions{})
	cli := dockerClient(t, h2.DockerHost)
	inspect, err := cli.ImageInspect(context.Background(), ref)
	if err != nil {
		t.Fatalf("inspect %s on h2: %v", ref, err)
	}
	if inspect.ID != id {
		t.Errorf("%s on h2 is %s, Image returned %s", ref, inspect.ID, id)
	}
}

func TestImageFailHealthcheck(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	id := Image(t, h1.DockerHost, unique("image")+":broken", ImageOptions{FailHealthcheck: true})
	app := createApp(t, dockerClient(t, h1.DockerHost), id, nil, true)
	app.start()
	if status := waitUp(t, app.URL); status != http.StatusServiceUnavailable {
		t.Errorf("GET %s/up = %d, want 503", app.URL, status)
	}
}

func TestVanished(t *testing.T) {
	for msg, want := range map[string]bool{
		"No such image: sha256:2e43468e0af5":                true,
		`unable to find image "sha256:ca328c29d2f5a4e53a4"`: true,
		"COPY failed: file not found in build context":      false,
	} {
		if got := vanished(errors.New(msg)); got != want {
			t.Errorf("vanished(%q) = %v, want %v", msg, got, want)
		}
	}
}
