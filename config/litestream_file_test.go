package config

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// readLitestreamFile reads src as the litestream.yml of accessory
// litestream, with env as the accessory's environment.
func readLitestreamFile(src string, env map[string]string, noExpand bool, v litestreamVersion) (*litestreamFile, Problems) {
	d := &decoder{origin: map[*yaml.Node]string{}}
	f := d.litestreamFile("config/litestream.yml", "litestream", []byte(src), env, noExpand, v)
	return f, d.problems
}

// Litestream 0.3's format: a replicas list, here by type, bucket and path,
// with $VAR taken from the accessory's environment.
func TestLitestreamFile03(t *testing.T) {
	f, problems := readLitestreamFile(`# Litestream replicates the production database.
dbs:
  - path: /rails/storage/production.sqlite3
    replicas:
      - type: s3
        bucket: $BUCKET
        path: shop/production.sqlite3
        endpoint: $ENDPOINT
        access-key-id: $LITESTREAM_ACCESS_KEY_ID
        secret-access-key: $LITESTREAM_SECRET_ACCESS_KEY
        sync-interval: 5s
  - path: /rails/storage/production_queue.sqlite3
    replicas:
      - url: s3://${BUCKET}/shop/queue.sqlite3
`, map[string]string{"BUCKET": "backups", "ENDPOINT": "https://r2.example.com", "LITESTREAM_ACCESS_KEY_ID": "id", "LITESTREAM_SECRET_ACCESS_KEY": "secret"}, false, version03)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if len(f.dbs) != 2 {
		t.Fatalf("dbs = %+v", f.dbs)
	}
	if db := f.dbs[0]; db.path != "/rails/storage/production.sqlite3" || db.replica != "s3://backups/shop/production.sqlite3" || db.at.Line != 3 {
		t.Errorf("first = %+v", db)
	}
	if db := f.dbs[1]; db.path != "/rails/storage/production_queue.sqlite3" || db.replica != "s3://backups/shop/queue.sqlite3" {
		t.Errorf("second = %+v", db)
	}
	if f.syncInterval != 5*time.Second || f.socket != "" {
		t.Errorf("sync interval %s, socket %q", f.syncInterval, f.socket)
	}
}

// Litestream 0.5's format: one replica, settings shared at the top level,
// and the control socket.
func TestLitestreamFile05(t *testing.T) {
	f, problems := readLitestreamFile(`bucket: ${BUCKET}
endpoint: ${ENDPOINT}
sync-interval: 2s
socket:
  enabled: true
dbs:
  - path: /data/app.sqlite3
    replica:
      type: s3
      path: app.sqlite3
  - path: /data/files.sqlite3
    replica:
      path: /backups/files
`, map[string]string{"BUCKET": "b", "ENDPOINT": "http://10.0.0.9:7070"}, false, version05)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if len(f.dbs) != 2 || f.dbs[0].replica != "s3://b/app.sqlite3" || f.dbs[1].replica != "file:///backups/files" {
		t.Errorf("dbs = %+v", f.dbs)
	}
	if f.socket != "/var/run/litestream.sock" || f.syncInterval != 2*time.Second {
		t.Errorf("socket %q, sync interval %s", f.socket, f.syncInterval)
	}
	f, _ = readLitestreamFile("socket: {enabled: true, path: /tmp/ls.sock}\ndbs: [{path: /data/a.db, replica: {url: 's3://b/a'}}]\n", nil, false, version05)
	if f.socket != "/tmp/ls.sock" || f.syncInterval != time.Second {
		t.Errorf("socket %q, sync interval %s", f.socket, f.syncInterval)
	}
}

// Variables come from the accessory's environment only, as Litestream
// expands them in its container: never from ship's own.
func TestLitestreamFileExpansion(t *testing.T) {
	t.Setenv("BUCKET", "from-ships-own-environment")
	const src = "# $NOT_SET in a comment is no error\ndbs:\n  - path: /data/app.db\n    replica:\n      url: s3://$BUCKET/app\n"
	_, problems := readLitestreamFile(src, map[string]string{}, false, version05)
	want := "config/litestream.yml:5:17: $BUCKET is not set in the env of accessories.litestream: Litestream would read an empty value here. " +
		"Add BUCKET to accessories.litestream.env (clear, or secret with its value in the secrets file)"
	if len(problems) != 1 || problems[0].String() != want {
		t.Errorf("problems = %v\nwant %s", problems, want)
	}

	f, problems := readLitestreamFile(src, map[string]string{"BUCKET": "mine"}, false, version05)
	if len(problems) > 0 || f.dbs[0].replica != "s3://mine/app" {
		t.Errorf("%v %+v", problems, f)
	}
	// -no-expand-env: the file is read as written.
	f, problems = readLitestreamFile(src, nil, true, version05)
	if len(problems) > 0 || f.dbs[0].replica != "s3://$BUCKET/app" {
		t.Errorf("%v %+v", problems, f)
	}
	// 0.5 sets $PID itself; 0.3 does not.
	const pid = "addr: \"localhost:9$PID\"\ndbs:\n  - path: /data/app.db\n    replicas:\n      - url: s3://b/app\n"
	if _, problems := readLitestreamFile(pid, nil, false, version05); len(problems) > 0 {
		t.Errorf("$PID on 0.5: %v", problems)
	}
	if _, problems := readLitestreamFile(pid, nil, false, version03); len(problems) != 1 || !strings.Contains(problems[0].String(), "litestream.yml:1:19: $PID is not set") {
		t.Errorf("$PID on 0.3: %v", problems)
	}
}

