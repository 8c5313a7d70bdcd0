package gate

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/onhost"
	"github.com/shipdeploy/ship/spec"
)

// Settle is how long every follower must have run before the gate puts
// the replicas back: a follower that crashes at start (its history pruned,
// say) restarts again and again, and its replicas stay out meanwhile
// instead of flapping with it.
const Settle = 5 * time.Second

// recheck is how often the gate looks without an event: Docker's events
// are missed while the engine restarts.
const recheck = 30 * time.Second

// healthyRecord is the kind of deploy's record of the version a role runs
// on a host (deploy/repair.go healthyRecord): the gate starts only a
// container of that version.
const healthyRecord = "healthy"

// files is where the gate's files are on the host.
type files struct {
	dir, log string
}

func (f files) data() string  { return path.Join(f.dir, "gate.conf") }
func (f files) state() string { return path.Join(f.dir, "stopped") }

// positions is where the gate keeps each follower's copy position while
// it is behind the replica: a stuck follower is told apart from a slow
// one across checks, and across the gate's restarts.
func (f files) positions() string { return path.Join(f.dir, "positions") }

func filesFor(home string, c *config.Config) files {
	return files{dir: path.Join(spec.AppDir(home, c), "gate"), log: path.Join(spec.AppDir(home, c), "gate.jsonl")}
}

// Roles are the replica roles with a container on the host named host.
func Roles(c *config.Config, host string) []*config.Role {
	var out []*config.Role
	for _, r := range c.Roles {
		if r.IsReplica() && slices.ContainsFunc(r.Hosts, func(h config.Host) bool { return h.Address == host }) {
			out = append(out, r)
		}
	}
	return out
}

// Followers are the follower containers of a replica host, one per
// database the litestream section backs up.
func Followers(c *config.Config) []string {
	if c.Litestream == nil {
		return nil
	}
	out := make([]string, 0, len(c.Litestream.Databases))
	for _, db := range c.Litestream.Databases {
		out = append(out, spec.FollowerName(c, db))
	}
	return out
}

// render writes the gate's data file for the replica roles on a host
// whose login user's home is home and whose Docker engine has the ID
// engine.
func render(c *config.Config, home, engine string, roles []*config.Role) ([]byte, error) {
	var h onhost.Conf
	f := filesFor(home, c)
	h.Add("engine", engine)
	h.Add("service", c.Service)
	if c.Destination != "" {
		h.Add("destination", c.Destination)
	}
	for _, r := range roles {
		fields := []string{r.Name, spec.ContainerPrefix(c, r.Name), deploy.RecordFile(home, c, healthyRecord, r.Name)}
		if slices.ContainsFunc(fields, func(s string) bool { return strings.Contains(s, "\t") }) {
			return nil, fmt.Errorf("role %s: a tab cannot be passed to the gate on the host", r.Name)
		}
		h.Add("role", strings.Join(fields, "\t"))
	}
	h.Add("follower", Followers(c)...)
	cps, err := copies(c)
	if err != nil {
		return nil, err
	}
	h.Add("copy", cps...)
	h.Add("state", f.state())
	h.Add("positions", f.positions())
	h.Add("log", f.log)
	h.Add("settle", seconds(Settle))
	h.Add("recheck", seconds(recheck))
	h.Add("stop_timeout", "1")
	return h.Text()
}

// copies are, per follower, what the gate needs to compare its copy with
// the replica: "FOLLOWER<TAB>DB<TAB>VOLUME<TAB>PATH", the database as the
// follower sees it, its copy volume and the copy's path inside it.
func copies(c *config.Config) ([]string, error) {
	if c.Litestream == nil {
		return nil, nil
	}
	var out []string
	for _, db := range c.Litestream.Databases {
		m, rel, err := c.DatabaseVolume(db)
		if err != nil {
			return nil, fmt.Errorf("the gate compares the copy of %s with the replica: %w", db, err)
		}
		fields := []string{spec.FollowerName(c, db), db, spec.ReplicaVolume(c, m), path.Clean(rel)}
		if slices.ContainsFunc(fields, func(s string) bool { return strings.Contains(s, "\t") }) {
			return nil, fmt.Errorf("%s: a tab cannot be passed to the gate on the host", db)
		}
		out = append(out, strings.Join(fields, "\t"))
	}
	return out, nil
}

func seconds(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }
