package doctor

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
)

// replicaTarget is target's config with its only role made a replica of
// another: a host of replica roles only. Nothing is connected, so a check
// that reaches the host panics.
func replicaTarget(t *testing.T) *Target {
	tg := target(t, "root")
	tg.Roles[0].ReplicaOf = "writer"
	return tg
}

// The checks of the app's own volumes have nothing to look at on a host
// of replica roles only, and do not look.
func TestReplicaHostSkipsTheAppVolumesChecks(t *testing.T) {
	tg := replicaTarget(t)
	if !tg.replicaHost() || !tg.replicaOnly() || len(tg.appRoleNames()) != 0 {
		t.Fatalf("replicaHost %v, replicaOnly %v, app roles %v", tg.replicaHost(), tg.replicaOnly(), tg.appRoleNames())
	}
	ctx := context.Background()
	for name, fn := range map[string]func(context.Context, *Target) []Check{
		"writers": writerChecks, "volumes": volumeChecks, "data operations": interruptedChecks,
	} {
		if got := fn(ctx, tg); got != nil {
			t.Errorf("%s on a replica host: %v", name, got)
		}
	}
	if w := target(t, "root"); w.replicaHost() || w.replicaOnly() {
		t.Errorf("the writer's host is taken for a replica host")
	}
}

func TestCopyWriters(t *testing.T) {
	tg := replicaTarget(t)
	if c := copyWriters(tg, "shop-replica-shop_data", nil); c.State != OK || c.Message != "no container but the followers writes shop-replica-shop_data" {
		t.Errorf("followers only: %s", c)
	}
	c := copyWriters(tg, "shop-replica-shop_data", []string{"shop-debug"})
	if c.State != Fail || !strings.Contains(c.Message, "shop-debug has shop-replica-shop_data open for writing beside its followers") ||
		c.Fix != "ship server exec -h h1 'docker stop shop-debug'" {
		t.Errorf("a stranger: %s", c)
	}
}

func TestReadOnlyReplica(t *testing.T) {
	tg := replicaTarget(t)
	ro := container.Summary{Names: []string{"/shop-web-v2"}, Mounts: []container.MountPoint{{Destination: "/data", RW: false}}}
	if c := readOnlyReplica(tg, "web", []container.Summary{ro}); c.State != OK || c.Message != "shop-web-v2 mounts every volume read-only" {
		t.Errorf("read-only: %s", c)
	}
	if c := readOnlyReplica(tg, "web", nil); c.State != OK || c.Message != "no container of web runs" {
		t.Errorf("none running: %s", c)
	}
	rw := container.Summary{Names: []string{"/shop-web-v3"}, Mounts: []container.MountPoint{{Destination: "/files", RW: true}}}
	c := readOnlyReplica(tg, "web", []container.Summary{ro, rw})
	if c.State != Fail || !strings.Contains(c.Message, "shop-web-v3 mounts /files writable: a replica must mount every volume read-only") ||
		c.Fix != "ship server exec -h h1 'docker stop shop-web-v3', then ship deploy -r web" {
		t.Errorf("a writable mount: %s", c)
	}
}