// Every mistake is reported at its line in litestream.yml, saying what to
// do instead.
func TestLitestreamFileMistakes(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		version   litestreamVersion
		want      string
	}{
		{"a gs replica", "dbs:\n  - path: /data/app.db\n    replica:\n      url: gs://bucket/app\n", version05,
			`config/litestream.yml:4:12: dbs[0].replica: replica type "gs": ship db works with s3 replicas`},
		{"an sftp replica by type", "dbs:\n  - path: /data/app.db\n    replicas:\n      - type: sftp\n        host: backup:22\n", version03,
			`config/litestream.yml:4:15: dbs[0].replicas[0]: replica type "sftp"`},
		{"replica: on 0.3", "dbs:\n  - path: /data/app.db\n    replica:\n      url: s3://b/app\n", version03,
			"config/litestream.yml:4:7: dbs[0].replica: Litestream 0.3 (the accessory's image) reads a replicas list and ignores replica:"},
		{"two replicas on 0.5", "dbs:\n  - path: /data/app.db\n    replicas:\n      - url: s3://b/app\n      - url: s3://c/app\n", version05,
			"config/litestream.yml:4:7: dbs[0].replicas: Litestream 0.5 replicates a database to one place"},
		{"replica and replicas", "dbs:\n  - path: /data/app.db\n    replica: {url: s3://b/a}\n    replicas: [{url: s3://b/a}]\n", version05,
			"dbs[0].replica: set replica or replicas, not both"},
		{"no replica", "dbs:\n  - path: /data/app.db\n", version05,
			"config/litestream.yml:2:5: dbs[0]: /data/app.db has no replica"},
		{"a directory", "dbs:\n  - dir: /data\n    pattern: '*.db'\n    replica: {url: s3://b/a}\n", version05,
			"config/litestream.yml:2:10: dbs[0].dir: ship db works on databases it can name"},
		{"a relative path", "dbs:\n  - path: data/app.db\n    replica: {url: s3://b/a}\n", version05,
			`config/litestream.yml:2:11: dbs[0].path: "data/app.db" should be a plain absolute path`},
		{"no dbs", "addr: :9090\n", version05,
			"config/litestream.yml:1:1: dbs: lists no databases"},
		{"an s3 replica without a bucket", "dbs:\n  - path: /data/app.db\n    replica: {type: s3, path: app}\n", version05,
			"dbs[0].replica.bucket: is required for an s3 replica without a url"},
		{"a bad duration", "dbs:\n  - path: /data/app.db\n    replica: {url: s3://b/a, sync-interval: soon}\n", version05,
			`dbs[0].replica.sync-interval: "soon" is not a duration`},
		{"not YAML", "dbs:\n  - path: [\n", version05,
			"config/litestream.yml:2:1: did not find expected node content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, problems := readLitestreamFile(tc.src, nil, false, tc.version)
			if len(problems) != 1 || !strings.Contains(problems[0].String(), tc.want) {
				t.Errorf("problems = %v\nwant %s", problems, tc.want)
			}
		})
	}
}

// The image's tag says which format Litestream reads; without a version
// in it (latest, a digest) ship takes either.
func TestImageVersion(t *testing.T) {
	for image, want := range map[string]litestreamVersion{
		"litestream/litestream:0.3.13":         version03,
		"ghcr.io/acme/litestream:v0.3.14":      version03,
		"litestream/litestream:0.5.18":         version05,
		"litestream/litestream:latest":         versionUnknown,
		"litestream/litestream":                versionUnknown,
		"litestream/litestream@sha256:0123abc": versionUnknown,
	} {
		if got := imageVersion(image); got != want {
			t.Errorf("imageVersion(%s) = %s, want %s", image, got, want)
		}
	}
	const both = "dbs:\n  - path: /data/a.db\n    replicas: [{url: 's3://b/a'}, {url: 's3://c/a'}]\n  - path: /data/b.db\n    replica: {url: 's3://b/b'}\n"
	f, problems := readLitestreamFile(both, nil, false, versionUnknown)
	if len(problems) > 0 || len(f.dbs) != 2 || f.dbs[0].replica != "s3://b/a, s3://c/a" {
		t.Errorf("an unknown version: %v %+v", problems, f)
	}
}
