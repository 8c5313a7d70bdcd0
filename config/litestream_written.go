package config

import (
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/kballard/go-shellquote"
	"gopkg.in/yaml.v3"

	"github.com/shipdeploy/ship/volumes"
)

// writtenLitestream reads the hand-written Litestream accessory, when the
// config has one and no litestream section, into the model the section
// produces (c.Litestream, with Written set), so that ship db, restore
// points and rollback --restore-data work on its databases unchanged.
//
// An accessory is one when its image is Litestream's (IsLitestream, the
// rule the single-writer guard already lets replicate) and one of its
// files is the configuration Litestream reads: the -config of its cmd,
// else LITESTREAM_CONFIG of its clear env, else /etc/litestream.yml.
// ship reads that file as uploaded from this machine; it never generates
// or rewrites it.
func (d *decoder) writtenLitestream(root *yaml.Node, c *Config) {
	if c.Litestream != nil {
		return // the section's, checked by litestreamAccessory
	}
	var found *Accessory
	for _, a := range c.Accessories {
		if !IsLitestream(a.Image) {
			continue
		}
		n := d.accessoryNode(root, a.Name)
		configPath, noExpand := litestreamConfigPath(a)
		i := slices.IndexFunc(a.Files, func(f File) bool { return path.Clean(f.Remote) == configPath })
		if i < 0 {
			if mountsWritable(a, c.Volumes) {
				d.warnf(n, "accessories."+a.Name, "ship db does not read this Litestream: none of its files is put at %s, where it reads its configuration. "+
					"Upload your litestream.yml with files (- config/litestream.yml:%s) for ship db and restore points to work", configPath, configPath)
			}
			continue
		}
		if strings.HasSuffix(a.Files[i].Local, ".erb") {
			d.warnf(n, "accessories."+a.Name, "ship db does not read %s: it is an ERB template. Render it into a plain litestream.yml for ship db and restore points to work", a.Files[i].Local)
			continue
		}
		if found != nil {
			d.errorf(n, "accessories."+a.Name, "is a second Litestream accessory besides %s: ship db restores through one. "+
				"List every database in one litestream.yml and drop the other accessory", found.Name)
			continue
		}
		found = a
		d.readWritten(n, c, a, a.Files[i], configPath, noExpand)
	}
}

// readWritten reads the file of accessory a and maps its databases to the
// app's volumes.
func (d *decoder) readWritten(n *yaml.Node, c *Config, a *Accessory, f File, configPath string, noExpand bool) {
	p := "accessories." + a.Name
	file := LocalPath(d.root, f.Local)
	src, err := os.ReadFile(file)
	if err != nil {
		return // filePaths reported it
	}
	env := maps.Clone(a.Env.Clear)
	if env == nil {
		env = map[string]string{}
	}
	for _, s := range a.Env.Secrets {
		env[s.Name] = s.Value.Reveal()
	}
	l := &Litestream{Image: a.Image, LagWarning: defaultLagWarning}
	lf := d.litestreamFile(file, a.Name, src, env, noExpand, imageVersion(a.Image))
	if lf == nil {
		return
	}
	host, ok := d.writtenHost(n, c, a)
	if !ok {
		return
	}
	l.SyncInterval = lf.syncInterval
	l.Written = &WrittenLitestream{Accessory: a.Name, File: f.Local, Config: configPath, NoExpand: noExpand, Host: host, Socket: lf.socket}
	for _, db := range lf.dbs {
		appPath, ok := d.appPath(db, c, a, p)
		if !ok {
			continue
		}
		if w, dup := l.written(appPath); dup {
			d.errorf(db.at, "dbs", "%s is the same database as %s: list it once", db.path, w.Litestream)
			continue
		}
		l.Databases = append(l.Databases, appPath)
		l.Written.DBs = append(l.Written.DBs, WrittenDB{Path: appPath, Litestream: db.path, Replica: db.replica})
	}
	if len(l.Databases) == len(lf.dbs) {
		c.Litestream = l
	}
}

// writtenHost is the one host the accessory runs on, which must be the
// primary role's one host: ship db restores the databases there, and
// restore points are recorded in its swaps.
func (d *decoder) writtenHost(n *yaml.Node, c *Config, a *Accessory) (string, bool) {
	hosts := c.AccessoryHosts(a)
	primary := c.Role(c.PrimaryRole)
	if primary == nil {
		return "", false // reported by primaryRole
	}
	if len(primary.Hosts) != 1 {
		d.errorf(n, "accessories."+a.Name, "the primary role %s runs on %d hosts, each with its own database, and ship db works on the one Litestream replicates: "+
			"run %s on one host, with this accessory beside it", primary.Name, len(primary.Hosts), primary.Name)
		return "", false
	}
	if len(hosts) != 1 || hosts[0] != primary.Hosts[0].Address {
		d.errorf(n, "accessories."+a.Name, "runs on %s, but the app's database is on %s, the primary role's host: "+
			"run this accessory there alone (host: %s)", orNone(hosts), primary.Hosts[0].Address, primary.Hosts[0].Address)
		return "", false
	}
	return hosts[0], true
}

