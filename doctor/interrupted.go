package doctor

import (
	"context"

	"github.com/shipdeploy/ship/database"
)

// interruptedChecks finds a replacement of databases that a killed ship
// left half-done: until the next mutating command repairs it, the app
// does not run on whole databases. Not on a host of replica roles only:
// ship replaces the writer's databases, never there, and a re-seed a
// killed ship left half-done is an unprepared copy, which the next
// deploy's follower.Ensure deletes and prepares again.
func interruptedChecks(ctx context.Context, t *Target) []Check {
	if t.replicaOnly() {
		return nil
	}
	what, err := database.Interrupted(ctx, t.Host, t.Config)
	if err != nil {
		return []Check{fail("data operations", "", "%v", err)}
	}
	return []Check{interruptedState(what)}
}

// interruptedState judges what Interrupted found.
func interruptedState(what string) Check {
	const name = "data operations"
	if what == "" {
		return ok(name, "none left half-done")
	}
	return fail(name, "ship app start (its repair puts every database back as it was before, then starts the app)",
		"a ship was killed while it replaced the databases (%s)", what)
}
