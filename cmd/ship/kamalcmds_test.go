package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testregistry"
	"github.com/shipdeploy/ship/proxy"
)

// Kamal's commands that ship lacked, on one deployed app: redeploy,
// app stale_containers and images, accessory directories, upload and
// upgrade, registry login and logout, and remove, which must keep the
// data.
func TestKamalCommands(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := context.Background()
	a := deployedApp(t, "kcmd", h1)
	appendConfig(t, a, "retain_containers: 1\n", "")
	docker := dockerClient(t, h1)
	// v3 is v1 under another tag: a third version without a third build.
	if err := docker.ImageTag(ctx, "ship-it-kcmd:v1", "ship-it-kcmd:v3"); err != nil {
		t.Fatal(err)
	}
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	home := filepath.Join(testhost.Dir(), "h1", "home")

	t.Run("redeploy", func(t *testing.T) {
		hooks := filepath.Join(a.dir, ".ship/hooks")
		os.MkdirAll(hooks, 0o755)
		os.WriteFile(filepath.Join(hooks, "post-deploy"), []byte("#!/bin/sh\necho \"$KAMAL_COMMAND $SHIP_VERSION\" >> hooks.log\n"), 0o755)
		defer os.Remove(filepath.Join(hooks, "post-deploy"))
		out := a.mustShip(t, "redeploy", "--skip-build", "--version", "v3")
		if log, _ := os.ReadFile(filepath.Join(a.dir, "hooks.log")); string(log) != "redeploy v3\n" {
			t.Errorf("the post-deploy hook saw %q, want the command redeploy", log)
		}
		if v := a.mustShip(t, "app", "version"); !strings.Contains(v, h1.Addr+" web: v3") {
			t.Fatalf("after redeploy:\n%s\n%s", v, out)
		}
		// A deploy keeps the running one and one more; redeploy prunes
		// nothing, so v1 is still there.
		if c := a.mustShip(t, "app", "containers"); !strings.Contains(c, "kcmd-web-v1") || strings.Contains(out, "pruned") {
			t.Errorf("redeploy pruned:\n%s\n%s", out, c)
		}
	})

	t.Run("stale_containers", func(t *testing.T) {
		// An old version started by hand beside the one that serves.
		name := "kcmd-web-old"
		docker.ContainerRemove(ctx, name, container.RemoveOptions{Force: true})
		_, err := docker.ContainerCreate(ctx, &container.Config{Image: "ship-it-kcmd:v1",
			Env:    []string{"PORT=3000", "DATABASE_PATH=/data/app.sqlite3"},
			Labels: map[string]string{"service": "kcmd", "role": "web", "ship.version": "old"}},
			&container.HostConfig{Binds: []string{"kcmd_data:/data"}}, nil, nil, name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { docker.ContainerRemove(ctx, name, container.RemoveOptions{Force: true}) })
		if err := docker.ContainerStart(ctx, name, container.StartOptions{}); err != nil {
			t.Fatal(err)
		}
		out := a.mustShip(t, "app", "stale_containers")
		want := h1.Addr + " web: WARNING: stale container " + name + " (version old) runs beside kcmd-web-v3, which serves: a second writer of the database"
		if !strings.Contains(out, want) {
			t.Fatalf("stale_containers lacks %q:\n%s", want, out)
		}
		if info, _ := docker.ContainerInspect(ctx, name); !info.State.Running {
			t.Fatal("stale_containers without --stop stopped the container")
		}

		out = a.mustShip(t, "app", "stale_containers", "--stop")
		if !strings.Contains(out, "stopped stale container "+name+" (version old); kcmd-web-v3 serves") {
			t.Errorf("stale_containers --stop:\n%s", out)
		}
		if info, _ := docker.ContainerInspect(ctx, name); info.State.Running {
			t.Error("stale_containers --stop left the old container running")
		}
		if v := a.mustShip(t, "app", "version"); !strings.Contains(v, h1.Addr+" web: v3") {
			t.Errorf("the serving version was touched:\n%s", v)
		}
		if out := a.mustShip(t, "app", "stale_containers"); !strings.Contains(out, h1.Addr+" web: no stale containers") {
			t.Errorf("after --stop:\n%s", out)
		}
		// A deploy (here a redeploy) stops one too before it swaps, as
		// Kamal's does: its repair finds two running containers.
		if err := docker.ContainerStart(ctx, name, container.StartOptions{}); err != nil {
			t.Fatal(err)
		}
		out = a.mustShip(t, "redeploy", "--skip-build", "--version", "v3")
		if info, _ := docker.ContainerInspect(ctx, name); info.State.Running || !strings.Contains(out, "stopping "+name) {
			t.Errorf("redeploy left the stale container running:\n%s", out)
		}
		if v := a.mustShip(t, "app", "version"); !strings.Contains(v, h1.Addr+" web: v3") {
			t.Errorf("after the redeploy:\n%s", v)
		}
	})

	t.Run("images", func(t *testing.T) {
		out := a.mustShip(t, "app", "images")
		for _, v := range []string{"v1", "v2", "v3"} {
			if !strings.Contains(out, h1.Addr+"  ship-it-kcmd:"+v+" ") {
				t.Errorf("app images lacks ship-it-kcmd:%s:\n%s", v, out)
			}
		}
	})

	accDir := filepath.Join(home, ".ship", "apps", "kcmd", "accessories", "worker")
	t.Run("accessory directories upload upgrade", func(t *testing.T) {
		os.WriteFile(filepath.Join(a.dir, "config/hello.txt"), []byte("first\n"), 0o644)
		appendConfig(t, a, `accessories:
  worker:
    image: ship-it-kcmd:v1
    host: `+h1.Addr+`
    env:
      clear:
        PORT: 3100
        DATABASE_PATH: /scratch/worker.sqlite3
    files:
      - config/hello.txt:/etc/hello.txt
    directories:
      - scratch:/scratch
`, "")
		t.Cleanup(func() { a.ship(t, "accessory", "remove", "all") })
		os.RemoveAll(accDir)
		out := a.mustShip(t, "accessory", "directories", "worker")
		if fi, err := os.Stat(filepath.Join(accDir, "directories", "scratch")); err != nil || !fi.IsDir() || !strings.Contains(out, "created directory") {
			t.Errorf("directories: %v\n%s", err, out)
		}
		uploaded := filepath.Join(accDir, "files", "etc", "hello.txt")
		if _, err := os.Stat(uploaded); err == nil {
			t.Error("directories uploaded the files too")
		}
		a.mustShip(t, "accessory", "upload", "worker")
		if b, _ := os.ReadFile(uploaded); string(b) != "first\n" {
			t.Errorf("upload: %q", b)
		}
		os.WriteFile(filepath.Join(a.dir, "config/hello.txt"), []byte("second\n"), 0o644)
		a.mustShip(t, "accessory", "upload", "worker")
		if b, _ := os.ReadFile(uploaded); string(b) != "second\n" {
			t.Errorf("a second upload: %q", b)
		}
		if d := a.mustShip(t, "accessory", "details", "worker"); !strings.Contains(d, "not booted") {
			t.Errorf("directories or upload booted the accessory:\n%s", d)
		}

		_, errOut, code := a.ship(t, "accessory", "upgrade", "worker")
		if code == 0 || !strings.Contains(errOut, "not upgraded: confirm on a terminal, or pass --confirmed") {
			t.Errorf("upgrade without a terminal or -y: %d %s", code, errOut)
		}
		a.mustShip(t, "accessory", "upgrade", "worker", "-y", "--rolling")
		info, err := docker.ContainerInspect(ctx, "kcmd-worker")
		if err != nil || !info.State.Running || info.NetworkSettings.Networks["kamal"] == nil {
			t.Fatalf("after upgrade, kcmd-worker is not running in the kamal network: %v %+v", err, info.NetworkSettings)
		}
	})

	reg := testregistry.Start(t)
	localConfig := t.TempDir()
	t.Setenv("DOCKER_CONFIG", localConfig)
	hostConfig := filepath.Join(home, ".docker", "config.json")
	t.Run("registry login logout", func(t *testing.T) {
		appendConfig(t, a, "registry:\n  server: "+reg.Server+"\n  username: "+reg.Username+"\n  password: [REGISTRY_PASSWORD]\n",
			"REGISTRY_PASSWORD=wrong-password\n")
		_, errOut, code := a.ship(t, "registry", "login")
		if code == 0 || !strings.Contains(errOut, "log in to "+reg.Server) {
			t.Fatalf("a wrong password was not refused: %d %s", code, errOut)
		}
		if logins(t, filepath.Join(localConfig, "config.json"))[reg.Server] {
			t.Fatal("a refused login was stored")
		}
		secrets := filepath.Join(a.dir, ".ship/secrets")
		b, _ := os.ReadFile(secrets)
		os.WriteFile(secrets, []byte(strings.Replace(string(b), "wrong-password", reg.Password, 1)), 0o600)
		argv := testapp.ScanArgv(t, reg.Password)
		out := a.mustShip(t, "registry", "login")
		if leaks := argv.Stop(); len(leaks) > 0 {
			t.Errorf("the registry password appeared in a command line: %v", leaks)
		}
		if strings.Contains(out, reg.Password) {
			t.Errorf("the password was printed:\n%s", out)
		}
		if !logins(t, filepath.Join(localConfig, "config.json"))[reg.Server] || !logins(t, hostConfig)[reg.Server] {
			t.Fatalf("registry login stored no credential here or on %s:\n%s", h1.Addr, out)
		}
		// The Docker CLI on the host uses the login: the registry answers
		// that the image is not there, not that ship is unknown.
		pull := "docker pull " + reg.Server + "/kcmd-nothing:none 2>&1 || true"
		if out := a.mustShip(t, "server", "exec", pull); strings.Contains(out, "no basic auth credentials") || !strings.Contains(out, "not found") && !strings.Contains(out, "manifest unknown") {
			t.Errorf("a pull on the host after login:\n%s", out)
		}
		if out, errOut, code := a.ship(t, "server", "exec", "docker logout "+reg.Server); code != 0 || logins(t, hostConfig)[reg.Server] {
			t.Fatalf("docker logout on the host: %d %s%s", code, out, errOut)
		}
		if out := a.mustShip(t, "server", "exec", pull); !strings.Contains(out, "no basic auth credentials") {
			t.Errorf("a pull on the host after docker logout:\n%s", out)
		}
		a.mustShip(t, "registry", "setup", "-L") // Kamal's name for login
		if !logins(t, hostConfig)[reg.Server] {
			t.Fatal("registry setup -L did not log the host in")
		}
		out = a.mustShip(t, "registry", "logout", "-R")
		if logins(t, filepath.Join(localConfig, "config.json"))[reg.Server] || !logins(t, hostConfig)[reg.Server] {
			t.Errorf("registry logout -R:\n%s", out)
		}
	})

	t.Run("remove", func(t *testing.T) {
		_, errOut, code := a.ship(t, "remove")
		if code == 0 || !strings.Contains(errOut, "not removed") {
			t.Fatalf("remove without a terminal or -y: %d %s", code, errOut)
		}
		if v := a.mustShip(t, "app", "version"); !strings.Contains(v, "v3") {
			t.Fatalf("a refused remove removed:\n%s", v)
		}
		// A tag of the app's repository that no container ever used goes
		// too, as Kamal prunes every image of the app.
		orphan := reg.Server + "/ship-it-kcmd:orphan"
		if err := docker.ImageTag(ctx, "ship-it-kcmd:v1", orphan); err != nil {
			t.Fatal(err)
		}
		envFiles := []string{filepath.Join(home, ".ship", "apps", "kcmd", "env", "web.env"), filepath.Join(accDir, "env")}
		for _, f := range envFiles {
			if _, err := os.Stat(f); err != nil {
				t.Fatalf("before remove: %v", err)
			}
		}
		out := a.mustShip(t, "remove", "-y")
		for _, f := range envFiles {
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Errorf("remove left the env file %s with the secrets: %v", f, err)
			}
		}
		list, err := docker.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "service=kcmd"))})
		if err != nil || len(list) != 0 {
			t.Errorf("containers of the service remain: %v %v\n%s", list, err, out)
		}
		for _, ref := range []string{"ship-it-kcmd:v1", "ship-it-kcmd:v2", "ship-it-kcmd:v3", orphan} {
			if _, err := docker.ImageInspect(ctx, ref); err == nil {
				t.Errorf("image %s remains:\n%s", ref, out)
			}
		}
		if imgs := a.mustShip(t, "app", "images"); strings.Contains(imgs, "ship-it-kcmd") {
			t.Errorf("app images after remove:\n%s", imgs)
		}
		if _, err := docker.VolumeInspect(ctx, "kcmd_data"); err != nil {
			t.Errorf("remove deleted the app's volume: %v", err)
		}
		if _, err := os.Stat(filepath.Join(accDir, "directories", "scratch")); err != nil {
			t.Errorf("remove deleted the accessory's directory: %v", err)
		}
		if logins(t, hostConfig)[reg.Server] {
			t.Errorf("remove left the host logged in to the registry:\n%s", out)
		}
	})
}

