package config

import (
	"strings"
	"testing"
)

const databasesBase = `service: shop
image: acme/shop
servers:
  web: [10.0.0.1, 10.0.0.2]
  job:
    hosts: [10.0.0.3]
    cmd: bin/jobs
volumes: ["shop_storage:/rails/storage", "shop_cache:/cache:ro"]
databases:
  - /rails/storage/production.sqlite3
  - /rails/storage/production_cache.sqlite3
`

// The databases key lists the app's SQLite files on every host, without a
// litestream section; the litestream section's are added on its host.
func TestDatabasesKey(t *testing.T) {
	dir := write(t, map[string]string{"config/deploy.yml": databasesBase})
	c, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "/rails/storage/production.sqlite3 /rails/storage/production_cache.sqlite3"
	for _, hr := range [][2]string{{"10.0.0.1", "web"}, {"10.0.0.2", "web"}, {"10.0.0.3", "job"}} {
		if got := strings.Join(c.KnownDatabases(hr[0], hr[1]), " "); got != want {
			t.Errorf("KnownDatabases(%s, %s) = %q, want %q", hr[0], hr[1], got, want)
		}
	}

	dir = write(t, map[string]string{
		"config/deploy.yml": strings.Replace(litestreamBase, "litestream:", "databases: [/rails/storage/production.sqlite3, /rails/storage/production_cable.sqlite3]\nlitestream:", 1),
		".ship/secrets":     "S3_KEY=a\nS3_SECRET=b\n",
	})
	c, err = load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Once each: the databases key's first, then the litestream section's.
	want = "/rails/storage/production.sqlite3 /rails/storage/production_cable.sqlite3 /rails/storage/production_queue.sqlite3"
	if got := strings.Join(c.KnownDatabases("10.0.0.1", "web"), " "); got != want {
		t.Errorf("KnownDatabases with both = %q, want %q", got, want)
	}

	dir = write(t, map[string]string{"config/deploy.yml": strings.Replace(databasesBase, "databases:\n  - /rails/storage/production.sqlite3\n  - /rails/storage/production_cache.sqlite3\n", "", 1)})
	if c, err = load(t, dir, Options{}); err != nil || len(c.KnownDatabases("10.0.0.1", "web")) != 0 {
		t.Errorf("without databases or litestream: %v %v", c.KnownDatabases("10.0.0.1", "web"), err)
	}
}

// Each path reaches a root file operation on the host: every mistake is
// refused with its file and line, before any host is contacted.
func TestDatabasesMistakes(t *testing.T) {
	for _, tc := range []struct {
		name, entry, want string
	}{
		{"relative", "storage/production.sqlite3", `deploy.yml:11:5: databases[1]: "storage/production.sqlite3" should be the absolute path`},
		{"not clean", "/rails/storage/../storage/x.sqlite3", `deploy.yml:11:5: databases[1]: "/rails/storage/../storage/x.sqlite3" is not a clean path: write it as /rails/storage/x.sqlite3`},
		{"dot dot out of the volume", "/rails/storage/../../etc/passwd", "is not a clean path: write it as /etc/passwd"},
		{"off the volumes", "/tmp/x.sqlite3", "deploy.yml:11:5: databases[1]: /tmp/x.sqlite3 is not on any of the app's writable volumes"},
		{"on a read-only volume", "/cache/x.sqlite3", "databases[1]: /cache/x.sqlite3 is not on any of the app's writable volumes"},
		{"the volume itself", "/rails/storage", "databases[1]: /rails/storage is the volume shop_storage itself, not a database file in it"},
		{"twice", "/rails/storage/production.sqlite3", "databases[1]: /rails/storage/production.sqlite3 is listed twice (first as databases[0])"},
		{"not a string", "{a: b}", "databases[1]: should be a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yml := strings.Replace(databasesBase, "  - /rails/storage/production_cache.sqlite3\n", "  - "+tc.entry+"\n", 1)
			dir := write(t, map[string]string{"config/deploy.yml": yml})
			_, err := load(t, dir, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	dir := write(t, map[string]string{"config/deploy.yml": strings.Replace(databasesBase, "databases:\n  - /rails/storage/production.sqlite3\n  - /rails/storage/production_cache.sqlite3\n", "databases: /rails/storage/x.sqlite3\n", 1)})
	if _, err := load(t, dir, Options{}); err == nil || !strings.Contains(err.Error(), "databases: should be a list") {
		t.Errorf("a string instead of a list: %v", err)
	}
}
