package main

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"

	"github.com/shipdeploy/ship/internal/testhost"
)

// Without a registry: ship builds the image with the local engine and
// sends h2 (its own engine) only the layers it lacks. After a code-only
// change the second deploy sends just the changed layer.
func TestBuildAndDeployWithoutRegistry(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	a := deployedApp(t, "rl", h2)
	// The project builds its own image: a big base file, the app, and a
	// small "code" file that changes between deploys.
	base := make([]byte, 20<<20)
	rand.Read(base)
	os.WriteFile(filepath.Join(a.dir, "base.bin"), base, 0o644)
	os.WriteFile(filepath.Join(a.dir, "code.txt"), []byte("release 1\n"), 0o644)
	os.WriteFile(filepath.Join(a.dir, "Dockerfile"), []byte("FROM scratch\nCOPY base.bin /base.bin\nCOPY app /app\nCOPY code.txt /code.txt\nENTRYPOINT [\"/app\"]\n"), 0o644)
	os.WriteFile(filepath.Join(a.dir, ".dockerignore"), []byte(".ship\nconfig\n"), 0o644)
	build := exec.Command("go", "build", "-o", filepath.Join(a.dir, "app"), "./examples/app")
	build.Dir = filepath.Join(pkgDir, "../..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the app: %v\n%s", err, out)
	}
	local := dockerClient(t, h1)
	remote := dockerClient(t, h2)
	clean := func() {
		for _, v := range []string{"r1", "r2", "r3"} {
			local.ImageRemove(context.Background(), "ship-it-rl:"+v, image.RemoveOptions{})
			remote.ImageRemove(context.Background(), "ship-it-rl:"+v, image.RemoveOptions{Force: true})
		}
	}
	clean() // h2 must start without them: ship sends them
	t.Cleanup(clean)

	out := a.mustShip(t, "setup", "--version", "r1")
	if !strings.Contains(out, "built ship-it-rl:r1") || !strings.Contains(out, "sent 3 of 3 layers") {
		t.Fatalf("first deploy should build and send every layer:\n%s", out)
	}
	os.WriteFile(filepath.Join(a.dir, "code.txt"), []byte("release 2\n"), 0o644)
	out = a.mustShip(t, "deploy", "--version", "r2")
	m := regexp.MustCompile(`sent (\d+) of 3 layers, ([0-9.]+) MB`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("second deploy did not report what it sent:\n%s", out)
	}
	mb, _ := strconv.ParseFloat(m[2], 64)
	if m[1] != "1" || mb > 0.1 {
		t.Errorf("a code-only change sent %s layers, %.2f MB; want 1 small layer", m[1], mb)
	}
	if v := a.mustShip(t, "app", "version"); !strings.Contains(v, h2.Addr+" web: r2") {
		t.Errorf("h2 is not on r2:\n%s", v)
	}
	// The same version rebuilt with other content must replace the image
	// on the host, not keep the stale one under the same tag.
	os.WriteFile(filepath.Join(a.dir, "code.txt"), []byte("release 2, fixed\n"), 0o644)
	if out := a.mustShip(t, "deploy", "--version", "r2"); !strings.Contains(out, "sent 1 of 3 layers") {
		t.Errorf("a rebuilt r2 was not sent again:\n%s", out)
	}

	// build deliver: built and on the host, not deployed.
	os.WriteFile(filepath.Join(a.dir, "code.txt"), []byte("release 3\n"), 0o644)
	out = a.mustShip(t, "build", "deliver", "--version", "r3")
	if !strings.Contains(out, "built ship-it-rl:r3") || !strings.Contains(out, "sent 1 of 3 layers") {
		t.Errorf("build deliver:\n%s", out)
	}
	if _, err := dockerClient(t, h2).ImageInspect(context.Background(), "ship-it-rl:r3"); err != nil {
		t.Errorf("build deliver did not put r3 on h2: %v", err)
	}
	if v := a.mustShip(t, "app", "version"); !strings.Contains(v, h2.Addr+" web: r2") {
		t.Errorf("build deliver changed the running version:\n%s", v)
	}
	info, err := dockerClient(t, h2).ImageInspect(context.Background(), "ship-it-rl:r2")
	want, _ := local.ImageInspect(context.Background(), "ship-it-rl:r2")
	if err != nil || info.ID != want.ID {
		t.Errorf("the image on h2 is %q, locally %q (%v)", info.ID, want.ID, err)
	}
}
