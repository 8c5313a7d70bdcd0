package testproxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/shipdeploy/ship/internal/testproc"
	"github.com/shipdeploy/ship/internal/testproc/testengine"
)

// unique is a container, network or image name no other test uses.
func unique(what string) string {
	return "testproxy-" + what + "-" + strings.ToLower(rand.Text()[:8])
}

func timeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// newNetwork creates a user-defined network, whose DNS lets the proxy
// reach the backend by container name as ship's proxy does.
func newNetwork(t *testing.T, cli *client.Client) string {
	t.Helper()
	ctx, cancel := timeout(time.Minute)
	defer cancel()
	name := unique("net")
	if _, err := cli.NetworkCreate(ctx, name, network.CreateOptions{}); err != nil {
		t.Fatalf("create network: %v", err)
	}
	// Registered first, so it runs after the containers' cleanups.
	t.Cleanup(func() {
		ctx, cancel := timeout(time.Minute)
		defer cancel()
		if err := cli.NetworkRemove(ctx, name); err != nil {
			t.Errorf("remove network %s: %v", name, err)
		}
	})
	return name
}

// freePort is a port on 127.0.0.1 nothing listens on, as far as one can
// tell before publishing it.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// run runs a container of img to its end and returns its exit code and
// output.
func run(t *testing.T, cli *client.Client, img string, args ...string) (int64, string) {
	t.Helper()
	id := testengine.StartContainer(t, cli, unique("run"), &container.Config{Image: img, Cmd: args}, nil)
	return testengine.WaitContainer(t, cli, id)
}

// execIn runs args in a running container, as docker exec does, and
// returns its exit code and output.
func execIn(t *testing.T, cli *client.Client, id string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := timeout(time.Minute)
	defer cancel()
	ex, err := cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: args, AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatalf("exec %v: %v", args, err)
	}
	att, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatalf("exec %v: %v", args, err)
	}
	defer att.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, att.Reader); err != nil {
		t.Fatalf("exec %v: read output: %v", args, err)
	}
	// The stream ends as the process does; the engine may take a moment
	// longer to record its exit code.
	for {
		ins, err := cli.ContainerExecInspect(ctx, ex.ID)
		if err != nil {
			t.Fatalf("exec %v: %v", args, err)
		}
		if !ins.Running {
			return ins.ExitCode, out.String()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("exec %v: %v", args, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// echoImage builds internal/echo into a FROM scratch image of its own,
// removed when the test ends.
func echoImage(t *testing.T, cli *client.Client) string {
	t.Helper()
	ctx, cancel := timeout(5 * time.Minute)
	defer cancel()
	echo := testproc.GoBinary{Name: "echo", Dir: t.TempDir(), Build: testproc.GoBuild("./internal/echo", []string{"CGO_ENABLED=0"}, "-trimpath")}
	bin, err := echo.Path(ctx, t)
	if err != nil {
		t.Fatal(err)
	}
	tag := unique("echo") + ":test"
	err = testengine.BuildImage(ctx, cli, tag, []testengine.ContextFile{
		{Name: "Dockerfile", Mode: 0o644, Data: "FROM scratch\nCOPY echo /echo\nENTRYPOINT [\"/echo\"]\n"},
		{Name: "echo", Mode: 0o755, Path: bin},
	})
	if err != nil {
		t.Fatalf("build echo image: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := timeout(time.Minute)
		defer cancel()
		if _, err := cli.ImageRemove(ctx, tag, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Errorf("remove image %s: %v", tag, err)
		}
	})
	return tag
}
