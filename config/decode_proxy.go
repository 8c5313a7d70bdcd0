package config

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// proxy reads a proxy section over base (the top-level proxy, for a role).
// A nil node gives the defaults.
func (d *decoder) proxy(n *yaml.Node, path string, base *Proxy) *Proxy {
	p := &Proxy{
		AppPort:         defaultAppPort,
		ResponseTimeout: defaultTimeoutSeconds * time.Second,
		Healthcheck:     ProxyHealthcheck{Path: defaultHealthPath, Interval: time.Second, Timeout: 5 * time.Second},
	}
	if base != nil {
		*p = *base
	}
	if n == nil {
		return p
	}
	var hostNode *yaml.Node
	d.object(n, path, fields{
		"host": func(v *yaml.Node, kp string) {
			hostNode = v
			p.Hosts = strings.Split(d.str(v, kp), ",")
		},
		"hosts": func(v *yaml.Node, kp string) { hostNode = v; p.Hosts = d.strings(v, kp) },
		"app_port": func(v *yaml.Node, kp string) {
			p.AppPort = d.port(v, kp)
		},
		"ssl": func(v *yaml.Node, kp string) {
			if resolve(v).Kind == yaml.MappingNode {
				p.SSL = true
				p.Certificate = &Certificate{}
				d.object(v, kp, fields{
					"certificate_pem": func(v *yaml.Node, kp string) {
						p.Certificate.CertificatePEM = d.secret(resolve(v), kp, d.str(v, kp))
					},
					"private_key_pem": func(v *yaml.Node, kp string) {
						p.Certificate.PrivateKeyPEM = d.secret(resolve(v), kp, d.str(v, kp))
					},
				})
				d.require(v, kp, "certificate_pem", "private_key_pem")
				return
			}
			p.SSL = d.boolean(v, kp)
		},
		"ssl_redirect": func(v *yaml.Node, kp string) { p.SSLRedirect = d.boolean(v, kp) },
		"forward_headers": func(v *yaml.Node, kp string) {
			b := d.boolean(v, kp)
			p.ForwardHeaders = &b
		},
		"response_timeout": func(v *yaml.Node, kp string) { p.ResponseTimeout = d.duration(v, kp) },
		"path_prefix": func(v *yaml.Node, kp string) {
			p.PathPrefixes = strings.Split(d.str(v, kp), ",")
		},
		"path_prefixes": func(v *yaml.Node, kp string) { p.PathPrefixes = d.strings(v, kp) },
		"strip_path_prefix": func(v *yaml.Node, kp string) {
			b := d.boolean(v, kp)
			p.StripPathPrefix = &b
		},
		"healthcheck": func(v *yaml.Node, kp string) {
			d.object(v, kp, fields{
				"path":     func(v *yaml.Node, kp string) { p.Healthcheck.Path = d.str(v, kp) },
				"interval": func(v *yaml.Node, kp string) { p.Healthcheck.Interval = d.duration(v, kp) },
				"timeout":  func(v *yaml.Node, kp string) { p.Healthcheck.Timeout = d.duration(v, kp) },
			})
		},
		"buffering": func(v *yaml.Node, kp string) {
			p.Buffering = map[string]string{}
			d.object(v, kp, fields{
				"requests":          func(v *yaml.Node, kp string) { d.boolean(v, kp); p.Buffering["requests"] = resolve(v).Value },
				"responses":         func(v *yaml.Node, kp string) { d.boolean(v, kp); p.Buffering["responses"] = resolve(v).Value },
				"max_request_body":  func(v *yaml.Node, kp string) { p.Buffering["max_request_body"] = d.size(v, kp) },
				"max_response_body": func(v *yaml.Node, kp string) { p.Buffering["max_response_body"] = d.size(v, kp) },
				"memory":            func(v *yaml.Node, kp string) { p.Buffering["memory"] = d.size(v, kp) },
			})
		},
		"logging": func(v *yaml.Node, kp string) {
			d.object(v, kp, fields{
				"request_headers":  func(v *yaml.Node, kp string) { p.RequestHeaders = d.strings(v, kp) },
				"response_headers": func(v *yaml.Node, kp string) { p.ResponseHeaders = d.strings(v, kp) },
			})
		},
		// Settings of the kamal-proxy container itself; ship runs it with
		// its own defaults.
		"run": d.ignored,
	})
	for i, h := range p.Hosts {
		if err := checkHost(h); err != nil || strings.Contains(h, ":") {
			d.errorf(resolve(hostNode), path+".hosts", "%q is not a valid host name", h)
		}
		p.Hosts[i] = strings.TrimSpace(h)
	}
	if p.SSL && len(p.Hosts) == 0 {
		d.errorf(resolve(n), join(path, "ssl"), "needs a host: TLS certificates are issued for proxy.host")
	}
	return p
}

// size reads a byte count; kamal-proxy takes plain numbers.
func (d *decoder) size(n *yaml.Node, path string) string {
	d.integer(n, path, 0, 1<<62)
	return strings.ReplaceAll(resolve(n).Value, "_", "")
}
