package spec

import (
	"fmt"
	"hash/fnv"
	"net"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/docker/go-connections/nat"

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

// ReplicaApp builds the container of replica role r at version on host:
// the app's container with EnvReadOnly=1, every volume mounted read-only,
// each volume holding a database of the litestream section replaced by
// its copy (ReplicaVolume) at the same path, and, unless hostPort is 0,
// the app port of the role it replicates published at hostPort on the
// host's own address, for that role's kamal-proxy to reach as a read
// target. Files in the volumes other than the databases are not copied:
// a replica serves what its databases hold.
func ReplicaApp(c *config.Config, r *config.Role, host config.Host, version string, hostPort int) (*Container, error) {
	writer := c.Role(r.ReplicaOf)
	if writer == nil || writer.Proxy == nil || c.Litestream == nil {
		return nil, fmt.Errorf("role %s: replica_of %q needs a proxied role and a litestream section", r.Name, r.ReplicaOf)
	}
	ip := net.ParseIP(host.Hostname())
	if ip == nil {
		return nil, fmt.Errorf("role %s: host %s: a replica host must be an IP address, where the writer's kamal-proxy reaches it", r.Name, host.Address)
	}
	ct, err := App(c, r, host, version)
	if err != nil {
		return nil, err
	}
	copies := map[string]string{} // app volume source → its copy
	for _, db := range c.Litestream.Databases {
		m, _, err := c.DatabaseVolume(db)
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", r.Name, err)
		}
		copies[m.Source] = ReplicaVolume(c, m)
	}
	ct.Host.Binds = nil
	for _, v := range c.Volumes {
		if cp, ok := copies[v.Source]; ok {
			v.Source = cp
		}
		v.Options = append(slices.DeleteFunc(slices.Clone(v.Options), func(o string) bool { return o == "rw" || o == "ro" }), "ro")
		ct.Host.Binds = append(ct.Host.Binds, v.String())
	}
	if hostPort != 0 {
		port := nat.Port(fmt.Sprintf("%d/tcp", writer.Proxy.AppPort))
		ct.Config.ExposedPorts = nat.PortSet{port: {}}
		ct.Host.PortBindings = nat.PortMap{port: {{HostIP: ip.String(), HostPort: strconv.Itoa(hostPort)}}}
	}
	return ct, nil
}

// ReplicaPorts are the two host ports a replica role's containers are
// published on, taken in turn so that a new container can start while
// the old one serves: fixed for the role, because kamal-proxy keeps a
// read target's address, and a port Docker picked would change each
// time the container starts. They are derived from the service's and
// role's names, an even port from 20000 to 29998 and the next one, so
// that apps on one host rarely meet; a clash fails the start and names
// the port.
func ReplicaPorts(c *config.Config, r *config.Role) [2]int {
	h := fnv.New32a()
	h.Write([]byte(c.ServiceAndDestination() + "/" + r.Name))
	p := 20000 + int(h.Sum32()%5000)*2
	return [2]int{p, p + 1}
}

// ReadTarget is the address a replica container answers at for the
// writer's kamal-proxy: the host's address and the port Docker published
// the app port on ("" when it has none).
func ReadTarget(hostAddress string, ports nat.PortMap, appPort int) string {
	for _, b := range ports[nat.Port(fmt.Sprintf("%d/tcp", appPort))] {
		if b.HostPort != "" {
			return net.JoinHostPort(hostAddress, b.HostPort)
		}
	}
	return ""
}
