package config

import (
	"errors"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kballard/go-shellquote"
	"gopkg.in/yaml.v3"

	"github.com/shipdeploy/ship/runopts"
	"github.com/shipdeploy/ship/ssh"
	"github.com/shipdeploy/ship/volumes"
)

func (d *decoder) ssh(n *yaml.Node, p string) SSH {
	var s SSH
	d.object(n, p, fields{
		"user": func(v *yaml.Node, kp string) {
			// It reaches a local shell through proxy_command's %r.
			s.User = d.str(v, kp)
			if err := ssh.CheckUser(s.User); s.User != "" && err != nil {
				d.errorf(resolve(v), kp, "%v", err)
			}
		},
		"port": func(v *yaml.Node, kp string) { s.Port = d.port(v, kp) },
		"proxy": func(v *yaml.Node, kp string) {
			s.Proxy = d.str(v, kp)
			host := s.Proxy
			if u, h, ok := strings.Cut(host, "@"); ok {
				host = h
				if err := ssh.CheckUser(u); err != nil {
					d.errorf(resolve(v), kp, "jump host %q: %v", s.Proxy, err)
					return
				}
			}
			if err := checkHost(host); err != nil {
				d.errorf(resolve(v), kp, "jump host %q should be [user@]host[:port]", s.Proxy)
			}
		},
		"proxy_command": func(v *yaml.Node, kp string) {
			s.ProxyCommand = d.str(v, kp)
			if err := ssh.CheckProxyCommand(s.ProxyCommand); err != nil {
				d.errorf(resolve(v), kp, "%v", err)
			}
		},
		"keys": func(v *yaml.Node, kp string) { s.Keys = d.strings(v, kp) },
		"key_data": func(v *yaml.Node, kp string) {
			// Each entry names a secret holding a private key, or is the
			// key itself.
			for i, item := range d.list(v, kp) {
				ip := index(kp, i)
				val := d.str(item, ip)
				if strings.HasPrefix(val, "-----BEGIN") {
					s.KeyData = append(s.KeyData, NewSecret(val))
				} else {
					s.KeyData = append(s.KeyData, d.secret(resolve(item), ip, val))
				}
			}
		},
		"keys_only":   func(v *yaml.Node, kp string) { s.KeysOnly = d.boolean(v, kp) },
		"known_hosts": func(v *yaml.Node, kp string) { s.KnownHosts = d.stringOrList(v, kp) },
		"forward_agent": func(v *yaml.Node, kp string) {
			// false is what ship does anyway.
			if s.ForwardAgent = d.boolean(v, kp); s.ForwardAgent {
				d.warnf(resolve(v), kp, "has no effect in ship: ship never forwards your SSH agent to the servers; give the servers their own keys (ssh.key_data, or a deploy key) for what they fetch")
			}
		},
		"log_level": func(v *yaml.Node, kp string) {
			s.LogLevel = d.str(v, kp)
			d.warnf(resolve(v), kp, "has no effect in ship: it tunes Ruby's SSH library; ship reports SSH errors with the host either way")
		},
		"config": func(v *yaml.Node, kp string) {
			if rv := resolve(v); rv.Kind == yaml.ScalarNode && rv.Value == "false" {
				return
			}
			d.warnf(v, kp, "ship does not read OpenSSH config files; set user, port, keys and proxy here")
		},
	})
	if s.Proxy != "" && s.ProxyCommand != "" {
		d.errorf(resolve(n), p, "set either proxy or proxy_command, not both")
	}
	return s
}

