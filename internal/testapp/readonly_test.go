package testapp

import (
	"context"
	"database/sql"
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
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"
	_ "modernc.org/sqlite"

	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testproc/testengine"
)

// TestImageReadOnly runs the example app's image as a read replica's
// container (SHIP_DB_READONLY=1) on a volume mounted read-only, which this
// test fills and changes from outside as a Litestream follower would
// (docs/replicas.md): the app starts before there is a copy, is healthy
// only once the copy is a rollback-mode file, reads every change, refuses
// writes, names its host, and leaves nothing beside the copy.
func TestImageReadOnly(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	id := Image(t, h1.DockerHost, unique("image")+":ro", ImageOptions{})
	cli := dockerClient(t, h1.DockerHost)
	vol, dir := newVolume(t, cli)
	app := createReplica(t, cli, id, vol)
	app.start()
	copyPath := filepath.Join(dir, "app.sqlite3")

	if status := waitUp(t, app.URL); status != http.StatusServiceUnavailable {
		t.Errorf("GET /up before the copy exists = %d, want 503", status)
	}

	// The follower's first restore keeps the writer's WAL header: a
	// read-only mount cannot hold the -wal and -shm SQLite then needs.
	copyDB, err := sql.Open("sqlite", "file:"+copyPath+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	copyDB.SetMaxOpenConns(1)
	for _, stmt := range []string{
		"CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, value TEXT NOT NULL, version TEXT NOT NULL, created_at TEXT NOT NULL)",
		"INSERT INTO records (value, version, created_at) VALUES ('one', 'v1', 'now'), ('two', 'v1', 'now')",
	} {
		if _, err := copyDB.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	copyDB.Close() // checkpoints and removes the -wal and -shm
	if status, body := get(t, app.URL+"/up"); status != http.StatusServiceUnavailable {
		t.Errorf("GET /up on a WAL-mode copy = %d %q, want 503", status, body)
	}

	// Prepared as ship's follower prepares it: a rollback-mode file.
	copyDB, err = sql.Open("sqlite", "file:"+copyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	copyDB.SetMaxOpenConns(1)
	var mode string
	if err := copyDB.QueryRow("PRAGMA journal_mode=DELETE").Scan(&mode); err != nil || mode != "delete" {
		t.Fatalf("make the copy a rollback-mode file: %q, %v", mode, err)
	}
	if status, body := get(t, app.URL+"/up"); status != http.StatusOK {
		t.Errorf("GET /up on a rollback-mode copy = %d %q, want 200", status, body)
	}

	inspect, err := cli.ContainerInspect(context.Background(), app.ID)
	if err != nil {
		t.Fatal(err)
	}
	// ship sets no hostname: the engine's default is the ID's start, which
	// is how a test tells which host answered (docs/replicas.md).
	host := inspect.Config.Hostname
	if host == "" || !strings.HasPrefix(app.ID, host) {
		t.Errorf("the replica's hostname is %q, want the start of its ID %s", host, app.ID)
	}
	list := records(t, app.URL, host)
	if !slices.Equal(list.IDs, []int64{1, 2}) || list.Host != host {
		t.Errorf("GET /records = %+v, want records 1 and 2 from host %s", list, host)
	}

	resp, err := http.Post(app.URL+"/records", "text/plain", strings.NewReader("refused"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "read replica") || resp.Header.Get("X-Ship-Host") != host {
		t.Errorf("POST /records on the replica = %d (X-Ship-Host %q) %s, want 503 from %s saying it is a read replica",
			resp.StatusCode, resp.Header.Get("X-Ship-Host"), body, host)
	}

	// The follower applies the writer's next transaction.
	if _, err := copyDB.Exec("INSERT INTO records (value, version, created_at) VALUES ('three', 'v1', 'now')"); err != nil {
		t.Fatal(err)
	}
	if list := records(t, app.URL, host); !slices.Equal(list.IDs, []int64{1, 2, 3}) {
		t.Errorf("GET /records after the follower's change = %+v, want records 1 to 3", list)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"app.sqlite3"}) {
		t.Errorf("the volume holds %q, want only the copy", names)
	}
	logs := testengine.ContainerLogs(context.Background(), cli, app.ID)
	if !strings.Contains(logs, "read replica (SHIP_DB_READONLY=1)") || !strings.Contains(logs, "unable to open database file") {
		t.Errorf("the app's log does not say it is a read replica and could not open the WAL-mode copy:\n%s", logs)
	}
}

// createReplica creates a container of image as ship runs a replica
// role's: SHIP_DB_READONLY=1 and the copy's volume mounted read-only where
// the writer's containers mount theirs, published on a loopback port.
func createReplica(t *testing.T, cli *client.Client, image, vol string) *appContainer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := unique("replica")
	cfg := &container.Config{
		Image:        image,
		Env:          []string{"SHIP_VERSION=v1", "SHIP_DB_READONLY=1", "DATABASE_PATH=/data/app.sqlite3"},
		ExposedPorts: nat.PortSet{appPort: {}},
	}
	hostCfg := &container.HostConfig{
		PortBindings: nat.PortMap{appPort: {{HostIP: "127.0.0.1"}}},
		Mounts:       []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: "/data", ReadOnly: true}},
	}
	created, err := cli.ContainerCreate(ctx, cfg, hostCfg, nil, nil, name)
	if err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, testengine.ContainerLogs(ctx, cli, created.ID))
		}
		if err := cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true}); err != nil {
			t.Errorf("remove container %s: %v", name, err)
		}
	})
	return &appContainer{t: t, cli: cli, ID: created.ID}
}

// newVolume creates a volume, removed when the test ends, and returns its
// name and where its files are: the first test host's engine keeps them
// on this machine.
func newVolume(t *testing.T, cli *client.Client) (name, dir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := cli.VolumeCreate(ctx, volume.CreateOptions{Name: unique("copy")})
	if err != nil {
		t.Fatalf("create volume: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cli.VolumeRemove(ctx, v.Name, true); err != nil {
			t.Errorf("remove volume %s: %v", v.Name, err)
		}
	})
	return v.Name, v.Mountpoint
}

// get returns a GET's status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := newHTTPClient(requestTimeout).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// replicaList is the app's GET /records answer.
type replicaList struct {
	IDs  []int64 `json:"ids"`
	Host string  `json:"host"`
}

// records is GET /records, which must answer 200 from host.
func records(t *testing.T, baseURL, host string) replicaList {
	t.Helper()
	resp, err := newHTTPClient(requestTimeout).Get(baseURL + "/records")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Ship-Host") != host {
		t.Fatalf("GET /records = %d (X-Ship-Host %q) %s, want 200 from %s", resp.StatusCode, resp.Header.Get("X-Ship-Host"), body, host)
	}
	var list replicaList
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("GET /records: %v: %s", err, body)
	}
	return list
}
