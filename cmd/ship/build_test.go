package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/engine"
	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testregistry"
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
		for _, v := range []string{"r1", "r2", "r3", "r4", "r5", "latest"} {
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
	// The local engine's layer store is readable here (root, same machine):
	// ship reads the layers from it, without a docker save.
	if !strings.Contains(out, "(read from the local layer store)") {
		t.Errorf("first deploy did not read the local layer store:\n%s", out)
	}
	os.WriteFile(filepath.Join(a.dir, "code.txt"), []byte("release 2\n"), 0o644)
	out = a.mustShip(t, "deploy", "--version", "r2")
	m := regexp.MustCompile(`sent (\d+) of 3 layers, ([0-9.]+) MB`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("second deploy did not report what it sent:\n%s", out)
	}
	mb, _ := strconv.ParseFloat(m[2], 64)
	if m[1] != "1" || mb > 0.1 || !strings.Contains(out, "(read from the local layer store)") {
		t.Errorf("a code-only change sent %s layers, %.2f MB; want 1 small layer read from the local layer store:\n%s", m[1], mb, out)
	}
	info, err := remote.ImageInspect(context.Background(), "ship-it-rl:r2")
	if want, _ := local.ImageInspect(context.Background(), "ship-it-rl:r2"); err != nil || info.ID != want.ID {
		t.Errorf("after a code-only change, r2 on h2 is %q, locally %q (%v)", info.ID, want.ID, err)
	}
	if v := a.mustShip(t, "app", "version"); !strings.Contains(v, h2.Addr+" web: r2") {
		t.Errorf("h2 is not on r2:\n%s", v)
	}
	// Kamal's latest tag: locally on the newest build, on h2 on the
	// version it serves.
	sameImage(t, local, "ship-it-rl:latest", local, "ship-it-rl:r2")
	sameImage(t, remote, "ship-it-rl:latest", local, "ship-it-rl:r2")
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
	sameImage(t, local, "ship-it-rl:latest", local, "ship-it-rl:r3")
	sameImage(t, remote, "ship-it-rl:latest", local, "ship-it-rl:r2")
	info, err = dockerClient(t, h2).ImageInspect(context.Background(), "ship-it-rl:r2")
	want, _ := local.ImageInspect(context.Background(), "ship-it-rl:r2")
	if err != nil || info.ID != want.ID {
		t.Errorf("the image on h2 is %q, locally %q (%v)", info.ID, want.ID, err)
	}
	imageWhileQueued(t, a, h2, remote)
}