func (d *decoder) builder(n *yaml.Node, p string) Builder {
	var b Builder
	d.object(n, p, fields{
		"arch": func(v *yaml.Node, kp string) {
			b.Arch = d.stringOrList(v, kp)
			for _, a := range b.Arch {
				if a != "amd64" && a != "arm64" {
					d.errorf(resolve(v), kp, "%q should be amd64 or arm64", a)
				}
			}
		},
		"context":    func(v *yaml.Node, kp string) { b.Context = d.str(v, kp) },
		"dockerfile": func(v *yaml.Node, kp string) { b.Dockerfile = d.str(v, kp) },
		"target":     func(v *yaml.Node, kp string) { b.Target = d.str(v, kp) },
		"args":       func(v *yaml.Node, kp string) { b.Args = d.stringMap(v, kp) },
		"secrets":    func(v *yaml.Node, kp string) { b.Secrets = d.strings(v, kp) },
		"remote":     func(v *yaml.Node, kp string) { b.Remote = d.str(v, kp) },
		"local":      func(v *yaml.Node, kp string) { x := d.boolean(v, kp); b.Local = &x },
		"cache":      func(v *yaml.Node, kp string) { b.Cache = d.stringMap(v, kp) },
		"ssh":        func(v *yaml.Node, kp string) { b.SSH = d.str(v, kp) },
		"driver":     func(v *yaml.Node, kp string) { b.Driver = d.str(v, kp) },
		"provenance": func(v *yaml.Node, kp string) { b.Provenance = d.str(v, kp) },
		"sbom":       func(v *yaml.Node, kp string) { x := d.boolean(v, kp); b.SBOM = &x },
		"pack": func(v *yaml.Node, kp string) {
			b.Pack = true
			d.object(v, kp, fields{
				"builder":    func(v *yaml.Node, kp string) { d.str(v, kp) },
				"buildpacks": func(v *yaml.Node, kp string) { d.strings(v, kp) },
			})
		},
	})
	// Warnings, not errors: a deploy with --skip-build of an image built
	// elsewhere works with these settings, and ship build refuses them
	// itself. Said here so ship config shows them before any build.
	for _, r := range b.Refusals() {
		d.warnf(resolve(valueOf(n, r.Key)), join(p, r.Key), "%s (ship build refuses it)", r.Reason)
	}
	if len(b.Arch) > 1 {
		d.warnf(resolve(valueOf(n, "arch")), join(p, "arch"),
			"multi-platform builds are not supported yet: ship build builds only the local Docker Engine's architecture; %s", SkipBuild)
	}
	return b
}

// valueOf is the value of key in a mapping, or the mapping itself.
func valueOf(n *yaml.Node, key string) *yaml.Node {
	if v := field(n, key); v != nil {
		return v
	}
	return n
}

func (d *decoder) accessories(n *yaml.Node, p string) []*Accessory {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, p, "should be a map of accessory names, not %s", describe(n))
		return nil
	}
	var out []*Accessory
	for _, kv := range pairs(n) {
		name := kv.key.Value
		ap := join(p, name)
		if !nameRE.MatchString(name) {
			d.errorf(kv.key, ap, "accessory name %q may contain only lowercase letters, digits, '-' and '_'", name)
			continue
		}
		out = append(out, d.accessory(name, kv.value, ap))
	}
	return out
}

