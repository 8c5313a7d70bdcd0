// Package testengine is test support on the test hosts' Docker engines:
// clients and containers that go when the test ends, and images built FROM
// scratch of a cached Go binary. It is apart from testproc because the
// engine package's own tests use testhost, which uses testproc.
package testengine

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// DockerClient is a client of the engine at host, closed when the test
// ends.
func DockerClient(t testing.TB, host string) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("docker client for %s: %v", host, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// StartContainer creates and starts a container named name, and removes
// it when the test ends, after logging its output if the test failed.
func StartContainer(t testing.TB, cli *client.Client, name string, cfg *container.Config, hostCfg *container.HostConfig) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	created, err := cli.ContainerCreate(ctx, cfg, hostCfg, nil, nil, name)
	if err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if t.Failed() {
			t.Logf("output of %s %q:\n%s", name, cfg.Cmd, ContainerLogs(ctx, cli, created.ID))
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

// WaitContainer waits, a minute at most, for the container id to exit,
// and returns its exit code and output.
func WaitContainer(t testing.TB, cli *client.Client, id string) (int64, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitC, errC := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case res := <-waitC:
		return res.StatusCode, ContainerLogs(ctx, cli, id)
	case err := <-errC:
		t.Fatalf("wait for container %.12s: %v", id, err)
		return 0, ""
	}
}

// ContainerLogs is a container's stdout and stderr, interleaved.
func ContainerLogs(ctx context.Context, cli *client.Client, id string) string {
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
