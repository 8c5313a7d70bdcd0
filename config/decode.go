package config

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/kballard/go-shellquote"
	"gopkg.in/yaml.v3"

	"github.com/shipdeploy/ship/volumes"
)

// Kamal's defaults, kept so a Kamal config behaves the same.
const (
	defaultRetainContainers = 5
	defaultTimeoutSeconds   = 30
	defaultAppPort          = 80
	defaultHealthPath       = "/up"
)

// decodeRoot decodes the whole configuration tree.
func (d *decoder) decodeRoot(root *yaml.Node, c *Config) {
	var serversNode, proxyNode, databasesNode *yaml.Node
	var requireDestination, allowEmptyRoles bool
	ok := d.object(root, "", fields{
		"service": func(v *yaml.Node, p string) {
			c.Service = d.str(v, p)
			if c.Service != "" && !nameRE.MatchString(c.Service) {
				d.errorf(v, p, "%q may contain only lowercase letters, digits, '-' and '_'", c.Service)
			}
		},
		"image":    func(v *yaml.Node, p string) { c.Image = d.image(v, p) },
		"servers":  func(v *yaml.Node, p string) { serversNode = v },
		"registry": func(v *yaml.Node, p string) { c.Registry = d.registry(v, p) },
		"env":      func(v *yaml.Node, p string) { c.Env = d.env(v, p) },
		"volumes":  func(v *yaml.Node, p string) { c.Volumes = d.volumes(v, p) },
		"labels":   func(v *yaml.Node, p string) { c.Labels = d.labels(v, p) },
		"logging":  func(v *yaml.Node, p string) { c.Logging = d.logging(v, p) },
		"proxy":    func(v *yaml.Node, p string) { proxyNode = v },
		"healthcheck": func(v *yaml.Node, p string) {
			c.Healthcheck = d.healthcheck(v, p)
		},
		"builder":     func(v *yaml.Node, p string) { c.Builder = d.builder(v, p) },
		"accessories": func(v *yaml.Node, p string) { c.Accessories = d.accessories(v, p) },
		"litestream":  func(v *yaml.Node, p string) { c.Litestream = d.litestream(v, p) },
		"databases":   func(v *yaml.Node, p string) { databasesNode = v },
		"ssh":         func(v *yaml.Node, p string) { c.SSH = d.ssh(v, p) },
		"boot":        func(v *yaml.Node, p string) { c.Boot = d.boot(v, p) },
		"aliases":     func(v *yaml.Node, p string) { c.Aliases = d.aliases(v, p) },
		"primary_role": func(v *yaml.Node, p string) {
			c.PrimaryRole = d.str(v, p)
		},
		"retain_containers": func(v *yaml.Node, p string) {
			c.RetainContainers = d.integer(v, p, 1, 1000)
		},
		"deploy_timeout":  func(v *yaml.Node, p string) { c.DeployTimeout = d.duration(v, p) },
		"drain_timeout":   func(v *yaml.Node, p string) { c.DrainTimeout = d.duration(v, p) },
		"stop_timeout":    func(v *yaml.Node, p string) { c.StopTimeout = d.duration(v, p) },
		"readiness_delay": func(v *yaml.Node, p string) { c.ReadinessDelay = d.duration(v, p) },
		"hooks_path":      func(v *yaml.Node, p string) { c.HooksPath = d.str(v, p) },
		"secrets_path":    func(v *yaml.Node, p string) { c.SecretsPath = d.str(v, p) },
		"asset_path": func(v *yaml.Node, p string) {
			c.AssetPath = d.assetPath(v, p)
		},
		"error_pages_path": func(v *yaml.Node, p string) { c.ErrorPagesPath = d.str(v, p) },
		"minimum_version": func(v *yaml.Node, p string) {
			// Kamal refuses to run when it is older than minimum_version.
			// That is a Kamal version: ship's own version numbers are not
			// comparable with it, so ship keeps the key (a Kamal config
			// loads) but checks nothing, and says so.
			c.MinimumVersion = d.str(v, p)
			d.warnf(resolve(v), p, "ship does not check Kamal's minimum_version: it names a Kamal version, not a ship one")
		},
		"require_destination": func(v *yaml.Node, p string) { requireDestination = d.boolean(v, p) },
		"allow_empty_roles":   func(v *yaml.Node, p string) { allowEmptyRoles = d.boolean(v, p) },
		// Kamal keys that only tune Kamal's own output, files and SSH
		// library: each accepted with a warning naming it.
		"hooks_output":  d.ignoredBecause("ship always prints hook output, prefixed with the hook's name"),
		"run_directory": d.ignoredBecause("ship keeps its files on each host under ~/.ship"),
		"output": func(v *yaml.Node, p string) {
			d.object(v, p, fields{
				"otel": d.section(fields{"endpoint": d.ignoredBecause("ship sends no OpenTelemetry data: use --json for a machine-readable report")}),
				"file": d.section(fields{"path": d.ignoredBecause("ship writes no output log file: redirect its output, or read the audit log on the hosts (ship audit)")}),
			})
		},
		"sshkit": func(v *yaml.Node, p string) {
			because := d.ignoredBecause("ship does not use SSHKit: it keeps one SSH connection per host and runs Docker through it")
			d.object(v, p, fields{"max_concurrent_starts": because, "pool_idle_timeout": because, "dns_retries": because})
		},
	})
	if !ok {
		return
	}
	d.require(root, "", "service", "image", "servers")
	if requireDestination && c.Destination == "" {
		d.errorf(resolve(root), "require_destination", "this configuration needs a destination: run with -d DESTINATION")
	}
	c.ProxyRun = d.proxyRun(nil, "")
	if proxyNode != nil {
		c.Proxy = d.proxy(proxyNode, "proxy", nil)
		if run := field(proxyNode, "run"); run != nil {
			c.ProxyRun = d.proxyRun(run, "proxy.run")
		}
	}
	if serversNode != nil {
		c.Roles = d.servers(serversNode, "servers", c, allowEmptyRoles)
		d.accessoryPlacement(root, c)
		d.proxyPlacement(root, serversNode, c)
		d.oneWriterPerHost(root, c)
		d.assetPaths(root, c)
	}
	d.primaryRole(root, c)
	d.litestreamAccessory(root, c)
	d.writtenLitestream(root, c)
	d.replicas(root, c)
	if databasesNode != nil {
		d.databases(databasesNode, c)
	}
}