func (d *decoder) accessory(name string, n *yaml.Node, p string) *Accessory {
	a := &Accessory{Name: name}
	var placed []string // the keys that say where it runs
	var second *yaml.Node
	place := func(dst *[]string) func(v *yaml.Node, kp string) {
		return func(v *yaml.Node, kp string) {
			placed = append(placed, kp[strings.LastIndex(kp, ".")+1:])
			if len(placed) == 2 {
				second = resolve(v)
			}
			*dst = append(*dst, d.stringOrList(v, kp)...)
		}
	}
	ok := d.object(n, p, fields{
		"service":     func(v *yaml.Node, kp string) { a.Service = d.str(v, kp) },
		"image":       func(v *yaml.Node, kp string) { a.Image = d.str(v, kp) },
		"host":        place(&a.Hosts),
		"hosts":       place(&a.Hosts),
		"role":        place(&a.Roles),
		"roles":       place(&a.Roles),
		"tag":         place(&a.Tags),
		"tags":        place(&a.Tags),
		"cmd":         func(v *yaml.Node, kp string) { a.Cmd = d.str(v, kp) },
		"port":        func(v *yaml.Node, kp string) { a.Port = d.str(v, kp); d.portSpec(v, kp, a.Port) },
		"labels":      func(v *yaml.Node, kp string) { a.Labels = d.labels(v, kp) },
		"options":     func(v *yaml.Node, kp string) { a.Options = d.options(v, kp, true) },
		"env":         func(v *yaml.Node, kp string) { a.Env = d.env(v, kp) },
		"files":       func(v *yaml.Node, kp string) { a.Files = d.files(v, kp, true) },
		"directories": func(v *yaml.Node, kp string) { a.Directories = d.files(v, kp, false) },
		"volumes":     func(v *yaml.Node, kp string) { a.Volumes = d.volumes(v, kp) },
		"network":     func(v *yaml.Node, kp string) { a.Network = d.str(v, kp) },
		"registry":    func(v *yaml.Node, kp string) { r := d.registry(v, kp); a.Registry = &r },
		"proxy":       d.ignoredBecause("ship does not route accessories through kamal-proxy yet; publish the accessory's port, or put it behind an app role"),
	})
	if !ok {
		return a
	}
	d.require(n, p, "image")
	switch {
	case len(placed) == 0:
		d.errorf(resolve(n), p, "needs one of host, hosts, role, roles, tag or tags to say where it runs")
	case len(placed) > 1:
		// Kamal's rule: exactly one of them.
		d.errorf(second, p, "sets %s: specify only one of host, hosts, role, roles, tag or tags", strings.Join(placed, " and "))
	}
	for _, h := range a.Hosts {
		if err := checkHost(h); err != nil {
			d.errorf(resolve(n), join(p, "hosts"), "%v", err)
		}
	}
	return a
}

func (d *decoder) portSpec(n *yaml.Node, p, spec string) {
	if spec == "" {
		return
	}
	if err := runopts.Check("publish", []string{spec}); err != nil {
		d.errorf(resolve(n), p, "%s", optionError("publish", err))
	}
}

// files reads Kamal's `local:remote[:options]` strings or {local, remote,
// mode, owner, options} maps. Files must exist locally; directories are
// created on the host, so only theirs are not checked.
func (d *decoder) files(n *yaml.Node, p string, isFile bool) []File {
	var out []File
	for i, item := range d.list(n, p) {
		ip := index(p, i)
		var f File
		if resolve(item).Kind == yaml.MappingNode {
			d.object(item, ip, fields{
				"local":   func(v *yaml.Node, kp string) { f.Local = d.str(v, kp) },
				"remote":  func(v *yaml.Node, kp string) { f.Remote = d.str(v, kp) },
				"mode":    func(v *yaml.Node, kp string) { f.Mode = d.str(v, kp) },
				"owner":   func(v *yaml.Node, kp string) { f.Owner = d.str(v, kp) },
				"options": func(v *yaml.Node, kp string) { f.Options = d.str(v, kp) },
			})
			d.require(item, ip, "local", "remote")
		} else {
			parts := strings.SplitN(d.str(item, ip), ":", 3)
			if len(parts) < 2 {
				d.errorf(resolve(item), ip, "should be LOCAL:REMOTE or LOCAL:REMOTE:OPTIONS")
				continue
			}
			f.Local, f.Remote = parts[0], parts[1]
			if len(parts) == 3 {
				f.Options = parts[2]
			}
		}
		d.filePaths(resolve(item), ip, f, isFile)
		// Both reach chmod and chown on the host.
		if err := volumes.CheckMode(f.Mode); f.Mode != "" && err != nil {
			d.errorf(resolve(item), ip, "%v", err)
		}
		if err := volumes.CheckOwner(f.Owner); f.Owner != "" && err != nil {
			d.errorf(resolve(item), ip, "%v", err)
		}
		out = append(out, f)
	}
	return out
}

