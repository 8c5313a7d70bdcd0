package testlitestream

import (
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
	"github.com/shipdeploy/ship/internal/testproc/testengine"
)

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
	return testengine.StartContainer(t, cli, unique(args[0]), cfg, hostCfg)
}

// run runs args in a container to its end and returns its exit code and
// output.
func (c litestreamContainer) run(t *testing.T, cli *client.Client, args ...string) (int64, string) {
	t.Helper()
	return testengine.WaitContainer(t, cli, c.start(t, cli, args...))
}