// assetPaths refuses an asset_path that a volume of the app also mounts:
// Docker refuses two mounts at one path, and the assets volume would hide
// the data. As in Kamal, only a role behind kamal-proxy bridges assets;
// an asset_path that no such role uses gets a warning.
func (d *decoder) assetPaths(root *yaml.Node, c *Config) {
	top := field(root, "asset_path")
	topUsed := false
	for _, r := range c.Roles {
		raw, at, n := r.AssetPath, "servers."+r.Name+".asset_path", roleAssetPath(root, r.Name)
		if raw == "" {
			raw, at, n = c.AssetPath, "asset_path", top
			topUsed = topUsed || r.Proxy != nil
		}
		if raw == "" {
			continue
		}
		if r.Proxy == nil {
			if r.AssetPath != "" {
				d.warnf(resolve(n), at, "has no effect: role %s is not behind kamal-proxy, and only proxied roles carry assets over, as in Kamal", r.Name)
			}
			continue
		}
		dir, _, _ := strings.Cut(raw, ":")
		for _, v := range c.Volumes {
			if path.Clean(v.Target) == path.Clean(dir) {
				d.errorf(resolve(n), at, "volume %s is mounted at %s too: ship mounts each version's assets there; keep the assets in the image, or mount the volume elsewhere", v.Source, dir)
				return
			}
		}
	}
	if top != nil && c.AssetPath != "" && !topUsed {
		d.warnf(resolve(top), "asset_path", "has no effect: no role without its own asset_path is behind kamal-proxy, and only proxied roles carry assets over, as in Kamal")
	}
}