func (d *decoder) litestream(n *yaml.Node, p string) *Litestream {
	l := &Litestream{
		Image:      "litestream/litestream:0.5.18",
		LagWarning: defaultLagWarning,
	}
	d.object(n, p, fields{
		"image": func(v *yaml.Node, kp string) { l.Image = d.str(v, kp) },
		"databases": func(v *yaml.Node, kp string) {
			for i, item := range d.list(v, kp) {
				ip := index(kp, i)
				db := d.str(item, ip)
				switch {
				case !path.IsAbs(db):
					d.errorf(resolve(item), ip, "%q should be the absolute path of the database inside the app container", db)
				case !cleanPath(db):
					// ship reaches the file on the host through the volume:
					// a .. would lead it out of the volume.
					d.errorf(resolve(item), ip, "%q should be a plain path inside a volume: no \"..\", \".\" or \"//\" and no trailing \"/\"", db)
				}
				l.Databases = append(l.Databases, db)
			}
		},
		"replica": func(v *yaml.Node, kp string) {
			r := &l.Replica
			d.object(v, kp, fields{
				"url": func(v *yaml.Node, kp string) {
					r.URL = d.str(v, kp)
					u, err := url.Parse(r.URL)
					switch {
					case err == nil && u.Scheme == "sftp":
						// Litestream would need the password or key in its
						// config; ship does not pass one yet.
						d.errorf(resolve(v), kp, "sftp replicas are not supported by the litestream section yet: use s3:// or file://, or a hand-written Litestream accessory")
					case err != nil || (u.Scheme != "s3" && u.Scheme != "file") || (u.Host == "" && u.Scheme != "file"):
						d.errorf(resolve(v), kp, "%q should be s3://BUCKET/PATH or file:///PATH", r.URL)
					case u.Scheme == "file":
						// The directory is made on the host and mounted into
						// Litestream at the same path: a plain path, not /.
						p := strings.TrimSuffix(u.Path, "/")
						if u.Host != "" || p == "" || !cleanPath(p) || !path.IsAbs(p) {
							d.errorf(resolve(v), kp, "%q should be file:///PATH, with PATH a plain absolute path other than / (no \"..\")", r.URL)
						}
					}
				},
				"endpoint":         func(v *yaml.Node, kp string) { r.Endpoint = d.str(v, kp) },
				"region":           func(v *yaml.Node, kp string) { r.Region = d.str(v, kp) },
				"force_path_style": func(v *yaml.Node, kp string) { r.ForcePathStyle = d.boolean(v, kp) },
				"access_key_id": func(v *yaml.Node, kp string) {
					key := d.str(v, kp)
					r.AccessKeyID = &EnvSecret{Name: "LITESTREAM_ACCESS_KEY_ID", Key: key, Value: d.secret(resolve(v), kp, key)}
				},
				"secret_access_key": func(v *yaml.Node, kp string) {
					key := d.str(v, kp)
					r.SecretAccessKey = &EnvSecret{Name: "LITESTREAM_SECRET_ACCESS_KEY", Key: key, Value: d.secret(resolve(v), kp, key)}
				},
			})
			d.require(v, kp, "url")
		},
		"snapshot": func(v *yaml.Node, kp string) {
			d.object(v, kp, fields{
				"interval":  func(v *yaml.Node, kp string) { l.Snapshot.Interval = d.duration(v, kp) },
				"retention": func(v *yaml.Node, kp string) { l.Snapshot.Retention = d.duration(v, kp) },
			})
		},
		"sync_interval": func(v *yaml.Node, kp string) { l.SyncInterval = d.duration(v, kp) },
		"lag_warning":   func(v *yaml.Node, kp string) { l.LagWarning = d.duration(v, kp) },
		"heartbeat_url": func(v *yaml.Node, kp string) { l.HeartbeatURL = d.pingURL(v, kp) },
		"failure_url":   func(v *yaml.Node, kp string) { l.FailureURL = d.pingURL(v, kp) },
		"drill": func(v *yaml.Node, kp string) {
			d.object(v, kp, fields{
				"boot": func(v *yaml.Node, kp string) { l.Drill.Boot = d.boolean(v, kp) },
				"command": func(v *yaml.Node, kp string) {
					l.Drill.Command = d.str(v, kp)
					if _, err := shellquote.Split(l.Drill.Command); err != nil {
						d.errorf(resolve(v), kp, "%v: it is split into words as a role's cmd is (write sh -c '...' for a shell)", err)
					}
				},
			})
			if l.Drill.Command != "" && !l.Drill.Boot {
				d.errorf(resolve(v), kp+".command", "runs in the app booted on the restored copy: set boot: true too, or drop the command")
			}
		},
	})
	d.require(n, p, "databases", "replica")
	return l
}

