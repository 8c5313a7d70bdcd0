package config

import (
	"strings"
	"testing"
)

func TestAnchorsAndMergeKeys(t *testing.T) {
	dir := write(t, map[string]string{"config/deploy.yml": `x-defaults: &defaults
  cmd: bin/web
  options:
    memory: 1g
service: app
image: acme/app
servers:
  web:
    <<: *defaults
    hosts: [10.0.0.1]
  worker:
    <<: *defaults
    cmd: bin/jobs
    hosts: [10.0.0.2]
`})
	c, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Role("web").Cmd != "bin/web" || c.Role("worker").Cmd != "bin/jobs" {
		t.Errorf("merge keys: web %q worker %q", c.Role("web").Cmd, c.Role("worker").Cmd)
	}
	if c.Role("worker").Options.Get("memory")[0] != "1g" {
		t.Errorf("worker did not inherit options through <<")
	}
}

func TestSyntaxAndEmptyFiles(t *testing.T) {
	dir := write(t, map[string]string{"config/deploy.yml": "service: app\nservers:\n  - a\n - b\n"})
	_, err := load(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "deploy.yml:3:1: did not find expected key") {
		t.Errorf("syntax error not located: %v", err)
	}
	dir = write(t, map[string]string{"config/deploy.yml": "# nothing yet\n"})
	if _, err := load(t, dir, Options{}); err == nil || !strings.Contains(err.Error(), "the file is empty") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := Load(Options{File: dir + "/config/nope.yml"}); err == nil || !strings.Contains(err.Error(), "no such file: run `ship init`") {
		t.Errorf("missing file: %v", err)
	}
}

func TestSecretsFileSyntaxError(t *testing.T) {
	dir := write(t, map[string]string{
		"config/deploy.yml": "service: app\nimage: acme/app\nservers: [10.0.0.1]\n",
		".ship/secrets":     "GOOD=1\nthis line is not an assignment\n",
	})
	_, err := load(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), ".ship/secrets:2:1:") {
		t.Errorf("secrets syntax error not located: %v", err)
	}
}

func TestLitestreamSection(t *testing.T) {
	dir := write(t, map[string]string{
		"config/deploy.yml": `service: app
image: acme/app
servers: [10.0.0.1]
volumes: ["app_data:/data"]
litestream:
  databases: [/data/app.sqlite3]
  replica:
    url: s3://backups/app
    endpoint: http://127.0.0.1:7070
    force_path_style: true
    access_key_id: LITESTREAM_ACCESS_KEY_ID
    secret_access_key: LITESTREAM_SECRET_ACCESS_KEY
  snapshot: {interval: 1h, retention: 24h}
`,
		".ship/secrets": "LITESTREAM_ACCESS_KEY_ID=key\nLITESTREAM_SECRET_ACCESS_KEY=secret\n",
	})
	c, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := c.Litestream
	if l.Image != "litestream/litestream:0.5.18" || l.Databases[0] != "/data/app.sqlite3" || l.Snapshot.Retention.Hours() != 24 {
		t.Errorf("litestream = %+v", l)
	}
	if l.Replica.SecretAccessKey.Value.Reveal() != "secret" || !l.Replica.ForcePathStyle {
		t.Errorf("replica = %+v", l.Replica)
	}

	dir = write(t, map[string]string{"config/deploy.yml": "service: app\nimage: acme/app\nservers: [10.0.0.1]\nlitestream:\n  databases: [app.sqlite3]\n  replica: {url: ftp://x/y}\n"})
	_, err = load(t, dir, Options{})
	for _, want := range []string{"litestream.databases[0]", "litestream.replica.url"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}
