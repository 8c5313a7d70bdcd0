package testproxy

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testproc/testengine"
)

func TestImage(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	tag := Image(t, h1.DockerHost)
	cli := testengine.DockerClient(t, h1.DockerHost)

	code, out := run(t, cli, tag, "kamal-proxy", "--help")
	if code != 0 || !strings.Contains(out, "HTTP proxy for zero downtime deployments") {
		t.Fatalf("kamal-proxy --help: exit %d\n%s", code, out)
	}
	for _, sub := range []string{"deploy", "pause", "resume", "run"} {
		if !strings.Contains(out, "\n  "+sub+" ") {
			t.Errorf("kamal-proxy --help lacks %q:\n%s", sub, out)
		}
	}

	// kamal-proxy v0.9.2 has no version command: the module version Go
	// records in the binary says which it is.
	bi, err := buildinfo.Read(bytes.NewReader(binaryIn(t, cli, tag)))
	if err != nil {
		t.Fatalf("read build info: %v", err)
	}
	if bi.Main.Path != "github.com/basecamp/kamal-proxy" || bi.Main.Version != "v"+Version {
		t.Errorf("binary is %s %s, want github.com/basecamp/kamal-proxy v%s", bi.Main.Path, bi.Main.Version, Version)
	}

	ctx, cancel := timeout(time.Minute)
	defer cancel()
	ins, err := cli.ImageInspect(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	c := ins.Config
	if c.User != "kamal-proxy:kamal-proxy" || !slices.Equal(c.Cmd, []string{"kamal-proxy", "run"}) ||
		!slices.Contains(c.Env, "HOME=/home/kamal-proxy") || len(c.ExposedPorts) != 2 {
		t.Errorf("image config: user %q, cmd %q, env %q, ports %v", c.User, c.Cmd, c.Env, c.ExposedPorts)
	}

	// The second engine gets the image from the cached binary.
	if got := Image(t, h2.DockerHost); got != tag {
		t.Errorf("Image on h2 = %q, want %q", got, tag)
	}
}

// binaryIn copies kamal-proxy out of a container of img, never started.
func binaryIn(t *testing.T, cli *client.Client, img string) []byte {
	t.Helper()
	ctx, cancel := timeout(time.Minute)
	defer cancel()
	created, err := cli.ContainerCreate(ctx, &container.Config{Image: img}, nil, nil, nil, unique("copy"))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true})
	rc, _, err := cli.CopyFromContainer(ctx, created.ID, "/usr/local/bin/kamal-proxy")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDeployPauseResume drives kamal-proxy as ship does: deploy a backend
// container by name on a shared network, then hold requests across a
// pause and release them on resume.
func TestDeployPauseResume(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	tag := Image(t, h1.DockerHost)
	cli := testengine.DockerClient(t, h1.DockerHost)
	backendImage := echoImage(t, cli)
	netName := newNetwork(t, cli)

	port := freePort(t)
	proxy := testengine.StartContainer(t, cli, unique("proxy"), &container.Config{Image: tag}, &container.HostConfig{
		NetworkMode:  container.NetworkMode(netName),
		PortBindings: nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1", HostPort: strconv.Itoa(port)}}},
	})
	backend := unique("backend")
	testengine.StartContainer(t, cli, backend, &container.Config{Image: backendImage, Env: []string{"NAME=" + backend}}, &container.HostConfig{
		NetworkMode: container.NetworkMode(netName),
	})

	// The control socket comes up after the HTTP listeners.
	waitFor(t, 10*time.Second, func() error {
		if code, out := execIn(t, cli, proxy, "kamal-proxy", "list"); code != 0 {
			return fmt.Errorf("kamal-proxy list: exit %d: %s", code, out)
		}
		return nil
	})
	began := time.Now()
	kamalProxy(t, cli, proxy, "deploy", "svc", "--target", backend+":3000", "--health-check-path", "/up")
	t.Logf("deploy took %s", time.Since(began).Round(time.Millisecond))

	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if code, body, err := get(url); err != nil || code != 200 || body != backend {
		t.Fatalf("GET %s: %d %q %v, want 200 %q", url, code, body, err, backend)
	}
	// State is kept under $HOME, writable by the kamal-proxy user.
	ctx, cancel := timeout(time.Minute)
	defer cancel()
	if _, err := cli.ContainerStatPath(ctx, proxy, "/home/kamal-proxy/.config/kamal-proxy/kamal-proxy.state"); err != nil {
		t.Errorf("state file: %v", err)
	}

	kamalProxy(t, cli, proxy, "pause", "svc")
	type result struct {
		code int
		body string
		err  error
		at   time.Time
	}
	done := make(chan result, 1)
	sent := time.Now()
	go func() {
		code, body, err := get(url)
		done <- result{code, body, err, time.Now()}
	}()
	select {
	case r := <-done:
		t.Fatalf("GET while paused returned after %s: %d %q %v", r.at.Sub(sent), r.code, r.body, r.err)
	case <-time.After(300 * time.Millisecond):
	}
	resumed := time.Now()
	kamalProxy(t, cli, proxy, "resume", "svc")
	select {
	case r := <-done:
		if r.err != nil || r.code != 200 || r.body != backend {
			t.Fatalf("GET after resume: %d %q %v, want 200 %q", r.code, r.body, r.err, backend)
		}
		t.Logf("GET held %s, answered %s after resume began", r.at.Sub(sent).Round(time.Millisecond), r.at.Sub(resumed).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("GET still held 10s after resume")
	}
}

// kamalProxy runs kamal-proxy's client in the proxy container, as ship
// does with docker exec, and fails the test unless it succeeds.
func kamalProxy(t *testing.T, cli *client.Client, proxy string, args ...string) {
	t.Helper()
	if code, out := execIn(t, cli, proxy, append([]string{"kamal-proxy"}, args...)...); code != 0 {
		t.Fatalf("kamal-proxy %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
}

// get is an HTTP GET on a connection of its own, so that a held request
// shares nothing with the others.
func get(url string) (int, string, error) {
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitFor polls f until it succeeds, failing the test with f's last error
// after d.
func waitFor(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