// pingURL is a fire drill's heartbeat or failure URL: http or https, on
// one line (curl reads it from a config file). The URL is not echoed
// back: it may hold a token.
func (d *decoder) pingURL(n *yaml.Node, p string) string {
	s := d.str(n, p)
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		d.errorf(resolve(n), p, "should be an http:// or https:// URL (such as a healthchecks.io ping URL)")
	case strings.ContainsAny(s, "\"\\\x00\r\n\t"):
		d.errorf(resolve(n), p, "may not contain quotes, backslashes, tabs or line breaks: percent-encode them")
	}
	return s
}

// filePaths checks where an accessory's file or directory goes. Files are
// uploaded to DIR/files/REMOTE and relative directories created at
// DIR/directories/LOCAL (spec.AccessoryFile, spec.AccessoryDirectory), so
// a ".." there would write outside the accessory's directory on the host.
func (d *decoder) filePaths(n *yaml.Node, p string, f File, isFile bool) {
	switch {
	case f.Remote == "":
	case !path.IsAbs(f.Remote):
		d.errorf(n, p, "remote path %q must be absolute", f.Remote)
	case hasDotDot(f.Remote):
		d.errorf(n, p, "remote path %q may not contain \"..\": ship places it under the accessory's own directory on the host", f.Remote)
	case path.Clean(f.Remote) == "/":
		d.errorf(n, p, "remote path / names no file or directory in the container")
	}
	if f.Local == "" {
		return
	}
	if !isFile {
		switch {
		case !path.IsAbs(f.Local) && (path.Clean(f.Local) == ".." || strings.HasPrefix(path.Clean(f.Local), "../")):
			d.errorf(n, p, "local directory %q may not contain \"..\": a relative directory is made under the accessory's directory on the host (give an absolute host path for one elsewhere)", f.Local)
		case path.Clean(f.Local) == "/":
			d.errorf(n, p, "local directory / is the host's root directory: name a directory for the accessory")
		}
		return
	}
	// Kamal reads an absolute local file as it is (File.expand_path), so
	// ship does too: the config is trusted and may name any file on this
	// machine. A relative one is in the project, and a ".." that leads
	// out of it is taken for a mistake.
	if !filepath.IsAbs(f.Local) && !filepath.IsLocal(f.Local) {
		d.errorf(n, p, "local file %q leads out of the project directory: give a path inside it, or an absolute path", f.Local)
		return
	}
	if _, err := os.Stat(LocalPath(d.root, f.Local)); err != nil {
		d.errorf(n, p, "local file %s: %v", f.Local, errors.Unwrap(err))
	}
}

// hasDotDot says whether a slash-separated path has a ".." element.
func hasDotDot(p string) bool {
	return slices.Contains(strings.Split(p, "/"), "..")
}

// LocalPath is where a local file of the config is on this machine:
// as written when absolute, else under the project root.
func LocalPath(root, local string) string {
	if filepath.IsAbs(local) {
		return local
	}
	return filepath.Join(root, local)
}
