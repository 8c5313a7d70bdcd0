package testengine_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testproc"
	"github.com/shipdeploy/ship/internal/testproc/testengine"
)

// Image builds a FROM scratch image of a cached binary once, and its
// containers run that binary.
func TestImage(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	cli := testengine.DockerClient(t, h1.DockerHost)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	name := "testproc-echo-" + strings.ToLower(rand.Text()[:8])
	tag := name + ":test"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := cli.ImageRemove(ctx, tag, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Errorf("remove image %s: %v", tag, err)
		}
		if ok, err := testengine.HasImage(ctx, cli, tag); ok || err != nil {
			t.Errorf("HasImage after removal = %v, %v", ok, err)
		}
	})

	bin := testproc.GoBinary{Name: "echo", Dir: t.TempDir(), Build: testproc.GoBuild("github.com/shipdeploy/ship/internal/testproxy/internal/echo", []string{"CGO_ENABLED=0"}, "-trimpath")}
	files := func(bin string) []testengine.ContextFile {
		files := []testengine.ContextFile{{Name: "Dockerfile", Mode: 0o644, Data: "FROM scratch\nCOPY rootfs/ /\nENTRYPOINT [\"/usr/local/bin/echo\"]\n"}}
		return append(files, testengine.RootFS(bin, "echo")...)
	}
	if got := testengine.Image(t, h1.DockerHost, tag, bin, files); got != tag {
		t.Fatalf("Image = %q, want %q", got, tag)
	}
	if ok, err := testengine.HasImage(ctx, cli, tag); !ok || err != nil {
		t.Fatalf("HasImage after Image = %v, %v", ok, err)
	}
	// With no port to listen on, echo exits saying why.
	id := testengine.StartContainer(t, cli, name, &container.Config{Image: tag, Env: []string{"PORT=none"}}, nil)
	if code, out := testengine.WaitContainer(t, cli, id); code == 0 || !strings.Contains(out, "listen tcp") {
		t.Errorf("echo exited %d, printed %q; want a failure to listen", code, out)
	}

	// An engine that has the tag is not touched.
	bin.Build = func(context.Context, string) error {
		t.Error("Image built again")
		return nil
	}
	if got := testengine.Image(t, h1.DockerHost, tag, bin, files); got != tag {
		t.Errorf("second Image = %q, want %q", got, tag)
	}

	// A failed build step is an error.
	err := testengine.BuildImage(ctx, cli, name+":broken", []testengine.ContextFile{
		{Name: "Dockerfile", Mode: 0o644, Data: "FROM scratch\nCOPY missing /missing\n"},
	})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("BuildImage of a broken context = %v, want an error naming the missing file", err)
	}
}
