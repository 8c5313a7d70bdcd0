package main

import (
	"context"
	"encoding/json"
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

// guideDeploy is config/deploy.yml as a Rails 8 + Kamal + Litestream
// guide has it: the generated file, with a litestream accessory that
// uploads config/litestream.yml, shares the storage volume and replicates.
// Adapted to the test hosts: the host, the image, no registry (ship sends
// the image over SSH), the app published on a local port instead of
// behind the proxy with SSL, the test app's DATABASE_PATH, and the SSH
// keys of the test hosts.
const guideDeploy = `# Name of your application. Used to uniquely configure containers.
service: %[1]s

# Name of the container image.
image: ship-it-%[1]s

# Deploy to these servers.
servers:
  web:
    hosts:
      - %[2]s
    options:
      publish: 127.0.0.1:%[3]d:3000

# Inject ENV variables into containers (secrets come from .kamal/secrets).
env:
  secret:
    - RAILS_MASTER_KEY
  clear:
    # Run the Solid Queue Supervisor inside the web server's Puma process to do jobs.
    SOLID_QUEUE_IN_PUMA: true
    DATABASE_PATH: /rails/storage/production.sqlite3
    PORT: 3000

# Use a persistent storage volume for sqlite database files and local Active Storage files.
# Recommended to change this to a mounted volume path that is backed up off server.
volumes:
  - "%[1]s_storage:/rails/storage"

healthcheck:
  path: /up
  port: 3000

# Use accessory services (secrets come from .kamal/secrets).
accessories:
  litestream:
    image: litestream/litestream:%[4]s
    host: %[2]s
    files:
      - config/litestream.yml:/etc/litestream.yml
    volumes:
      - "%[1]s_storage:/rails/storage"
    cmd: replicate
    env:
      clear:
        LITESTREAM_REPLICA_BUCKET: %[5]s
        LITESTREAM_REPLICA_ENDPOINT: %[6]s
      secret:
%[7]s
ssh:
  keys_only: true
  keys: [%[8]s]
  known_hosts:
    - %[9]s
`

// guideLitestream03 is config/litestream.yml in Litestream 0.3's format,
// as the guides for litestream/litestream:0.3.x write it.
const guideLitestream03 = `dbs:
  - path: /rails/storage/production.sqlite3
    replicas:
      - type: s3
        bucket: $LITESTREAM_REPLICA_BUCKET
        path: %s/production.sqlite3
        endpoint: $LITESTREAM_REPLICA_ENDPOINT
        access-key-id: $LITESTREAM_ACCESS_KEY_ID
        secret-access-key: $LITESTREAM_SECRET_ACCESS_KEY
`

// guideLitestream05 is the same in 0.5's format: one replica, by URL,
// with the credentials under names of the user's choosing.
const guideLitestream05 = `dbs:
  - path: /rails/storage/production.sqlite3
    replica:
      url: s3://${LITESTREAM_REPLICA_BUCKET}/%s/production.sqlite3
      endpoint: ${LITESTREAM_REPLICA_ENDPOINT}
      access-key-id: ${R2_ACCESS_KEY_ID}
      secret-access-key: ${R2_SECRET_ACCESS_KEY}
`

// guideApp is a deployed project as such a guide leaves it.
type guideApp struct {
	*backedUpApp
}

func newGuideApp(t *testing.T, service, version string, s3 *testlitestream.S3) *guideApp {
	t.Helper()
	h1, _ := testhost.Hosts(t)
	// apart: TestKamalLitestreamAccessory runs in parallel (helpers_test.go).
	a := &app{service: service, secret: "master-" + service, port: freePort(t), apart: true}
	secretNames, secrets := "        - LITESTREAM_ACCESS_KEY_ID\n        - LITESTREAM_SECRET_ACCESS_KEY\n",
		fmt.Sprintf("LITESTREAM_ACCESS_KEY_ID=%s\nLITESTREAM_SECRET_ACCESS_KEY=%s\n", s3.AccessKey, s3.SecretKey)
	litestreamYML := fmt.Sprintf(guideLitestream03, service)
	if !strings.HasPrefix(version, "0.3") {
		secretNames, secrets = "        - R2_ACCESS_KEY_ID\n        - R2_SECRET_ACCESS_KEY\n",
			fmt.Sprintf("R2_ACCESS_KEY_ID=%s\nR2_SECRET_ACCESS_KEY=%s\n", s3.AccessKey, s3.SecretKey)
		litestreamYML = fmt.Sprintf(guideLitestream05, service)
	}
	a.dir = project(t, map[string]string{
		"config/deploy.yml": fmt.Sprintf(guideDeploy, service, h1.Addr, a.port, version, s3.Bucket, s3.Endpoint,
			secretNames, h1.KeyPath, h1.KnownHostsPath),
		"config/litestream.yml": litestreamYML,
		".kamal/secrets":        "RAILS_MASTER_KEY=" + a.secret + "\n" + secrets,
	})
	for _, v := range []string{"v1", "v2"} {
		testapp.Image(t, h1.DockerHost, "ship-it-"+service+":"+v, testapp.ImageOptions{})
	}
	t.Cleanup(func() {
		a.ship(t, "accessory", "remove", "all")
		a.ship(t, "app", "remove", "--yes")
		dockerClient(t, h1).VolumeRemove(context.Background(), service+"_storage", true)
	})
	return &guideApp{&backedUpApp{app: a, s3: s3, h1: h1}}
}

// dbFile is the production database on h1 (this machine).
func (g *guideApp) dbFile(t *testing.T) string {
	t.Helper()
	info, err := dockerClient(t, g.h1).VolumeInspect(context.Background(), g.service+"_storage")
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(info.Mountpoint, "production.sqlite3")
}

// verified runs db verify until it passes: until Litestream's first
// upload, the replica has no backup.
func (g *guideApp) verified(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		out, errOut, code := g.ship(t, "db", "verify")
		if code == 0 {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("db verify did not pass in 45 s: exit %d\n%s%s", code, out, errOut)
		}
		time.Sleep(time.Second)
	}
}

