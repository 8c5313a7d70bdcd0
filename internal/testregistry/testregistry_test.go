package testregistry

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/shipdeploy/ship/engine"
	"github.com/shipdeploy/ship/internal/testhost"
)

func TestPushFromOneEnginePullOnTheOther(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	r := Start(t)
	if !strings.HasPrefix(r.Server, hostIP+":") {
		t.Fatalf("Server = %q, want %s:PORT", r.Server, hostIP)
	}
	one := dockerClient(t, h1.DockerHost)
	two := dockerClient(t, h2.DockerHost)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Content of its own, so h2 cannot already hold the image.
	unique := strings.ToLower(rand.Text())
	local := "testregistry-" + unique + ":1"
	id := buildImage(t, ctx, one, local, unique)
	remote := r.Server + "/testregistry/img:1"
	if err := one.ImageTag(ctx, local, remote); err != nil {
		t.Fatalf("tag %s as %s: %v", local, remote, err)
	}
	t.Cleanup(func() { untag(t, one, remote) })

	good := encodeAuth(t, r.Server, r.Username, r.Password)
	bad := encodeAuth(t, r.Server, r.Username, "wrong-"+r.Password)

	err := push(ctx, one, remote, bad)
	wantAuthFailure(t, "push with a wrong password", err)
	if err := push(ctx, one, remote, good); err != nil {
		t.Fatalf("push %s: %v", remote, err)
	}

	t.Cleanup(func() { untag(t, two, remote) })
	err = pull(ctx, two, remote, "")
	wantAuthFailure(t, "pull without credentials", err)
	if err := pull(ctx, two, remote, good); err != nil {
		t.Fatalf("pull %s on h2: %v", remote, err)
	}
	got, err := two.ImageInspect(ctx, remote)
	if err != nil {
		t.Fatalf("inspect %s on h2: %v", remote, err)
	}
	if got.ID != id {
		t.Errorf("h2 pulled image %s, h1 pushed %s", got.ID, id)
	}
}

func TestCleanupStopsRegistryAndForgetsCA(t *testing.T) {
	var server string
	if !t.Run("running", func(t *testing.T) {
		server = Start(t).Server
		if _, err := os.Stat(filepath.Join(certsDir, server, "ca.crt")); err != nil {
			t.Errorf("the engines do not trust the registry: %v", err)
		}
	}) {
		return
	}
	if server == "" { // the subtest skipped: there is nothing to clean up
		t.Skip("no registry was started")
	}
	if _, err := os.Stat(filepath.Join(certsDir, server)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s/%s outlived the test: %v", certsDir, server, err)
	}
	if conn, err := net.DialTimeout("tcp", server, time.Second); err == nil {
		conn.Close()
		t.Errorf("the registry at %s still answers after the test", server)
	}
}

func dockerClient(t *testing.T, host string) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("docker client for %s: %v", host, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// buildImage builds FROM scratch an image holding content in /f, tags it
// ref, and returns its ID.
func buildImage(t *testing.T, ctx context.Context, cli *client.Client, ref, content string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range map[string]string{
		"Dockerfile": "FROM scratch\nCOPY f /f\n",
		"f":          content,
	} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{
		Tags:        []string{ref},
		Remove:      true,
		ForceRemove: true,
		// The classic builder needs nothing but the tar context.
		Version: build.BuilderV1,
	})
	if err != nil {
		t.Fatalf("build %s: %v", ref, err)
	}
	err = engine.ReadProgress(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("build %s: %v", ref, err)
	}
	t.Cleanup(func() { untag(t, cli, ref) })
	img, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatalf("inspect %s: %v", ref, err)
	}
	return img.ID
}

func encodeAuth(t *testing.T, server, username, password string) string {
	t.Helper()
	auth, err := registry.EncodeAuthConfig(registry.AuthConfig{Username: username, Password: password, ServerAddress: server})
	if err != nil {
		t.Fatalf("encode registry auth: %v", err)
	}
	return auth
}

func push(ctx context.Context, cli *client.Client, ref, auth string) error {
	body, err := cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: auth})
	if err != nil {
		return err
	}
	defer body.Close()
	return engine.ReadProgress(body)
}

func pull(ctx context.Context, cli *client.Client, ref, auth string) error {
	body, err := cli.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		return err
	}
	defer body.Close()
	return engine.ReadProgress(body)
}

// wantAuthFailure fails the test unless err is a failure to authenticate,
// rather than success or some other failure such as TLS. A wrong password
// is refused by the registry ("unauthorized: authentication required"); with
// none, the engine gives up once the registry has asked for one ("no basic
// auth credentials").
func wantAuthFailure(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded", what)
	}
	if msg := err.Error(); !strings.Contains(msg, "unauthorized") && !strings.Contains(msg, "no basic auth credentials") {
		t.Fatalf("%s failed, but not for want of authentication: %v", what, err)
	}
	t.Logf("%s failed as it should: %v", what, err)
}

// untag removes ref, and with its last tag the image. Gone already is fine.
func untag(t *testing.T, cli *client.Client, ref string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := cli.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true})
	if err != nil && !client.IsErrNotFound(err) {
		t.Errorf("remove image %s: %v", ref, err)
	}
}
