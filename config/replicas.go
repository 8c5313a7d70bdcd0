package config

import (
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// defaultWriterAffinity is kamal-proxy's own default for
// --writer-affinity-timeout: how long a client that wrote keeps being
// routed to the writer, so that it reads its own write.
const defaultWriterAffinity = time.Second

// minFollowVersion is the first Litestream release with follow mode
// (`litestream restore -f`), which keeps a replica host's copy current.
var minFollowVersion = []int{0, 5, 16}

// replicas checks the replica roles (replica_of, a ship extension;
// docs/replicas.md). A replica role reads copies of the primary role's
// databases, which Litestream replicates and a follower on each of its
// own hosts restores, and serves them as read targets of the primary
// role's kamal-proxy.
func (d *decoder) replicas(root *yaml.Node, c *Config) {
	var first *Role
	for _, r := range c.Roles {
		if !r.IsReplica() {
			continue
		}
		if first == nil {
			first = r
		}
		d.replicaOf(root, c, r)
		d.replicaProxy(root, r)
		d.replicaHosts(root, c, r)
	}
	if first == nil {
		d.unusedAffinity(root, c)
		return
	}
	d.followMode(root, c, first)
}

// replicaOf checks the role a replica role names: the primary role, the
// one whose databases Litestream replicates, behind kamal-proxy.
func (d *decoder) replicaOf(root *yaml.Node, c *Config, r *Role) {
	_, v := roleField(root, r.Name, "replica_of")
	at, p := resolve(v), "servers."+r.Name+".replica_of"
	w := c.Role(r.ReplicaOf)
	switch {
	case w == nil:
		d.errorf(at, p, "role %q is not defined in servers: name the role whose databases this role reads%s", r.ReplicaOf, writerHint(c, r))
	case w == r:
		d.errorf(at, p, "role %s cannot be a replica of itself: name the role whose databases it reads%s", r.Name, writerHint(c, r))
	case w.IsReplica():
		d.errorf(at, p, "role %s is a replica itself (of %s): name the role that writes the databases, %s", w.Name, w.ReplicaOf, w.ReplicaOf)
	case r.Name == c.PrimaryRole:
		d.errorf(at, p, "role %s is the primary role, whose host holds the databases Litestream replicates: a replica reads another role's. Set primary_role: %s", r.Name, w.Name)
	case w.Name != c.PrimaryRole:
		d.errorf(at, p, "role %s is not the primary role: Litestream replicates the databases of the primary role (%s) on its host, and replicas read copies of those. Name %s here, or set primary_role: %s",
			w.Name, c.PrimaryRole, c.PrimaryRole, w.Name)
	case w.Proxy == nil:
		d.errorf(at, p, "role %s is not behind kamal-proxy: its kamal-proxy sends reads to this role's containers as read targets. Add a top-level proxy section, or proxy: true on role %s", w.Name, w.Name)
	}
}

// writerHint suggests the primary role as the one a replica reads, unless
// that is the replica itself.
func writerHint(c *Config, r *Role) string {
	if c.PrimaryRole == "" || c.PrimaryRole == r.Name {
		return ""
	}
	return ", such as " + c.PrimaryRole
}

// replicaProxy refuses a replica role behind a proxy of its own: its
// containers are reached through the writer's kamal-proxy.
func (d *decoder) replicaProxy(root *yaml.Node, r *Role) {
	if r.Proxy == nil {
		return
	}
	at, _ := roleField(root, r.Name, "proxy")
	if at == nil {
		return // the primary role, proxied by default: replicaOf says to make it another
	}
	d.errorf(at, "servers."+r.Name+".proxy", "a replica role has no kamal-proxy route of its own: the kamal-proxy of role %s sends reads to its containers as read targets. "+
		"Remove proxy here (proxy settings go on role %s or the top-level proxy)", r.ReplicaOf, r.ReplicaOf)
}

// replicaHosts checks a replica role's hosts: IP addresses, since the
// writer's kamal-proxy reaches the replica containers at HOSTIP:PORT, and
// none of them a host of the role it reads, whose databases are there.
func (d *decoder) replicaHosts(root *yaml.Node, c *Config, r *Role) {
	_, list := roleField(root, r.Name, "hosts")
	list = resolve(list)
	if list == nil || list.Kind != yaml.SequenceNode {
		return // reported by hosts
	}
	w := c.Role(r.ReplicaOf)
	for i, item := range list.Content {
		at := resolve(item)
		if at.Kind == yaml.MappingNode && len(at.Content) == 2 {
			at = at.Content[0] // HOST: tags
		}
		if at.Kind != yaml.ScalarNode || checkHost(at.Value) != nil {
			continue // reported by hosts
		}
		p := index("servers."+r.Name+".hosts", i)
		if net.ParseIP(splitHost(at.Value)) == nil {
			d.errorf(at, p, "%s is not an IP address: the kamal-proxy of role %s reaches this role's containers at HOSTIP:PORT, "+
				"so a replica role lists its hosts by the address the writer's host reaches them at", at.Value, r.ReplicaOf)
			continue
		}
		if w == nil {
			continue
		}
		for _, h := range w.Hosts {
			if sameHost(h.Address, at.Value) {
				d.errorf(at, p, "%s is a host of role %s too: a replica runs on other hosts than the role it reads, whose databases are on that host. Move it to a host of its own",
					at.Value, w.Name)
			}
		}
	}
}

// sameHost says whether two server addresses name one machine as far as
// the config shows: the same name, or the same IP address however
// written, whatever SSH port each gives.
func sameHost(a, b string) bool {
	a, b = splitHost(a), splitHost(b)
	if ia, ib := net.ParseIP(a), net.ParseIP(b); ia != nil && ib != nil {
		return ia.Equal(ib)
	}
	return strings.EqualFold(a, b)
}

// followMode checks that the config has a Litestream whose replica the
// followers restore from, of a release with follow mode.
func (d *decoder) followMode(root *yaml.Node, c *Config, r *Role) {
	l := c.Litestream
	if l == nil {
		_, v := roleField(root, r.Name, "replica_of")
		d.errorf(resolve(v), "servers."+r.Name+".replica_of", "needs Litestream: each replica host follows the databases of role %s from their Litestream replica. "+
			"Add a litestream section (see deploy.example.yml)", r.ReplicaOf)
		return
	}
	if l.Written != nil {
		// The followers are made from the section's generated config and
		// credentials (follower/); a hand-written litestream.yml may name
		// other replicas and settings ship does not follow.
		_, v := roleField(root, r.Name, "replica_of")
		d.errorf(resolve(v), "servers."+r.Name+".replica_of", "needs the litestream section: replica hosts follow what ship's own Litestream configuration replicates, and the hand-written accessory %s is not followed yet. "+
			"Replace the accessory with a litestream section (see deploy.example.yml)", l.Written.Accessory)
		return
	}
	at, p := d.litestreamImage(root)
	switch imageFollows(l.Image) {
	case followNone:
		d.errorf(at, p, "%s has no follow mode (litestream restore -f), which replica roles need: it came in Litestream %s. Use litestream/litestream:0.5.18 or later",
			l.Image, followSince())
	case followUnknown:
		d.warnf(at, p, "%s names no Litestream version ship can check: replica roles need follow mode (litestream restore -f), which came in Litestream %s. "+
			"Pin a version, such as litestream/litestream:0.5.18", l.Image, followSince())
	}
}

// litestreamImage is where the litestream section's image is set, for
// messages: its image, or the section itself when it takes the default.
func (d *decoder) litestreamImage(root *yaml.Node) (*yaml.Node, string) {
	if v := field(field(root, "litestream"), "image"); v != nil {
		return resolve(v), "litestream.image"
	}
	return d.sectionNode(root, "litestream"), "litestream"
}

// followSupport is whether a Litestream image has follow mode.
type followSupport int

const (
	followUnknown followSupport = iota // latest, a digest, 0.5: no release named
	followNone                         // a release before 0.5.16
	followYes                          // 0.5.16 or later
)

func (f followSupport) String() string {
	switch f {
	case followNone:
		return "no follow mode"
	case followYes:
		return "follow mode"
	}
	return "unknown"
}

// followSince is the release follow mode came in, as it is written.
func followSince() string {
	parts := make([]string, len(minFollowVersion))
	for i, n := range minFollowVersion {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ".")
}

// imageFollows reads an image's tag as a Litestream release and compares
// it with minFollowVersion. A tag that names only part of a version, such
// as 0.5, moves from release to release and may be older.
func imageFollows(image string) followSupport {
	name, _, _ := strings.Cut(path.Base(image), "@")
	_, tag, _ := strings.Cut(name, ":")
	tag, _, _ = strings.Cut(strings.TrimPrefix(tag, "v"), "-") // 0.5.18-amd64
	var v []int
	for _, s := range strings.Split(tag, ".") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || len(v) == len(minFollowVersion) {
			return followUnknown
		}
		v = append(v, n)
	}
	switch c := slices.Compare(v, minFollowVersion[:len(v)]); {
	case c < 0:
		return followNone
	case c > 0 || len(v) == len(minFollowVersion):
		return followYes
	}
	return followUnknown
}