// imageWhileQueued: a deploy sends its image while it waits for the
// queue (here behind a freeze), checks once admitted that the image is
// still there (a prune of an older container of the same version may have
// removed it meanwhile), and a deploy that never runs takes its image
// back.
func imageWhileQueued(t *testing.T, a *app, h2 *testhost.Host, remote client.APIClient) {
	shipBinary(t)
	ctx := context.Background()
	a.mustShip(t, "lock", "acquire", "-m", "holding deploys for the test")
	t.Cleanup(func() { a.ship(t, "lock", "release") })
	os.WriteFile(filepath.Join(a.dir, "code.txt"), []byte("release 4\n"), 0o644)
	ended := make(chan string, 1)
	var output lockedBuffer
	deploy := a.proc(t, nil, "deploy", "--version", "r4")
	deploy.Stdout, deploy.Stderr = &output, &output
	go func() {
		err := deploy.Run()
		ended <- fmt.Sprintf("%s(exit: %v)", output.String(), err)
	}()
	a.waitQueued(t, "r4")
	// Its delivery has ended (a prune that took the image as it arrived
	// is TestImagesEnsureSendsAgainAnImageRemovedAsItArrived's).
	waitFor(t, "r4 to reach "+h2.Addr+" while its deploy waits for the queue", func() bool {
		_, err := remote.ImageInspect(ctx, "ship-it-rl:r4")
		return err == nil && strings.Contains(output.String(), "sent 1 of 3 layers")
	})
	select {
	case out := <-ended:
		t.Fatalf("the deploy of r4 ended during the freeze:\n%s", out)
	default:
	}
	// As a prune admitted meanwhile would: the tag goes.
	if _, err := remote.ImageRemove(ctx, "ship-it-rl:r4", image.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	a.mustShip(t, "lock", "release")
	out := <-ended
	if !strings.Contains(out, "image ship-it-rl:r4 was removed while the deploy waited for the queue: sending it again") ||
		strings.Count(out, "sent 1 of 3 layers") != 2 || !strings.Contains(out, "(exit: <nil>)") {
		t.Errorf("the deploy of r4, whose image went while it waited:\n%s", out)
	}
	if v := a.mustShip(t, "app", "version"); !strings.Contains(v, h2.Addr+" web: r4") {
		t.Errorf("h2 is not on r4:\n%s", v)
	}

	// A deploy that times out in the queue leaves no image behind.
	a.mustShip(t, "lock", "acquire", "-m", "holding deploys for the test")
	os.WriteFile(filepath.Join(a.dir, "code.txt"), []byte("release 5\n"), 0o644)
	out, errOut, code := a.ship(t, "deploy", "--version", "r5", "--queue-timeout", "4s")
	if code != exitFailed || !strings.Contains(out, "sent 1 of 3 layers") ||
		!strings.Contains(out, "removed image ship-it-rl:r5 again: this deploy sent it, and never ran it") {
		t.Errorf("a deploy that timed out in the queue: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := remote.ImageInspect(ctx, "ship-it-rl:r5"); err == nil {
		t.Errorf("r5, never deployed, is still on %s", h2.Addr)
	}
	a.mustShip(t, "lock", "release")
}

// A Dockerfile FROM an image in the app's private registry builds: the
// local engine pulls it with the registry's login from the secrets, which
// appears in no output and no command line. With a wrong password the
// pull is refused, so the build really went to the registry. ship build
// push sends the version and the latest tag.
func TestBuildPullsPrivateBaseImage(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	reg := testregistry.Start(t)
	local := dockerClient(t, h1)
	ctx := context.Background()
	base := reg.Server + "/private-base:v1"
	testapp.Image(t, h1.DockerHost, "ship-private-base:v1", testapp.ImageOptions{})
	if err := local.ImageTag(ctx, "ship-private-base:v1", base); err != nil {
		t.Fatal(err)
	}
	auth, _ := registry.EncodeAuthConfig(registry.AuthConfig{Username: reg.Username, Password: reg.Password, ServerAddress: reg.Server})
	rc, err := local.ImagePush(ctx, base, image.PushOptions{RegistryAuth: auth})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()
	removeTags := func(refs ...string) {
		for _, ref := range refs {
			local.ImageRemove(ctx, ref, image.RemoveOptions{})
		}
	}
	// The build must pull it: only the registry has this name now.
	removeTags(base)
	built := reg.Server + "/ship-it-privbase"
	t.Cleanup(func() { removeTags(base, built+":p1", built+":latest") })

	dir := project(t, map[string]string{
		"config/deploy.yml": "service: privbase\nimage: ship-it-privbase\nservers: [" + h1.Addr + "]\n" +
			"registry:\n  server: " + reg.Server + "\n  username: " + reg.Username + "\n  password: [REGISTRY_PASSWORD]\n" +
			"builder:\n  context: .\n",
		".ship/secrets": "REGISTRY_PASSWORD=wrong-password\n",
		"Dockerfile":    "FROM " + base + "\nLABEL built=on-private-base\n",
	})
	_, errOut, code := ship(t, dir, "build", "--version", "p1")
	if code == 0 || !strings.Contains(errOut, "unauthorized") {
		t.Fatalf("a build with a wrong registry password: exit %d\n%s", code, errOut)
	}

	os.WriteFile(filepath.Join(dir, ".ship/secrets"), []byte("REGISTRY_PASSWORD="+reg.Password+"\n"), 0o644)
	argv := testapp.ScanArgv(t, reg.Password)
	out, errOut, code := ship(t, dir, "build", "push", "--version", "p1")
	if code != 0 {
		t.Fatalf("ship build push FROM the private registry: exit %d\n%s\n%s", code, out, errOut)
	}
	img, err := local.ImageInspect(ctx, built+":p1")
	if err != nil || img.Config.Labels["built"] != "on-private-base" {
		t.Fatalf("the built image: %v %v", err, img.Config)
	}
	// Kamal pushes the build's latest tag beside its version: the registry
	// has it, and it is this build.
	removeTags(built + ":latest")
	rc, err = local.ImagePull(ctx, built+":latest", image.PullOptions{RegistryAuth: auth})
	if err == nil {
		err = engine.ReadProgress(rc)
		rc.Close()
	}
	if err != nil {
		t.Fatalf("pull %s:latest from the registry: %v", built, err)
	}
	sameImage(t, local, built+":latest", local, built+":p1")
	if strings.Contains(out+errOut, reg.Password) {
		t.Error("the registry password appeared in ship's output")
	}
	if leaks := argv.Stop(); len(leaks) > 0 {
		t.Errorf("the registry password appeared in a command line: %v", leaks)
	}
}

// sameImage fails the test unless ref on engine a is the image want is on b.
func sameImage(t *testing.T, a client.APIClient, ref string, b client.APIClient, want string) {
	t.Helper()
	got, err := a.ImageInspect(context.Background(), ref)
	w, werr := b.ImageInspect(context.Background(), want)
	if err != nil || werr != nil || got.ID != w.ID {
		t.Errorf("%s is %q (%v), want %s's image %q (%v)", ref, got.ID, err, want, w.ID, werr)
	}
}

// lockedBuffer is a process's output that a test reads while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
