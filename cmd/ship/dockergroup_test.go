package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/shipdeploy/ship/delivery"
	"github.com/shipdeploy/ship/internal/testhost"
)

// As a user in the docker group who cannot read /var/lib/docker (a GitHub
// Actions runner): the built ship sends h2 every layer on the first
// deploy, and after a code-only change only the changed one, read by the
// local engine for it; h2 runs the new version.
func TestDeliveryAsDockerGroupUser(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	bin := shipBinary(t)
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	var sock syscall.Stat_t
	if err := syscall.Stat(strings.TrimPrefix(h1.DockerHost, "unix://"), &sock); err != nil {
		t.Fatal(err)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{sock.Gid}}
	local, remote := dockerClient(t, h1), dockerClient(t, h2)
	info, err := local.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The user this test runs ship as may use the engine, not read its store.
	asUser := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(name, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		return cmd
	}
	if err := asUser("ls", filepath.Join(info.DockerRootDir, "image")).Run(); err == nil {
		t.Fatalf("nobody can read %s: this test needs a user who cannot", info.DockerRootDir)
	}
	if out, err := asUser("test", "-r", strings.TrimPrefix(h1.DockerHost, "unix://")).CombinedOutput(); err != nil {
		t.Fatalf("nobody cannot use the engine's socket: %v %s", err, out)
	}

	// Everything the user needs, owned by it: ship, the project, the SSH
	// key and known_hosts, a home.
	work, err := os.MkdirTemp("", "ship-dockergroup-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	os.Chmod(work, 0o755)
	copyFile := func(from, to string, mode os.FileMode) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, mode); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(bin, filepath.Join(work, "ship"), 0o755)
	copyFile(h2.KeyPath, filepath.Join(work, "key"), 0o600)
	copyFile(h2.KnownHostsPath, filepath.Join(work, "known_hosts"), 0o644)
	service := "dgread"
	port := freePort(t)
	dir := filepath.Join(work, "project")
	files := map[string]string{
		"config/deploy.yml": fmt.Sprintf(`service: %[1]s
image: ship-it-%[1]s
servers:
  web:
    hosts: [%[2]s]
    options:
      publish: 127.0.0.1:%[3]d:3000
volumes:
  - %[1]s_data:/data
env:
  clear:
    DATABASE_PATH: /data/app.sqlite3
    PORT: 3000
healthcheck:
  path: /up
  port: 3000
deploy_timeout: 8
stop_timeout: 10
ssh:
  keys_only: true
  keys: [%[4]s]
  known_hosts: [%[5]s]
`, service, h2.Addr, port, filepath.Join(work, "key"), filepath.Join(work, "known_hosts")),
		"Dockerfile":    "FROM scratch\nCOPY base.bin /base.bin\nCOPY app /app\nCOPY code.txt /code.txt\nENTRYPOINT [\"/app\"]\n",
		".dockerignore": ".ship\nconfig\n",
		"code.txt":      "release 1\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	base := make([]byte, 10<<20)
	rand.Read(base)
	os.WriteFile(filepath.Join(dir, "base.bin"), base, 0o644)
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "app"), "./examples/app")
	build.Dir = filepath.Join(pkgDir, "../..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the app: %v\n%s", err, out)
	}
	os.MkdirAll(filepath.Join(work, "home"), 0o700)
	if out, err := exec.Command("chown", "-R", nobody.Uid+":"+nobody.Gid, work).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}

	run := func(args ...string) string {
		t.Helper()
		cmd := asUser(filepath.Join(work, "ship"), args...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(work, "home"), "DOCKER_HOST=" + h1.DockerHost}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ship %s as nobody: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	clean := func() {
		ctx := context.Background()
		ship(t, dir, "app", "remove", "--yes")
		for _, v := range []string{"d1", "d2", "latest"} {
			local.ImageRemove(ctx, "ship-it-"+service+":"+v, image.RemoveOptions{})
			remote.ImageRemove(ctx, "ship-it-"+service+":"+v, image.RemoveOptions{Force: true})
		}
		remote.VolumeRemove(ctx, service+"_data", true)
	}
	clean()
	t.Cleanup(clean)

	sent := regexp.MustCompile(`sent (\d+) of 3 layers, ([0-9.]+) MB in [0-9.]+s \(([^)]*)\)`)
	out := run("setup", "--version", "d1")
	m := sent.FindStringSubmatch(out)
	// h2 has none of the layers: the engine's save, streamed, is as fast.
	if m == nil || m[1] != "3" || m[3] != delivery.FromSaveStream.String() {
		t.Fatalf("the first deploy should send all 3 layers %s:\n%s", delivery.FromSaveStream, out)
	}
	t.Logf("first deploy as nobody: %s", m[0])
	os.WriteFile(filepath.Join(dir, "code.txt"), []byte("release 2\n"), 0o644)
	out = run("deploy", "--version", "d2")
	m = sent.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the code-only deploy did not say what it sent:\n%s", out)
	}
	t.Logf("code-only deploy as nobody: %s", m[0])
	if mb, _ := strconv.ParseFloat(m[2], 64); m[1] != "1" || mb > 0.1 || m[3] != delivery.FromEngine.String() {
		t.Errorf("a code-only change sent %s layers, %s MB (%s); want 1 small layer %s:\n%s", m[1], m[2], m[3], delivery.FromEngine, out)
	}
	sameImage(t, remote, "ship-it-"+service+":d2", local, "ship-it-"+service+":d2")
	if v := run("app", "version"); !strings.Contains(v, h2.Addr+" web: d2") {
		t.Errorf("h2 is not on d2:\n%s", v)
	}
	left, err := local.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", delivery.ReaderLabel))})
	if err != nil || len(left) != 0 {
		t.Errorf("helper containers left on the local engine: %v %v", left, err)
	}
}
