package follower

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// oneOff runs a litestream command on the copy in a container of its own,
// to its end, and returns its exit status, standard output and standard
// error. The container is removed whatever happens.
func (l litestream) oneOff(ctx context.Context, h *host.Host, c *config.Config, cp copyOf, task string, cmd ...string) (int, string, string, error) {
	cc, hc := l.oneOffSpec(c, cp, cmd)
	name := cp.Follower + "-" + task + "-" + strings.ToLower(rand.Text()[:6])
	created, err := h.Docker.ContainerCreate(ctx, cc, hc, nil, nil, name)
	if err != nil {
		return 0, "", "", fmt.Errorf("create %s: %w", name, err)
	}
	defer h.Docker.ContainerRemove(context.WithoutCancel(ctx), created.ID, container.RemoveOptions{Force: true})
	waitC, errC := h.Docker.ContainerWait(ctx, created.ID, container.WaitConditionNextExit)
	if err := h.Docker.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return 0, "", "", fmt.Errorf("start %s: %w", name, err)
	}
	var status int
	select {
	case res := <-waitC:
		status = int(res.StatusCode)
	case err := <-errC:
		return 0, "", "", fmt.Errorf("wait for %s: %w", name, err)
	}
	rc, err := h.Docker.ContainerLogs(ctx, created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return status, "", "", fmt.Errorf("read the output of %s: %w", name, err)
	}
	defer rc.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, rc); err != nil {
		return status, "", "", fmt.Errorf("read the output of %s: %w", name, err)
	}
	return status, stdout.String(), stderr.String(), nil
}
