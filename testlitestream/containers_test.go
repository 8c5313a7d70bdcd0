package testlitestream

import (
	"bytes"
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

func dockerClient(t *testing.T, host string) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("docker client for %s: %v", host, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// unique is a container or volume name no other test uses.
func unique(what string) string {
	return "testlitestream-" + what + "-" + strings.ToLower(rand.Text()[:8])
}

// newVolume creates a volume for the test and returns its name and where
// its files are on this machine. Both test hosts keep their volumes on this
// machine's file system, so the test can read and write them directly.
func newVolume(t *testing.T, cli *client.Client) (name, dir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := cli.VolumeCreate(ctx, volume.CreateOptions{Name: unique("vol")})
	if err != nil {
		t.Fatalf("create volume: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cli.VolumeRemove(ctx, v.Name, true); err != nil {
			t.Errorf("remove volume %s: %v", v.Name, err)
		}
	})
	return v.Name, v.Mountpoint
}

// litestreamContainer is a container of a Litestream image with, if set,
// its configuration mounted read-only at /etc/litestream.yml, where
// Litestream looks by default, and the S3 credentials in its environment.
type litestreamContainer struct {
	image  string
	config string // path of the configuration file on this machine
	s3     *S3
	mounts []mount.Mount
}

// start creates and starts a container running args, and removes it when
// the test ends, after logging its output if the test failed.
func (c litestreamContainer) start(t *testing.T, cli *client.Client, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := unique(args[0])
	cfg := &container.Config{Image: c.image, Cmd: args}
	if c.s3 != nil {
		cfg.Env = []string{
			"LITESTREAM_ACCESS_KEY_ID=" + c.s3.AccessKey,
			"LITESTREAM_SECRET_ACCESS_KEY=" + c.s3.SecretKey,
		}
	}
	// A copy: appending must not write into c.mounts.
	hostCfg := &container.HostConfig{Mounts: slices.Clone(c.mounts)}
	if c.config != "" {
		hostCfg.Mounts = append(hostCfg.Mounts, mount.Mount{Type: mount.TypeBind, Source: c.config, Target: "/etc/litestream.yml", ReadOnly: true})
	}
	created, err := cli.ContainerCreate(ctx, cfg, hostCfg, nil, nil, name)
	if err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if t.Failed() {
			t.Logf("output of %s %v:\n%s", name, args, logs(ctx, cli, created.ID))
		}
		if err := cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true}); err != nil {
			t.Errorf("remove container %s: %v", name, err)
		}
	})
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start container %s: %v", name, err)
	}
	return created.ID
}

// run runs args in a container to its end and returns its exit code and
// output.
func (c litestreamContainer) run(t *testing.T, cli *client.Client, args ...string) (int64, string) {
	t.Helper()
	id := c.start(t, cli, args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitC, errC := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case res := <-waitC:
		return res.StatusCode, logs(ctx, cli, id)
	case err := <-errC:
		t.Fatalf("wait for %v: %v", args, err)
		return 0, ""
	}
}

// logs is a container's stdout and stderr, interleaved.
func logs(ctx context.Context, cli *client.Client, id string) string {
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return "(no logs: " + err.Error() + ")"
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil {
		out.WriteString("(logs cut short: " + err.Error() + ")")
	}
	return out.String()
}