// A project set up as the Rails 8 + Kamal + Litestream guides describe,
// deployed unedited, in both of Litestream's formats with the matching
// Litestream: ship db verify passes on its hand-written accessory, and
// fails once the replica is gone; db restore brings back every
// acknowledged write; a deploy records a restore point that rollback
// --restore-data puts back.
func TestKamalLitestreamAccessory(t *testing.T) {
	t.Parallel() // its own services on h1, no kamal-proxy: see helpers_test.go
	h1, _ := testhost.Hosts(t)
	s3 := testlitestream.StartS3(t)
	for _, tc := range []struct{ service, version string }{
		{"guide03", "0.3.14"},
		{"guide05", "0.5.18"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			testlitestream.Image(t, h1.DockerHost, tc.version)
			g := newGuideApp(t, tc.service, tc.version, s3)
			if out := g.mustShip(t, "setup", "--skip-build", "--version", "v1"); !strings.Contains(out, tc.service+"-litestream is running") {
				t.Fatalf("setup did not boot the accessory:\n%s", out)
			}
			g.write(t, "v1-row", 30)
			if out := g.verified(t); !strings.Contains(out, "ok    /rails/storage/production.sqlite3: restored, intact, row counts match (1 tables)") {
				t.Errorf("db verify:\n%s", out)
			}
			// db status reads the replica through the accessory's own
			// configuration and credentials; the guides' files enable no
			// control socket, and status says what that costs.
			var doc struct {
				Databases []struct {
					Database    string `json:"database"`
					Exists      bool   `json:"exists"`
					Replication struct {
						Replica     string `json:"replica"`
						ReplicaTXID string `json:"replica_txid"`
					} `json:"replication"`
					Warnings []string `json:"warnings"`
				} `json:"databases"`
			}
			status := g.mustShip(t, "db", "status", "--json")
			if err := json.Unmarshal([]byte(status), &doc); err != nil || len(doc.Databases) != 1 {
				t.Fatalf("db status --json: %v\n%s", err, status)
			}
			st := doc.Databases[0]
			want := "enables no control socket"
			if strings.HasPrefix(tc.version, "0.3") {
				want = "Litestream 0.3 cannot report its state"
			} else if st.Replication.ReplicaTXID == "" {
				t.Errorf("db status read no position from the replica: %s", status)
			}
			if st.Database != "/rails/storage/production.sqlite3" || !st.Exists ||
				st.Replication.Replica != "s3://"+s3.Bucket+"/"+tc.service+"/production.sqlite3" || !strings.Contains(strings.Join(st.Warnings, "\n"), want) {
				t.Errorf("db status: %s", status)
			}

			// A deploy records a restore point; rollback --restore-data
			// puts it back, and keeps the later writes aside.
			out := g.mustShip(t, "deploy", "--skip-build", "--version", "v2")
			if !strings.Contains(out, "recorded the restore point of v1") {
				t.Errorf("the deploy recorded no restore point:\n%s", out)
			}
			g.write(t, "v2-row", 7)
			out = g.mustShip(t, "rollback", "v1", "--restore-data", "--yes")
			if v := g.version(t); v != "v1" {
				t.Fatalf("after the rollback the app says %q\n%s", v, out)
			}
			if got := sqlite(t, g.dbFile(t), "SELECT count(*), max(value) FROM records"); got != "30|v1-row-9" {
				t.Errorf("after rollback --restore-data: %s, want the 30 rows of v1\n%s", got, out)
			}
			if asides, _ := filepath.Glob(g.dbFile(t) + ".set-aside-*"); len(asides) != 1 {
				t.Errorf("set-aside directories: %v\n%s", asides, out)
			}

			// Delete the live database: db restore brings back every
			// write the app acknowledged. A passing drill says the
			// replica has them all.
			g.write(t, "after", 5)
			g.verified(t)
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(g.dbFile(t) + suffix)
			}
			out = g.mustShip(t, "db", "restore", "--yes")
			if got := sqlite(t, g.dbFile(t), "SELECT count(*) FROM records"); got != "35" {
				t.Errorf("after db restore the database has %s records, want all 35\n%s", got, out)
			}
			if !strings.Contains(out, "integrity ok") || !strings.Contains(out, tc.service+"-web-v1 is healthy") {
				t.Errorf("db restore:\n%s", out)
			}
			if d := g.mustShip(t, "accessory", "details", "litestream"); !strings.Contains(d, "running") {
				t.Errorf("Litestream is not running again after the restore:\n%s", d)
			}

			// The replica gone, the drill fails and says so.
			if err := os.RemoveAll(filepath.Join(s3.Dir, tc.service)); err != nil {
				t.Fatal(err)
			}
			out, errOut, code := g.ship(t, "db", "verify")
			if code != exitFailed || !strings.Contains(out, "has no backup of /rails/storage/production.sqlite3") {
				t.Errorf("db verify of a deleted replica: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}
