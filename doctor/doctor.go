package doctor

import (
	"context"
	"slices"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/host"
)

// Target is one connected host, and what the config puts there.
type Target struct {
	Host   *host.Host
	Config *config.Config
	// Roles are the config's roles with this host, in config order.
	Roles []*config.Role
	// Now is this machine's clock, for the clock skew and the ages of
	// things.
	Now func() time.Time
	// MinFree is the free space, in percent of a filesystem, below which
	// the disk check fails (it warns below 10 %).
	MinFree float64

	// What several checks read, read once.
	running   []container.Summary
	runErr    error
	listed    bool
	databases []database.Status
	dbErr     error
	dbRead    bool
	// layout's: Docker's data root, the volumes' directories, and what
	// paths.sh says of them.
	dockerRoot string
	vols       []volumeDir
	dirs       map[string]dirInfo
	layoutErr  error
}

// checks are the families of checks, in the order ship doctor prints
// them. A new check is one more function here.
var checks = []func(ctx context.Context, t *Target) []Check{
	engineChecks,
	toolChecks,
	clockChecks,
	diskChecks,
	volumeChecks,
	writerChecks,
	replicaWriterChecks,
	databaseChecks,
	interruptedChecks,
	litestreamChecks,
	followerChecks,
	gateChecks,
	drillChecks,
	proxyChecks,
	queueChecks,
	versionChecks,
}

// Host runs every check on a connected host.
func Host(ctx context.Context, t *Target) []Check {
	var out []Check
	for _, fn := range checks {
		out = append(out, fn(ctx, t)...)
	}
	return out
}

// runningContainers lists the host's running containers, once.
func (t *Target) runningContainers(ctx context.Context) ([]container.Summary, error) {
	if !t.listed {
		t.running, t.runErr = t.Host.Docker.ContainerList(ctx, container.ListOptions{})
		t.listed = true
	}
	return t.running, t.runErr
}

// databaseStatuses reads the files of the databases ship knows on the
// host, once.
func (t *Target) databaseStatuses(ctx context.Context) ([]database.Status, error) {
	if !t.dbRead {
		t.databases, t.dbErr = database.HostStatuses(ctx, t.Host, t.Config, t.appRoleNames())
		t.dbRead = true
	}
	return t.databases, t.dbErr
}

// appRoleNames are the names of the Roles that are not replicas: those
// whose containers mount the app's own volumes. A replica role mounts
// the copies its followers keep instead, read-only.
func (t *Target) appRoleNames() []string {
	var out []string
	for _, r := range t.Roles {
		if !r.IsReplica() {
			out = append(out, r.Name)
		}
	}
	return out
}

// replicaHost says whether a replica role (replica_of) runs on the host.
func (t *Target) replicaHost() bool {
	return slices.ContainsFunc(t.Roles, (*config.Role).IsReplica)
}

// replicaOnly says whether every role on the host is a replica role: the
// app's own volumes are not there, and nothing on it writes them.
func (t *Target) replicaOnly() bool {
	return t.replicaHost() && len(t.appRoleNames()) == 0
}
