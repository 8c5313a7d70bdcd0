package doctor

import (
	"context"
	"strings"

	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
)

// versionChecks lists each role's retained versions, and on the primary
// role checks that each has the restore point rollback --restore-data
// needs.
func versionChecks(ctx context.Context, t *Target) []Check {
	var out []Check
	for _, r := range t.Roles {
		name := "retained " + r.Name
		list, err := host.RoleContainers(ctx, t.Host, t.Config, r.Name)
		if err != nil {
			out = append(out, fail(name, t.exec("docker ps -a"), "cannot list the containers: %v", err))
			continue
		}
		var retained, missing []string
		for _, c := range list {
			if c.State == "running" {
				continue
			}
			v := spec.VersionOf(t.Config, r.Name, host.Name(c), c.Labels)
			retained = append(retained, v)
			if r.Name != t.Config.PrimaryRole {
				continue
			}
			if err := database.HasRestorePoint(ctx, t.Host, t.Config, v); err != nil {
				missing = append(missing, v)
			}
		}
		out = append(out, retainedVersions(name, retained, missing))
	}
	return out
}

// retainedVersions judges a role's retained versions, missing those
// without a restore point.
func retainedVersions(name string, retained, missing []string) Check {
	if len(missing) > 0 {
		return warn(name, "rollback to them without --restore-data; the next deploys record restore points of the versions they stop",
			"no restore point of %s: rollback --restore-data cannot put their data back (retained: %s)", strings.Join(missing, ", "), strings.Join(retained, ", "))
	}
	if len(retained) == 0 {
		return ok(name, "no retained versions to roll back to")
	}
	return ok(name, "retained %s, each with its restore point where ship knows databases", strings.Join(retained, ", "))
}