// roleAssetPath is the node of servers.ROLE.asset_path, nil if none.
func roleAssetPath(root *yaml.Node, role string) *yaml.Node {
	_, v := roleField(root, role, "asset_path")
	return v
}

// roleField is the key and value nodes of servers.ROLE.KEY, nil if none.
func roleField(root *yaml.Node, role, key string) (*yaml.Node, *yaml.Node) {
	for _, r := range pairs(field(root, "servers")) {
		if r.key.Value != role {
			continue
		}
		for _, k := range pairs(r.value) {
			if k.key.Value == key {
				return k.key, k.value
			}
		}
	}
	return nil, nil
}

// oneWriterPerHost refuses two roles on one host that both mount a
// writable app volume: they would be two writers of one SQLite database,
// which is what ship exists to prevent.
func (d *decoder) oneWriterPerHost(root *yaml.Node, c *Config) {
	writable := false
	for _, v := range c.Volumes {
		writable = writable || !v.ReadOnly()
	}
	if !writable {
		return
	}
	first := map[string]string{}
	for _, r := range c.Roles {
		if r.IsReplica() {
			continue // it mounts read-only copies, never the app's volumes (replicas.go)
		}
		for _, h := range r.Hosts {
			other, seen := first[h.Address]
			if !seen {
				first[h.Address] = r.Name
				continue
			}
			d.errorf(d.roleNode(root, r.Name), "servers."+r.Name,
				"roles %s and %s both run on %s and both mount the app's writable volumes: that is two writers of one database. "+
					"Run the work in one process instead (Rails 8: SOLID_QUEUE_IN_PUMA=true on the web role), "+
					"or move one role to another host, or mount the volumes read-only (:ro)", other, r.Name, h.Address)
		}
	}
}

// proxyPlacement refuses proxy settings that fail on the hosts: Let's
// Encrypt on a role with several hosts (each would ask for the same
// certificate; Kamal refuses it), and two roles routing one host name,
// which Kamal refuses for SSL roles and kamal-proxy refuses at deploy time
// on a server that runs both.
func (d *decoder) proxyPlacement(root, servers *yaml.Node, c *Config) {
	node := func(r *Role) *yaml.Node {
		if n := d.roleNode(root, r.Name); n != resolve(root) {
			return n
		}
		return resolve(servers) // a plain list of hosts
	}
	var proxied []*Role
	for _, r := range c.Roles {
		if r.Proxy == nil {
			continue
		}
		proxied = append(proxied, r)
		if r.Proxy.SSL && r.Proxy.Certificate == nil && len(r.Hosts) > 1 {
			d.errorf(node(r), "servers."+r.Name,
				"SSL is only supported on a single server unless you provide custom certificates, found %d servers for role %s: "+
					"Let's Encrypt issues a host name's certificate to one server (give proxy.ssl a certificate_pem and private_key_pem, or terminate TLS in front)",
				len(r.Hosts), r.Name)
		}
	}
	for j, b := range proxied {
		for _, a := range proxied[:j] {
			if len(a.Proxy.Hosts) == 0 && len(b.Proxy.Hosts) == 0 {
				d.hostless(node(b), a, b)
				continue
			}
			shared := sharedNames(a.Proxy.Hosts, b.Proxy.Hosts)
			if len(shared) == 0 {
				continue
			}
			if a.Proxy.SSL && b.Proxy.SSL {
				d.errorf(node(b), "servers."+b.Name,
					"Different roles can't share the same host for SSL: %s (roles %s and %s)", strings.Join(shared, ", "), a.Name, b.Name)
				continue
			}
			server := sharedServer(a.Hosts, b.Hosts)
			if server == "" || len(sharedNames(prefixes(a.Proxy), prefixes(b.Proxy))) == 0 {
				continue // two kamal-proxies, or two paths of one host
			}
			d.errorf(node(b), "servers."+b.Name,
				"roles %s and %s both route %s on %s: kamal-proxy refuses a host and path another service has at deploy time; "+
					"give one role another proxy host or path_prefix, or another server", a.Name, b.Name, strings.Join(shared, ", "), server)
		}
	}
}

