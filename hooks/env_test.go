package hooks

import (
	"slices"
	"testing"
	"time"
)

func TestEnviron(t *testing.T) {
	e := Env{
		Service:     "shop",
		Version:     "0123456789abcdef",
		Destination: "production",
		Command:     "deploy",
		Role:        "web,jobs",
		Performer:   "Alice <alice@example.com>",
		Hosts:       []string{"10.0.0.1", "10.0.0.2"},
		RecordedAt:  time.Date(2026, 11, 21, 7, 30, 0, 0, time.FixedZone("CET", 3600)),
		Runtime:     41600 * time.Millisecond,
		Secrets:     map[string]string{"DB_PASSWORD": "pw", "PATH": "/secret/bin"},
	}
	got := e.environ([]string{"PATH=/usr/bin", "HOME=/home/alice", "SHIP_SUBCOMMAND=stale", "KAMAL_LOCK=true"})
	want := []string{
		"PATH=/usr/bin", "HOME=/home/alice", "KAMAL_LOCK=true",
		"DB_PASSWORD=pw", "PATH=/secret/bin",
		"SHIP_SERVICE=shop", "KAMAL_SERVICE=shop",
		"SHIP_VERSION=0123456789abcdef", "KAMAL_VERSION=0123456789abcdef",
		"SHIP_SERVICE_VERSION=shop@0123456", "KAMAL_SERVICE_VERSION=shop@0123456",
		"SHIP_DESTINATION=production", "KAMAL_DESTINATION=production",
		"SHIP_COMMAND=deploy", "KAMAL_COMMAND=deploy",
		"SHIP_ROLE=web,jobs", "KAMAL_ROLES=web,jobs",
		"SHIP_PERFORMER=Alice <alice@example.com>", "KAMAL_PERFORMER=Alice <alice@example.com>",
		"SHIP_HOSTS=10.0.0.1,10.0.0.2", "KAMAL_HOSTS=10.0.0.1,10.0.0.2",
		"SHIP_RECORDED_AT=2026-11-21T06:30:00Z", "KAMAL_RECORDED_AT=2026-11-21T06:30:00Z",
		"SHIP_RUNTIME=42", "KAMAL_RUNTIME=42",
	}
	if !slices.Equal(got, want) {
		t.Errorf("environ:\n got %q\nwant %q", got, want)
	}
}

func TestServiceVersion(t *testing.T) {
	for _, tt := range []struct{ version, want string }{
		{"", "shop"},
		{"abc123", "shop@abc123"},
		{"0123456789abcdef", "shop@0123456"},
		{"0123456789abcdef_uncommitted_99", "shop@0123456789abcdef_uncommitted_99"},
	} {
		if got := serviceVersion("shop", tt.version); got != tt.want {
			t.Errorf("serviceVersion(shop, %q) = %q, want %q", tt.version, got, tt.want)
		}
	}
}