// appPath maps a database path inside the Litestream container to the app
// container, through a volume both mount: the same named volume, or host
// directories one of which holds the other.
func (d *decoder) appPath(db fileDB, c *Config, a *Accessory, p string) (string, bool) {
	for _, v := range a.Volumes {
		rel, ok := below(db.path, v.Target)
		if !ok {
			continue
		}
		for _, app := range c.Volumes {
			if app.ReadOnly() {
				continue
			}
			var appRel string
			switch {
			case !v.IsHostPath() && !app.IsHostPath() && v.Source == app.Source:
				appRel, ok = rel, true
			case v.IsHostPath() && app.IsHostPath():
				appRel, ok = below(path.Join(v.Source, rel), app.Source)
			default:
				ok = false
			}
			if !ok || appRel == "" {
				continue
			}
			if v.ReadOnly() {
				d.errorf(db.at, "dbs", "%s is on %s, which %s mounts read-only: Litestream writes to the database (checkpoints), and ship restores through it. "+
					"Drop :ro from %s.volumes", db.path, v.Source, p, p)
				return "", false
			}
			return path.Join(app.Target, appRel), true
		}
	}
	d.errorf(db.at, "dbs", "%s is on no volume that %s shares with the app, so it is not the app's database: ship db could not reach it. "+
		"Mount the app's volume in %s.volumes (the app has: %s) and keep the database on it", db.path, p, p, strings.Join(appVolumes(c.Volumes), ", "))
	return "", false
}

// below is p relative to dir when p is inside it; both are clean.
func below(p, dir string) (string, bool) {
	dir = strings.TrimSuffix(path.Clean(dir), "/")
	rel, ok := strings.CutPrefix(p, dir+"/")
	return rel, ok && rel != ""
}

// litestreamConfigPath is where the accessory's Litestream reads its
// configuration, as Litestream decides it: -config in its cmd, else
// LITESTREAM_CONFIG, else /etc/litestream.yml; and whether the cmd turns
// off the expansion of variables.
func litestreamConfigPath(a *Accessory) (string, bool) {
	configPath := LitestreamConfigPath
	if v := a.Env.Clear["LITESTREAM_CONFIG"]; v != "" {
		configPath = v
	}
	words, _ := shellquote.Split(a.Cmd) // a bad cmd is reported by spec
	noExpand := false
	for i, w := range words {
		flag := strings.TrimPrefix(strings.TrimPrefix(w, "-"), "-")
		if flag == w {
			continue // not a flag
		}
		switch {
		case flag == "config" && i+1 < len(words):
			configPath = words[i+1]
		case strings.HasPrefix(flag, "config="):
			configPath = strings.TrimPrefix(flag, "config=")
		case flag == "no-expand-env" || flag == "no-expand-env=true":
			noExpand = true
		}
	}
	return path.Clean(configPath), noExpand
}

// mountsWritable says whether an accessory mounts one of the app's
// writable volumes writable.
func mountsWritable(a *Accessory, app []volumes.Mount) bool {
	for _, v := range a.Volumes {
		for _, x := range app {
			if !v.ReadOnly() && !x.ReadOnly() && v.Source == x.Source {
				return true
			}
		}
	}
	return false
}

// AccessoryHosts lists the hosts an accessory runs on: those named
// directly, every host of its roles, and every host with one of its
// tags, in config order.
func (c *Config) AccessoryHosts(a *Accessory) []string {
	var out []string
	add := func(h string) {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	for _, h := range a.Hosts {
		add(h)
	}
	for _, r := range c.Roles {
		for _, h := range r.Hosts {
			if slices.Contains(a.Roles, r.Name) || slices.ContainsFunc(h.Tags, func(t string) bool { return slices.Contains(a.Tags, t) }) {
				add(h.Address)
			}
		}
	}
	return out
}

func appVolumes(vols []volumes.Mount) []string {
	var out []string
	for _, v := range vols {
		if !v.ReadOnly() {
			out = append(out, v.String())
		}
	}
	if len(out) == 0 {
		return []string{"no writable volumes"}
	}
	return out
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "no host"
	}
	return strings.Join(list, ", ")
}