// hostless refuses two proxied roles without a host on one server: each
// asks kamal-proxy for every request to the server, and kamal-proxy
// refuses the second at deploy time ("host settings conflict with another
// service"), unless their path prefixes differ.
func (d *decoder) hostless(n *yaml.Node, a, b *Role) {
	server := sharedServer(a.Hosts, b.Hosts)
	if server == "" || len(sharedNames(prefixes(a.Proxy), prefixes(b.Proxy))) == 0 {
		return
	}
	d.errorf(n, "servers."+b.Name,
		"roles %s and %s are both proxied without a host on %s: kamal-proxy routes requests without a host to one service per server and refuses the second at deploy time; "+
			"give each role a proxy host, or one of them a different path_prefix, or put them on different servers", a.Name, b.Name, server)
}

// sharedNames are the names in both lists, in a's order.
func sharedNames(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y && x != "" {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

func sharedServer(a, b []Host) string {
	for _, x := range a {
		for _, y := range b {
			if x.Address == y.Address {
				return x.Address
			}
		}
	}
	return ""
}

// prefixes are the paths a proxy routes; none is all of them.
func prefixes(p *Proxy) []string {
	if len(p.PathPrefixes) == 0 {
		return []string{"/"}
	}
	return p.PathPrefixes
}

func (d *decoder) roleNode(root *yaml.Node, name string) *yaml.Node {
	for _, p := range pairs(root) {
		if p.key.Value == "servers" {
			for _, r := range pairs(p.value) {
				if r.key.Value == name {
					return r.key
				}
			}
		}
	}
	return resolve(root)
}

// accessoryPlacement checks that accessories run on roles and tags that
// exist: otherwise they would silently run nowhere.
func (d *decoder) accessoryPlacement(root *yaml.Node, c *Config) {
	tags := map[string]bool{}
	for _, r := range c.Roles {
		for _, h := range r.Hosts {
			for _, t := range h.Tags {
				tags[t] = true
			}
		}
	}
	for _, a := range c.Accessories {
		n := d.accessoryNode(root, a.Name)
		for _, role := range a.Roles {
			if c.Role(role) == nil {
				d.errorf(n, "accessories."+a.Name, "role %q is not defined in servers", role)
			}
		}
		for _, t := range a.Tags {
			if !tags[t] {
				d.errorf(n, "accessories."+a.Name, "no host in servers has the tag %q", t)
			}
		}
	}
}

func (d *decoder) accessoryNode(root *yaml.Node, name string) *yaml.Node {
	for _, p := range pairs(root) {
		if p.key.Value == "accessories" {
			for _, a := range pairs(p.value) {
				if a.key.Value == name {
					return a.key
				}
			}
		}
	}
	return resolve(root)
}

// aliases reads Kamal's command shortcuts: each a ship command line,
// split as the shell would when the alias runs.
func (d *decoder) aliases(n *yaml.Node, path string) map[string]string {
	m := d.stringMap(n, path)
	for _, p := range pairs(n) {
		words, err := shellquote.Split(m[p.key.Value])
		v := resolve(p.value)
		switch {
		case v.Kind != yaml.ScalarNode || v.Tag == "!!null":
			// reported by stringMap
		case err != nil || len(words) == 0:
			d.errorf(v, join(path, p.key.Value), "should be a ship command line, like: app exec -i --reuse \"bin/rails console\"")
		case m[words[0]] != "":
			d.errorf(v, join(path, p.key.Value), "runs the alias %s: an alias runs a ship command; write that alias's command line here", words[0])
		}
	}
	return m
}

// ignoredBecause accepts a Kamal key that has no effect in ship, with a
// warning that says why.
func (d *decoder) ignoredBecause(why string) func(v *yaml.Node, p string) {
	return func(v *yaml.Node, p string) { d.warnf(resolve(v), p, "has no effect in ship: %s", why) }
}

// section decodes a mapping of the given fields.
func (d *decoder) section(f fields) func(v *yaml.Node, p string) {
	return func(v *yaml.Node, p string) { d.object(v, p, f) }
}

// assetPath checks asset_path, Kamal's PATH[:OPTIONS]: an absolute path
// in the app container, and the mount options Kamal documents for it.
func (d *decoder) assetPath(v *yaml.Node, p string) string {
	s := d.str(v, p)
	if s == "" {
		return s
	}
	dir, opts, _ := strings.Cut(s, ":")
	if !path.IsAbs(dir) || path.Clean(dir) == "/" {
		d.errorf(resolve(v), p, "%q must be an absolute directory in the app container other than /, such as /rails/public/assets", dir)
	}
	if opts == "" {
		return s
	}
	for _, o := range strings.Split(opts, ",") {
		if !slices.Contains([]string{"ro", "rw", "z", "Z"}, o) {
			d.errorf(resolve(v), p, "mount option %q is not one of ro, rw, z, Z", o)
		}
	}
	return s
}

func (d *decoder) image(v *yaml.Node, p string) string {
	s := d.str(v, p)
	if s == "" {
		return s
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		d.errorf(v, p, "%q is not a valid image name: %v", s, err)
		return s
	}
	if _, tagged := named.(reference.Tagged); tagged {
		d.errorf(v, p, "%q has a tag; give the repository only, ship tags each version", s)
	}
	return s
}

func (d *decoder) registry(n *yaml.Node, path string) Registry {
	var r Registry
	ok := d.object(n, path, fields{
		"server": func(v *yaml.Node, p string) { r.Server = d.str(v, p) },
		"username": func(v *yaml.Node, p string) {
			r.Username = d.secretOrLiteral(v, p).Reveal()
			r.usernameSecret = resolve(v).Kind == yaml.SequenceNode
		},
		"password": func(v *yaml.Node, p string) { r.Password = d.secretOrLiteral(v, p) },
	})
	if !ok {
		return r
	}
	// Kamal requires a username and password wherever a registry is set,
	// except for a registry on localhost; ship would otherwise pull
	// anonymously and fail on the hosts at deploy time.
	if len(pairs(n)) == 0 {
		instead := "remove the section to send images to the servers over SSH"
		if path != "registry" {
			instead = "remove it to use the app's registry"
		}
		d.errorf(resolve(n), path, "is empty: give server, username and password, or %s", instead)
		return r
	}
	if !localRegistry(r.Server) {
		have := map[string]bool{}
		for _, p := range pairs(n) {
			have[p.key.Value] = true
		}
		for _, k := range []string{"username", "password"} {
			if !have[k] {
				d.errorf(resolve(n), join(path, k), "is required: a registry needs a username and password")
			}
		}
	}
	return r
}

// localRegistry is Kamal's test for a registry on localhost, which needs
// no login.
func localRegistry(server string) bool {
	return server == "localhost" || strings.HasPrefix(server, "localhost:")
}

// reservedLabels are the labels ship sets on every container to find it
// again; Kamal refuses them too.
var reservedLabels = map[string]bool{"service": true, "role": true, "destination": true}

// labels reads a labels map, refusing the reserved ones.
func (d *decoder) labels(n *yaml.Node, path string) map[string]string {
	m := d.stringMap(n, path)
	for _, p := range pairs(n) {
		if reservedLabels[p.key.Value] {
			d.errorf(p.key, join(path, p.key.Value), "invalid label: destination, role and service are reserved labels, which ship sets itself")
		}
	}
	return m
}

// secretOrLiteral reads Kamal's two forms: a literal string, or a one-item
// list naming a secret (`password: [KAMAL_REGISTRY_PASSWORD]`).
func (d *decoder) secretOrLiteral(n *yaml.Node, path string) Secret {
	if resolve(n).Kind == yaml.SequenceNode {
		names := d.strings(n, path)
		if len(names) != 1 {
			d.errorf(resolve(n), path, "should name exactly one secret, like [KAMAL_REGISTRY_PASSWORD]")
			return Secret{}
		}
		return d.secret(resolve(n).Content[0], path, names[0])
	}
	return NewSecret(d.str(n, path))
}

func (d *decoder) volumes(n *yaml.Node, path string) []volumes.Mount {
	var out []volumes.Mount
	for i, item := range d.list(n, path) {
		p := index(path, i)
		var m volumes.Mount
		var err error
		if resolve(item).Kind == yaml.MappingNode {
			var opts string
			d.object(item, p, fields{
				"source":  func(v *yaml.Node, p string) { m.Source = d.str(v, p) },
				"target":  func(v *yaml.Node, p string) { m.Target = d.str(v, p) },
				"options": func(v *yaml.Node, p string) { opts = d.str(v, p) },
				"owner":   func(v *yaml.Node, p string) { m.Owner = d.str(v, p) },
				"mode":    func(v *yaml.Node, p string) { m.Mode = d.str(v, p) },
			})
			d.require(item, p, "source", "target")
			if opts != "" {
				m.Options = strings.Split(opts, ",")
			}
			err = m.Validate()
		} else {
			m, err = volumes.Parse(d.str(item, p))
		}
		if err != nil {
			d.errorf(resolve(item), p, "%v", err)
			continue
		}
		out = append(out, m)
	}
	return out
}

func (d *decoder) logging(n *yaml.Node, path string) Logging {
	var l Logging
	d.object(n, path, fields{
		"driver":  func(v *yaml.Node, p string) { l.Driver = d.str(v, p) },
		"options": func(v *yaml.Node, p string) { l.Options = d.stringMap(v, p) },
	})
	return l
}

func (d *decoder) healthcheck(n *yaml.Node, path string) Healthcheck {
	var h Healthcheck
	d.object(n, path, fields{
		"path": func(v *yaml.Node, p string) {
			h.Path = d.str(v, p)
			if !strings.HasPrefix(h.Path, "/") {
				d.errorf(v, p, "%q should start with /", h.Path)
			}
		},
		"port":     func(v *yaml.Node, p string) { h.Port = d.port(v, p) },
		"interval": func(v *yaml.Node, p string) { h.Interval = d.duration(v, p) },
		"timeout":  func(v *yaml.Node, p string) { h.Timeout = d.duration(v, p) },
	})
	return h
}

func (d *decoder) boot(n *yaml.Node, path string) Boot {
	var b Boot
	d.object(n, path, fields{
		"limit": func(v *yaml.Node, p string) {
			s := d.str(v, p)
			if pct, ok := strings.CutSuffix(s, "%"); ok {
				var x int
				if _, err := fmt.Sscanf(pct, "%d", &x); err != nil || x < 1 || x > 100 {
					d.errorf(v, p, "%q should be a number of hosts or a percentage from 1%% to 100%%", s)
				}
				b.LimitPercent = x
				return
			}
			b.Limit = d.integer(v, p, 1, 100000)
		},
		"wait": func(v *yaml.Node, p string) { b.Wait = d.duration(v, p) },
		"parallel_roles": func(v *yaml.Node, p string) {
			// false is what ship does: a host's roles swap one after another.
			if b.ParallelRoles = d.boolean(v, p); b.ParallelRoles {
				d.warnf(resolve(v), p, "has no effect in ship: the roles on one host always swap one after another, so that each has the database to itself")
			}
		},
	})
	return b
}
