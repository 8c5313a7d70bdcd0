package testlitestream

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testproc/testengine"
)

// Configurations that replicate /data/app.db to the bucket %[1]s of the S3
// server at %[2]s under the path app.db, as each Litestream version reads
// them. Credentials come from LITESTREAM_ACCESS_KEY_ID and
// LITESTREAM_SECRET_ACCESS_KEY. Both versions silently ignore keys they do
// not know, so a wrong spelling shows only as a replica that never appears.
const (
	// 0.5 takes exactly one replica per database.
	config05 = `dbs:
  - path: /data/app.db
    replica:
      type: s3
      bucket: %[1]s
      path: app.db
      endpoint: %[2]s
      force-path-style: true
`
	// The same, as ship's replica.url spells it.
	config05URL = `dbs:
  - path: /data/app.db
    replica:
      url: s3://%[1]s/app.db
      endpoint: %[2]s
      force-path-style: true
`
	// 0.3 takes a list of replicas.
	config03 = `dbs:
  - path: /data/app.db
    replicas:
      - type: s3
        bucket: %[1]s
        path: app.db
        endpoint: %[2]s
        force-path-style: true
`
	config03URL = `dbs:
  - path: /data/app.db
    replicas:
      - url: s3://%[1]s/app.db
        endpoint: %[2]s
        force-path-style: true
`
)

var versions = []string{"0.5.18", "0.3.14"}

func TestImageRunsVersion(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	cli := testengine.DockerClient(t, h1.DockerHost)
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			c := litestreamContainer{image: Image(t, h1.DockerHost, version)}
			code, out := c.run(t, cli, "version")
			if code != 0 || strings.TrimSpace(out) != "v"+version {
				t.Errorf("litestream version exited %d, printed %q; want 0 and v%s", code, out, version)
			}
		})
	}
}

// TestReplicateAndRestore runs the whole chain: Litestream in a container on
// h1 replicates a live database to the S3 server, and restores on both hosts
// bring back every row.
func TestReplicateAndRestore(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	one := testengine.DockerClient(t, h1.DockerHost)
	two := testengine.DockerClient(t, h2.DockerHost)
	for _, tc := range []struct{ name, version, config string }{
		{"0.5.18", "0.5.18", config05},
		{"0.5.18-url", "0.5.18", config05URL},
		{"0.3.14", "0.3.14", config03},
		{"0.3.14-url", "0.3.14", config03URL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s3 := StartS3(t)
			config := filepath.Join(t.TempDir(), "litestream.yml")
			if err := os.WriteFile(config, fmt.Appendf(nil, tc.config, s3.Bucket, s3.Endpoint), 0o644); err != nil {
				t.Fatal(err)
			}
			c := litestreamContainer{image: Image(t, h1.DockerHost, tc.version), config: config, s3: s3}

			vol, dir := newVolume(t, one)
			db := filepath.Join(dir, "app.db")
			insertRows(t, db, 0, 100)
			replicate := c
			replicate.mounts = []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: "/data"}}
			replicate.start(t, one, "replicate")
			waitForObjects(t, filepath.Join(s3.Dir, "app.db"))
			// Written while Litestream runs: it must ship these from the WAL.
			insertRows(t, db, 100, 250)

			t.Run("h1", func(t *testing.T) { restoreUntil(t, one, c, 250) })
			t.Run("h2", func(t *testing.T) {
				c := c
				c.image = Image(t, h2.DockerHost, tc.version)
				restoreUntil(t, two, c, 250)
			})
			t.Run("wrong secret", func(t *testing.T) {
				wrong := *s3
				wrong.SecretKey = "wrong-" + s3.SecretKey
				c := c
				c.s3 = &wrong
				// The server checks signatures: the credentials in the
				// environment are the ones Litestream uses.
				code, out := c.run(t, one, "restore", "-o", "/tmp/copy.db", "/data/app.db")
				if code == 0 || !strings.Contains(out, "SignatureDoesNotMatch") {
					t.Errorf("restore with a wrong secret exited %d, want a refused signature:\n%s", code, out)
				}
			})
		})
	}
}

// waitForObjects waits until the S3 server holds a file under dir, which
// is how Litestream's first upload shows.
func waitForObjects(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var files []string
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				rel, _ := filepath.Rel(dir, path)
				files = append(files, rel)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("list %s: %v", dir, err)
		}
		if len(files) > 0 {
			t.Logf("uploaded under %s: %s", dir, strings.Join(files, " "))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing uploaded under %s after 30 s", dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// restoreUntil restores the replica of c's configuration into a fresh
// volume, again until the copy holds want rows: what Litestream has not yet
// uploaded, a restore cannot bring back.
func restoreUntil(t *testing.T, cli *client.Client, c litestreamContainer, want int) {
	t.Helper()
	vol, dir := newVolume(t, cli)
	c.mounts = []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: "/restore"}}
	deadline := time.Now().Add(30 * time.Second)
	for attempt := 1; ; attempt++ {
		name := fmt.Sprintf("copy-%d.db", attempt)
		code, out := c.run(t, cli, "restore", "-o", "/restore/"+name, "/data/app.db")
		if code != 0 {
			t.Fatalf("restore exited %d:\n%s", code, out)
		}
		n := countRows(t, filepath.Join(dir, name))
		if n == want {
			t.Logf("restore %d brought back all %d rows", attempt, n)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore %d brought back %d rows, want %d", attempt, n, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
