package workflow

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
)

func TestDBRestoreRequestCheck(t *testing.T) {
	for _, at := range []string{"", "2026-11-21T09:30:00Z", "2026-11-21T10:30:00+01:00"} {
		if err := (DBRestoreRequest{Timestamp: at}).check(); err != nil {
			t.Errorf("--timestamp %q: %v", at, err)
		}
	}
	for _, at := range []string{"yesterday", "2026-11-21", "2026-11-21 09:30:00"} {
		err := (DBRestoreRequest{Timestamp: at}).check()
		var u UsageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), "want RFC 3339") || !strings.Contains(err.Error(), at) {
			t.Errorf("--timestamp %q: %v, want a usage error naming it", at, err)
		}
	}
}

// A bad --timestamp stops db restore before the config is read or a host
// contacted.
func TestDBRestoreBadTimestampFirst(t *testing.T) {
	g, _ := quietGlobals(filepath.Join(t.TempDir(), "missing.yml"))
	err := DBRestore(t.Context(), DBRestoreRequest{Globals: g, Timestamp: "yesterday", Yes: true})
	var u UsageError
	if !errors.As(err, &u) {
		t.Errorf("db restore --timestamp yesterday: %v, want a usage error", err)
	}
}

// What db restore brings back, in the prompt and the audit log
// (docs/json.md documents the audit results).
func TestDBRestoreWording(t *testing.T) {
	if got := (DBRestoreRequest{}).replica(); got != "the latest replica" {
		t.Errorf("replica() = %q", got)
	}
	if got := (DBRestoreRequest{Timestamp: "2026-11-21T09:30:00Z"}).replica(); got != "the replica as of 2026-11-21T09:30:00Z" {
		t.Errorf("replica() = %q", got)
	}
	cfg := &config.Config{Service: "shop", Litestream: &config.Litestream{Databases: []string{"/data/a.sqlite3", "/data/b.sqlite3"}}}
	want := "Stop shop on web-1 and replace /data/a.sqlite3, /data/b.sqlite3 with the latest replica? The current files are kept beside them. [y/N] "
	if got := restorePrompt(cfg, "web-1", "the latest replica"); got != want {
		t.Errorf("restorePrompt:\n got %q\nwant %q", got, want)
	}
}

// The db commands need the litestream section: without one they are a
// usage error (exit 2), and no host is contacted.
func TestDBCommandsNeedLitestreamSection(t *testing.T) {
	file := writeDeployYML(t, "service: shop\nimage: acme/shop\nservers: [127.0.0.1:1]\n")
	g, _ := quietGlobals(file)
	_, statusErr := DBStatus(t.Context(), DBStatusRequest{Globals: g})
	v, verifyErr := DBVerify(t.Context(), DBVerifyRequest{Globals: g})
	restoreErr := DBRestore(t.Context(), DBRestoreRequest{Globals: g, Yes: true})
	for name, err := range map[string]error{"status": statusErr, "verify": verifyErr, "restore": restoreErr} {
		var u UsageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), "no litestream section") {
			t.Errorf("db %s without a litestream section: %v, want a usage error", name, err)
		}
	}
	if v != nil {
		t.Errorf("db verify that could not run has a result: %+v", v)
	}
}

func TestDBVerifyResultFailed(t *testing.T) {
	v := DBVerifyResult{Databases: []database.Check{{OK: true}, {OK: false}, {OK: false}}}
	if v.Failed() != 2 || v.OK() {
		t.Errorf("Failed() = %d, OK() = %v; want 2, false", v.Failed(), v.OK())
	}
	if v := (DBVerifyResult{Databases: []database.Check{{OK: true}}}); v.Failed() != 0 || !v.OK() {
		t.Errorf("all passed: Failed() = %d, OK() = %v", v.Failed(), v.OK())
	}
}