// logins are the servers a Docker config file holds a login for.
func logins(t *testing.T, file string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	var doc struct {
		Auths map[string]json.RawMessage `json:"auths"`
	}
	if err != nil || json.Unmarshal(b, &doc) != nil {
		t.Fatalf("%s: %v\n%s", file, err, b)
	}
	out := map[string]bool{}
	for k := range doc.Auths {
		out[k] = true
	}
	return out
}

// ship remove behind kamal-proxy: the app's route goes, kamal-proxy stays
// while it routes another app and goes with the last one; a redeploy then
// refuses to boot it, before anything stops.
func TestRemoveBehindProxy(t *testing.T) {
	one := proxiedApp(t, "rmone", "  host: one.test\n", "", "v1")
	two := proxiedApp(t, "rmtwo", "  host: two.test\n", "", "v1")
	one.mustShip(t, "setup", "--skip-build", "--version", "v1")
	two.mustShip(t, "setup", "--skip-build", "--version", "v1")
	_, h2 := testhost.Hosts(t)
	docker := dockerClient(t, h2)
	ctx := context.Background()
	routes := func() []string {
		services, err := proxy.Services(ctx, docker)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range services {
			names = append(names, s.Name)
		}
		return names
	}

	out := one.mustShip(t, "remove", "-y")
	if r := routes(); slices.Contains(r, "rmone-web") || !slices.Contains(r, "rmtwo-web") {
		t.Errorf("kamal-proxy routes after removing rmone: %q\n%s", r, out)
	}
	if !strings.Contains(out, "kamal-proxy stays: it routes other apps (rmtwo-web)") {
		t.Errorf("remove did not say why kamal-proxy stays:\n%s", out)
	}
	if v := getHost(t, "http://"+h2IP(t)+"/version", "two.test"); v != "200 OK v1" {
		t.Errorf("the other app no longer serves: %q", v)
	}

	out = two.mustShip(t, "remove", "-y")
	if _, err := docker.ContainerInspect(ctx, proxy.ContainerName); err == nil {
		t.Errorf("kamal-proxy stayed with no app left:\n%s", out)
	}

	_, errOut, code := two.ship(t, "redeploy", "--skip-build", "--version", "v1")
	if code != exitFailed || !strings.Contains(errOut, "kamal-proxy is not running on "+h2.Addr+", and redeploy does not boot it") {
		t.Errorf("redeploy without kamal-proxy: %d\n%s", code, errOut)
	}
	if _, err := docker.ContainerInspect(ctx, proxy.ContainerName); err == nil {
		t.Error("redeploy booted kamal-proxy")
	}
	list, _ := docker.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "service=rmtwo"))})
	if len(list) != 0 {
		t.Errorf("redeploy started %d containers without kamal-proxy", len(list))
	}
}

// getHost GETs url with the Host header host.
func getHost(t *testing.T, url, host string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "unreachable: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Status + " " + strings.TrimSpace(string(b))
}
