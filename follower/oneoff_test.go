package follower

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/shipdeploy/ship/host"
)

// oneOffEngine runs every container to the exit status it is given, with
// the output it is given, and records what was asked of it.
type oneOffEngine struct {
	client.APIClient
	status         int64
	stdout, stderr string
	created        []string
	cmd            []string
	removed        []string
}

func (e *oneOffEngine) ContainerCreate(_ context.Context, cc *container.Config, _ *container.HostConfig, _ *network.NetworkingConfig, _ *ocispec.Platform, name string) (container.CreateResponse, error) {
	e.created = append(e.created, name)
	e.cmd = cc.Cmd
	return container.CreateResponse{ID: "id-" + name}, nil
}

func (e *oneOffEngine) ContainerWait(context.Context, string, container.WaitCondition) (<-chan container.WaitResponse, <-chan error) {
	res := make(chan container.WaitResponse, 1)
	res <- container.WaitResponse{StatusCode: e.status}
	return res, make(chan error)
}

func (e *oneOffEngine) ContainerStart(context.Context, string, container.StartOptions) error {
	return nil
}

func (e *oneOffEngine) ContainerLogs(context.Context, string, container.LogsOptions) (io.ReadCloser, error) {
	var b bytes.Buffer
	stdcopy.NewStdWriter(&b, stdcopy.Stdout).Write([]byte(e.stdout))
	stdcopy.NewStdWriter(&b, stdcopy.Stderr).Write([]byte(e.stderr))
	return io.NopCloser(&b), nil
}

func (e *oneOffEngine) ContainerRemove(_ context.Context, id string, _ container.RemoveOptions) error {
	e.removed = append(e.removed, id)
	return nil
}

// A one-off's standard output (Litestream's JSON) comes back apart from
// its standard error (its log), with its exit status, and the container
// is gone afterwards.
func TestOneOff(t *testing.T) {
	c := shop()
	l := litestreamOf(t, c)
	cps, _ := copies(c)
	e := &oneOffEngine{status: 3, stdout: `{"max_txid": "0000000000000001"}`, stderr: "level=INFO msg=restoring\n"}
	h := &host.Host{Name: "10.0.0.2", Docker: e}
	status, stdout, stderr, err := l.oneOff(context.Background(), h, c, cps[0], "pin", "restore", "-dry-run")
	if err != nil || status != 3 || stdout != e.stdout || stderr != e.stderr {
		t.Errorf("oneOff = %d, %q, %q, %v", status, stdout, stderr, err)
	}
	if len(e.created) != 1 || !strings.HasPrefix(e.created[0], "shop-follower-production-pin-") || strings.Join(e.cmd, " ") != "restore -dry-run" {
		t.Errorf("created %q running %q", e.created, e.cmd)
	}
	if len(e.removed) != 1 || e.removed[0] != "id-"+e.created[0] {
		t.Errorf("removed %q", e.removed)
	}
}
