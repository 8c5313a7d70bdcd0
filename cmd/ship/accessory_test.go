package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testlitestream"
)

// A generic accessory with Kamal's keys: booted with its file uploaded and
// its directory created, replaced by reboot without ever two running, and
// refused when it would be a second writer of the app's database.
func TestAccessoryLifecycle(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "acc", h1)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	cfgFile := filepath.Join(a.dir, "config/deploy.yml")
	cfg, _ := os.ReadFile(cfgFile)
	os.WriteFile(filepath.Join(a.dir, "config/hello.txt"), []byte("hello from the config\n"), 0o644)
	os.WriteFile(cfgFile, append(cfg, []byte(`accessories:
  worker:
    image: ship-it-acc:v1
    host: `+h1.Addr+`
    env:
      clear:
        PORT: 3100
        DATABASE_PATH: /scratch/worker.sqlite3
    files:
      - config/hello.txt:/etc/hello.txt
    directories:
      - scratch:/scratch
  intruder:
    image: ship-it-acc:v1
    host: `+h1.Addr+`
    volumes:
      - acc_data:/data
`)...), 0o644)
	t.Cleanup(func() { a.ship(t, "accessory", "remove", "all") })

	watch := testapp.Watch(t, h1.DockerHost, "acc-worker")
	out := a.mustShip(t, "accessory", "boot", "worker")
	if !strings.Contains(out, "acc-worker is running") {
		t.Fatalf("boot:\n%s", out)
	}
	uploaded := filepath.Join(testhost.Dir(), "h1", "home", ".ship", "apps", "acc", "accessories", "worker", "files", "etc", "hello.txt")
	if b, err := os.ReadFile(uploaded); err != nil || string(b) != "hello from the config\n" {
		t.Errorf("the accessory's file on the host: %q %v", b, err)
	}
	if d := a.mustShip(t, "accessory", "details", "worker"); !strings.Contains(d, "acc-worker") || !strings.Contains(d, "running") {
		t.Errorf("details:\n%s", d)
	}
	if out := a.mustShip(t, "accessory", "exec", "worker", "/app", "touch", "/scratch/probe"); !strings.Contains(out, "touched /scratch/probe") {
		t.Errorf("exec:\n%s", out)
	}
	if out := a.mustShip(t, "accessory", "boot", "worker"); !strings.Contains(out, "already running") {
		t.Errorf("second boot:\n%s", out)
	}
	a.mustShip(t, "accessory", "reboot", "worker")
	if n := watch.MaxRunning(); n != 1 {
		t.Errorf("%d worker containers ran at once during a reboot:\n%v", n, watch.Events())
	}

	_, errOut, code := a.ship(t, "accessory", "boot", "intruder")
	if code != exitFailed || !strings.Contains(errOut, "mounts the app's database volume writable") {
		t.Errorf("an accessory writing to the app's volume was not refused: %d %s", code, errOut)
	}
	a.mustShip(t, "accessory", "stop", "worker")
	if d := a.mustShip(t, "accessory", "details", "worker"); !strings.Contains(d, "exited") {
		t.Errorf("details after stop:\n%s", d)
	}
	a.mustShip(t, "accessory", "remove", "worker")
	if d := a.mustShip(t, "accessory", "details", "worker"); !strings.Contains(d, "not booted") {
		t.Errorf("details after remove:\n%s", d)
	}
}

// A Kamal-style Litestream accessory with a hand-written 0.3 config, as
// Kamal users have it, boots as written (by setup) and replicates: a
// restore from its replica holds every row written through the app.
func TestKamalStyleLitestream03(t *testing.T) {
	t.Parallel() // its own service on h1, no kamal-proxy, an S3 server of its own: see helpers_test.go
	h1, _ := testhost.Hosts(t)
	s3 := testlitestream.StartS3(t)
	testlitestream.Image(t, h1.DockerHost, "0.3.14")
	a := deployedApp(t, "kamal03", h1)
	a.apart = true
	os.WriteFile(filepath.Join(a.dir, "config/litestream.yml"), []byte(fmt.Sprintf(`dbs:
  - path: /data/app.sqlite3
    replicas:
      - type: s3
        bucket: %s
        path: kamal03/app.sqlite3
        endpoint: %s
        force-path-style: true
        sync-interval: 200ms
`, s3.Bucket, s3.Endpoint)), 0o644)
	appendConfig(t, a, `accessories:
  litestream:
    image: litestream/litestream:0.3.14
    host: `+h1.Addr+`
    cmd: replicate
    files:
      - config/litestream.yml:/etc/litestream.yml
    volumes:
      - kamal03_data:/data
    env:
      secret:
        - LITESTREAM_ACCESS_KEY_ID
        - LITESTREAM_SECRET_ACCESS_KEY
`, fmt.Sprintf("LITESTREAM_ACCESS_KEY_ID=%s\nLITESTREAM_SECRET_ACCESS_KEY=%s\n", s3.AccessKey, s3.SecretKey))
	t.Cleanup(func() { a.ship(t, "accessory", "remove", "all") })
	if out := a.mustShip(t, "setup", "--skip-build", "--version", "v1"); !strings.Contains(out, "kamal03-litestream is running") {
		t.Fatalf("setup did not boot the accessory:\n%s", out)
	}
	b := &backedUpApp{app: a, s3: s3, h1: h1}
	b.write(t, "row", 25)

	dir := filepath.Dir(b.dbFile(t))
	deadline := time.Now().Add(30 * time.Second)
	for attempt := 1; ; attempt++ {
		name := fmt.Sprintf("restored-%d.sqlite3", attempt)
		// Until the first upload, the replica has no backup to restore.
		out, errOut, code := a.ship(t, "accessory", "exec", "litestream", "litestream", "restore", "-o", "/data/"+name, "/data/app.sqlite3")
		n := "no backup"
		if code == 0 {
			n = sqlite(t, filepath.Join(dir, name), "SELECT count(*) FROM records")
		}
		if n == "25" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica holds %s of 25 rows after 30 s\n%s%s", n, out, errOut)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