// unusedAffinity warns of a writer_affinity_timeout without a replica
// role: kamal-proxy applies it only to a service with read targets.
func (d *decoder) unusedAffinity(root *yaml.Node, c *Config) {
	why := "has no effect: no role is a replica (replica_of), so kamal-proxy has no read targets to keep a client that wrote away from"
	if v := field(field(root, "proxy"), "writer_affinity_timeout"); v != nil {
		d.warnf(resolve(v), "proxy.writer_affinity_timeout", "%s", why)
	}
	for _, r := range c.Roles {
		_, proxy := roleField(root, r.Name, "proxy")
		if v := field(proxy, "writer_affinity_timeout"); v != nil {
			d.warnf(resolve(v), "servers."+r.Name+".proxy.writer_affinity_timeout", "%s", why)
		}
	}
}

// replicaDefaults gives every proxy kamal-proxy's default writer affinity
// when a role is a replica, unless writer_affinity_timeout is set (0 turns
// it off). Without a replica it stays unset: nothing uses it.
func (c *Config) replicaDefaults() {
	if !slices.ContainsFunc(c.Roles, (*Role).IsReplica) {
		return
	}
	proxies := []*Proxy{c.Proxy}
	for _, r := range c.Roles {
		proxies = append(proxies, r.Proxy)
	}
	for _, p := range proxies {
		if p != nil && !p.writerAffinitySet {
			p.WriterAffinityTimeout = defaultWriterAffinity
		}
	}
}
