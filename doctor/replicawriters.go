package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/guard"
	"github.com/shipdeploy/ship/host"
)

// replicaWriterChecks keeps, on a host of a replica role, the rule a
// replica's deploy checks before it starts one (guard.CheckReplica): the
// followers are the only writers of the copies of the writer's
// databases, and no running replica container mounts anything writable.
func replicaWriterChecks(ctx context.Context, t *Target) []Check {
	if !t.replicaHost() {
		return nil
	}
	copies, followers, err := guard.Copies(t.Config)
	if err != nil {
		return []Check{fail("single writer", "fix the litestream section of config/deploy.yml", "%v", err)}
	}
	ws, err := guard.Writers(ctx, t.Host.Docker, copies, followers)
	if err != nil {
		return []Check{fail("single writer", t.exec("docker ps"), "cannot list the containers: %v", err)}
	}
	var out []Check
	for _, cp := range copies {
		var strangers []string
		for _, w := range ws {
			if w.Volume == cp.Source {
				strangers = append(strangers, w.Container)
			}
		}
		out = append(out, copyWriters(t, cp.Source, strangers))
	}
	for _, r := range t.Roles {
		if !r.IsReplica() {
			continue
		}
		list, err := host.RunningContainers(ctx, t.Host, t.Config, r.Name)
		if err != nil {
			out = append(out, fail("read-only "+r.Name, t.exec("docker ps"), "cannot list the containers: %v", err))
			continue
		}
		out = append(out, readOnlyReplica(t, r.Name, list))
	}
	return out
}

// copyWriters judges the writers of one copy volume: strangers are the
// running containers, other than the followers, that mount it writable.
func copyWriters(t *Target, copyVolume string, strangers []string) Check {
	name := "single writer " + copyVolume
	if len(strangers) > 0 {
		return fail(name, t.exec(shellquote.Join(append([]string{"docker", "stop"}, strangers...)...)),
			"%s has %s open for writing beside its followers: a copy's one writer is its follower, which writes pages in place while replicas read them (stop it, or mount the volume read-only, :ro, in it)",
			strings.Join(strangers, ", "), copyVolume)
	}
	return ok(name, "no container but the followers writes %s", copyVolume)
}

// readOnlyReplica judges a replica role's running containers: each must
// mount every volume read-only. Whether one runs at all is the replica
// gate's to say (it stops them while a follower is down).
func readOnlyReplica(t *Target, role string, running []container.Summary) Check {
	name := "read-only " + role
	var writable []string
	var stop []string
	for _, c := range running {
		for _, m := range c.Mounts {
			if m.RW {
				writable = append(writable, fmt.Sprintf("%s mounts %s writable", host.Name(c), m.Destination))
				stop = append(stop, host.Name(c))
				break
			}
		}
	}
	if len(writable) > 0 {
		return fail(name, t.exec(shellquote.Join(append([]string{"docker", "stop"}, stop...)...))+", then ship deploy -r "+role,
			"%s: a replica must mount every volume read-only, so that it can write neither a copy nor anything else", strings.Join(writable, ", "))
	}
	if len(running) == 0 {
		return ok(name, "no container of %s runs", role)
	}
	var names []string
	for _, c := range running {
		names = append(names, host.Name(c))
	}
	return ok(name, "%s mounts every volume read-only", strings.Join(names, ", "))
}
