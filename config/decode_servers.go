package config

import (
	"gopkg.in/yaml.v3"
)

// servers reads either a plain list of hosts (one "web" role) or a map of
// roles, each a list of hosts or a map with hosts and settings.
func (d *decoder) servers(n *yaml.Node, path string, c *Config, allowEmpty bool) []*Role {
	n = resolve(n)
	if n.Kind == yaml.SequenceNode {
		r := &Role{Name: "web", Hosts: d.hosts(n, path)}
		d.roleDefaults(r, c, true)
		if len(n.Content) == 0 && !allowEmpty {
			d.errorf(n, path, "lists no hosts")
		}
		return []*Role{r}
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "should be a list of hosts or a map of roles, not %s", describe(n))
		return nil
	}
	primary := c.PrimaryRole
	if primary == "" {
		primary = "web"
	}
	var roles []*Role
	for _, p := range pairs(n) {
		name := p.key.Value
		rp := join(path, name)
		if !nameRE.MatchString(name) {
			d.errorf(p.key, rp, "role name %q may contain only lowercase letters, digits, '-' and '_'", name)
			continue
		}
		r := &Role{Name: name}
		before := len(d.problems)
		var proxyNode *yaml.Node
		v := resolve(p.value)
		switch v.Kind {
		case yaml.SequenceNode:
			r.Hosts = d.hosts(v, rp)
		case yaml.MappingNode:
			d.object(v, rp, fields{
				"hosts":       func(v *yaml.Node, p string) { r.Hosts = d.hosts(v, p) },
				"cmd":         func(v *yaml.Node, p string) { r.Cmd = d.str(v, p) },
				"options":     func(v *yaml.Node, p string) { r.Options = d.options(v, p, false) },
				"env":         func(v *yaml.Node, p string) { r.Env = d.env(v, p) },
				"labels":      func(v *yaml.Node, p string) { r.Labels = d.labels(v, p) },
				"logging":     func(v *yaml.Node, p string) { l := d.logging(v, p); r.Logging = &l },
				"proxy":       func(v *yaml.Node, p string) { proxyNode = v },
				"healthcheck": func(v *yaml.Node, p string) { r.Healthcheck = d.healthcheck(v, p) },
				"stop_timeout": func(v *yaml.Node, p string) {
					r.StopTimeout = d.duration(v, p)
				},
				"asset_path": func(v *yaml.Node, p string) {
					r.AssetPath = d.assetPath(v, p)
				},
				"replica_of": func(v *yaml.Node, p string) { r.ReplicaOf = d.str(v, p) },
			})
		default:
			d.errorf(v, rp, "should be a list of hosts or a map with hosts, not %s", describe(v))
			continue
		}
		d.roleProxy(r, proxyNode, rp, c, name == primary)
		d.roleDefaults(r, c, false)
		// A role whose hosts were all reported already is not empty too.
		if len(r.Hosts) == 0 && len(d.problems) == before && !allowEmpty {
			d.errorf(v, rp, "lists no hosts (set allow_empty_roles: true to allow that)")
		}
		roles = append(roles, r)
	}
	if len(roles) == 0 && len(n.Content) == 0 {
		d.errorf(n, path, "defines no roles")
	}
	return roles
}

// roleProxy decides whether a role is behind kamal-proxy. As in Kamal, the
// primary role is by default, others only when they say so.
func (d *decoder) roleProxy(r *Role, n *yaml.Node, path string, c *Config, primary bool) {
	enabled := primary && c.Proxy != nil
	if n != nil {
		v := resolve(n)
		if v.Kind == yaml.ScalarNode {
			enabled = d.boolean(v, join(path, "proxy"))
		} else {
			r.Proxy = d.proxy(v, join(path, "proxy"), c.Proxy)
			return
		}
	}
	if enabled {
		if c.Proxy != nil {
			p := *c.Proxy
			r.Proxy = &p
		} else {
			r.Proxy = d.proxy(nil, join(path, "proxy"), nil)
		}
	}
}

// roleDefaults fills what a role inherits from the top level.
func (d *decoder) roleDefaults(r *Role, c *Config, plainList bool) {
	if plainList && c.Proxy != nil {
		p := *c.Proxy
		r.Proxy = &p
	}
	if r.StopTimeout == 0 {
		r.StopTimeout = c.StopTimeout
	}
	r.Healthcheck = mergeHealthcheck(c.Healthcheck, r.Healthcheck)
}

func mergeHealthcheck(base, over Healthcheck) Healthcheck {
	if over.Path != "" {
		base.Path = over.Path
	}
	if over.Port != 0 {
		base.Port = over.Port
	}
	if over.Interval != 0 {
		base.Interval = over.Interval
	}
	if over.Timeout != 0 {
		base.Timeout = over.Timeout
	}
	return base
}

// hosts reads host entries: "1.2.3.4", or "1.2.3.4: tag" / "1.2.3.4: [a, b]".
func (d *decoder) hosts(n *yaml.Node, path string) []Host {
	var out []Host
	seen := map[string]int{}
	for i, item := range d.list(n, path) {
		p := index(path, i)
		item = resolve(item)
		var h Host
		valueNode := item
		switch item.Kind {
		case yaml.ScalarNode:
			h.Address = d.str(item, p)
		case yaml.MappingNode:
			ps := pairs(item)
			if len(ps) != 1 {
				d.errorf(item, p, "a host with tags is written `HOST: tag` or `HOST: [tag1, tag2]`")
				continue
			}
			h.Address = ps[0].key.Value
			valueNode = ps[0].key
			h.Tags = d.stringOrList(ps[0].value, p)
		default:
			d.errorf(item, p, "should be a host name or address, not %s", describe(item))
			continue
		}
		if h.Address == "" {
			continue
		}
		if err := checkHost(h.Address); err != nil {
			d.errorf(valueNode, p, "%v", err)
			continue
		}
		if first, dup := seen[h.Address]; dup {
			d.errorf(valueNode, p, "host %s is listed twice in this role (first at %s)", h.Address, index(path, first))
			continue
		}
		seen[h.Address] = i
		out = append(out, h)
	}
	return out
}

func (d *decoder) primaryRole(root *yaml.Node, c *Config) {
	if len(c.Roles) == 0 {
		return
	}
	if c.PrimaryRole == "" {
		c.PrimaryRole = c.Roles[0].Name
		for _, r := range c.Roles {
			if r.Name == "web" {
				c.PrimaryRole = "web"
			}
		}
		return
	}
	if c.Role(c.PrimaryRole) == nil {
		n := resolve(root)
		for _, p := range pairs(n) {
			if p.key.Value == "primary_role" {
				n = p.value
			}
		}
		d.errorf(n, "primary_role", "role %q is not defined in servers", c.PrimaryRole)
	}
}
