package spec

import (
	"path"
	"regexp"
	"strings"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/volumes"
)

// EnvReadOnly is set to 1 in a replica role's containers: the app must
// open its databases read-only (docs/replicas.md, "What the app must do").
const EnvReadOnly = "SHIP_DB_READONLY"

// LabelFollower marks a follower container with the database it follows,
// as the app sees its path.
const LabelFollower = "ship.follower"

// FollowerName is the container that keeps a replica host's copy of db up
// to date (`litestream restore -f`): SERVICE-follower when Litestream
// backs up one database, SERVICE-follower-STEM for each of several, since
// one restore follows one database.
func FollowerName(c *config.Config, db string) string {
	name := c.ServiceAndDestination() + "-follower"
	if c.Litestream == nil || len(c.Litestream.Databases) <= 1 {
		return name
	}
	return name + "-" + stem(db)
}

// ReplicaVolume is the volume on a replica host that holds the copies of
// the databases web keeps in m: a name no role mounts, so no replica
// container can ever mount a volume that holds a writer's databases, and
// the follower is the only container that mounts it writable.
func ReplicaVolume(c *config.Config, m volumes.Mount) string {
	return c.ServiceAndDestination() + "-replica-" + stem(m.Source)
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// stem turns a path or volume name into a container-name-safe word:
// its last element without extension ("storage/production.sqlite3" →
// "production"), or the whole name, with other characters replaced.
func stem(p string) string {
	base := path.Base(p)
	if ext := path.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return strings.Trim(unsafeChars.ReplaceAllString(base, "-"), "-.")
}