// db status reads followers on every host of a replica role, each host
// once, in config order, and on no other host.
func TestReplicaHosts(t *testing.T) {
	cfg := &config.Config{Roles: []*config.Role{
		{Name: "web", Hosts: []config.Host{{Address: "10.0.0.1"}}},
		{Name: "replicas", ReplicaOf: "web", Hosts: []config.Host{{Address: "10.0.0.3"}, {Address: "10.0.0.2"}}},
		{Name: "jobs", Hosts: []config.Host{{Address: "10.0.0.4"}}},
		{Name: "more", ReplicaOf: "web", Hosts: []config.Host{{Address: "10.0.0.2"}, {Address: "10.0.0.5"}}},
	}}
	if got := strings.Join(replicaHosts(cfg), " "); got != "10.0.0.3 10.0.0.2 10.0.0.5" {
		t.Errorf("replicaHosts = %s", got)
	}
	if got := replicaHosts(&config.Config{Roles: cfg.Roles[:1]}); len(got) != 0 {
		t.Errorf("no replica role: %v", got)
	}
}

// db reseed works on every replica host, or on those -h, -r or -p pick;
// a selection with a host that runs no replica role is refused, naming
// it and the replica hosts, before any host is contacted.
func TestReseedHosts(t *testing.T) {
	cfg := &config.Config{Files: []string{"config/deploy.yml"}, PrimaryRole: "web", Roles: []*config.Role{
		{Name: "web", Hosts: []config.Host{{Address: "10.0.0.1"}}},
		{Name: "replicas", ReplicaOf: "web", Hosts: []config.Host{{Address: "10.0.0.2"}, {Address: "10.0.0.3"}}},
		{Name: "jobs", Hosts: []config.Host{{Address: "10.0.0.4"}}},
	}}
	for _, tc := range []struct {
		name string
		g    Globals
		want string
	}{
		{"no selection", Globals{}, "10.0.0.2 10.0.0.3"},
		{"one host", Globals{Hosts: "10.0.0.3"}, "10.0.0.3"},
		{"a wildcard", Globals{Hosts: "10.0.0.[23]"}, "10.0.0.2 10.0.0.3"},
		{"the replica role", Globals{Roles: "replicas"}, "10.0.0.2 10.0.0.3"},
	} {
		got, err := reseedHosts(tc.g, cfg)
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %v, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		g    Globals
		want string
	}{
		{"the writer's host", Globals{Hosts: "10.0.0.1"}, "no replica role runs on 10.0.0.1, so there are no followers there to re-seed; the replica hosts are 10.0.0.2, 10.0.0.3: select among those with -h, or leave -h out to re-seed them all"},
		{"a replica host and another", Globals{Hosts: "10.0.0.2,10.0.0.4"}, "no replica role runs on 10.0.0.4,"},
		{"every host", Globals{Hosts: "*"}, "no replica role runs on 10.0.0.1, 10.0.0.4,"},
		{"the primary host", Globals{Primary: true}, "no replica role runs on 10.0.0.1,"},
		{"a writer role", Globals{Roles: "jobs"}, "no replica role runs on 10.0.0.4,"},
		{"no such host", Globals{Hosts: "10.0.0.9"}, "10.0.0.9"},
	} {
		_, err := reseedHosts(tc.g, cfg)
		var u UsageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a usage error saying %q", tc.name, err, tc.want)
		}
	}
}

// Without a replica role there is nothing to re-seed: a usage error that
// names the config file, before any host is contacted (127.0.0.1:1
// would refuse).
func TestDBReseedWithoutReplicaRole(t *testing.T) {
	file := writeDeployYML(t, "service: shop\nimage: acme/shop\nservers: [127.0.0.1:1]\n")
	g, _ := quietGlobals(file)
	err := DBReseed(t.Context(), DBReseedRequest{Globals: g})
	var u UsageError
	if !errors.As(err, &u) || err.Error() != file+" has no replica_of role: nothing to re-seed (followers keep copies only for a role with replica_of; see docs/replicas.md)" {
		t.Errorf("db reseed without a replica role: %v, want a usage error naming %s", err, file)
	}
}
