package config

import (
	"net"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// proxy reads a proxy section over base (the top-level proxy, for a role).
// A nil node gives the defaults.
func (d *decoder) proxy(n *yaml.Node, path string, base *Proxy) *Proxy {
	p := &Proxy{
		AppPort:         defaultAppPort,
		SSLRedirect:     true, // kamal-proxy's default, which Kamal keeps
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
			p.Certificate = nil // Let's Encrypt, or no TLS: not a certificate inherited from the top level
		},
		"ssl_redirect": func(v *yaml.Node, kp string) { p.SSLRedirect = d.boolean(v, kp) },
		"forward_headers": func(v *yaml.Node, kp string) {
			b := d.boolean(v, kp)
			p.ForwardHeaders = &b
		},
		"response_timeout": func(v *yaml.Node, kp string) { p.ResponseTimeout = d.duration(v, kp) },
		"writer_affinity_timeout": func(v *yaml.Node, kp string) {
			p.WriterAffinityTimeout = d.duration(v, kp)
			p.writerAffinitySet = true
		},
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
				"request_headers": func(v *yaml.Node, kp string) {
					// An empty list logs no headers, as in Kamal; absent logs the defaults.
					p.RequestHeaders = append([]string{}, d.strings(v, kp)...)
				},
				"response_headers": func(v *yaml.Node, kp string) { p.ResponseHeaders = d.strings(v, kp) },
			})
		},
		// The container's settings: read by proxyRun, for the top level only.
		"run": func(v *yaml.Node, kp string) {
			if base != nil || path != "proxy" {
				d.errorf(resolve(v), kp, "configures the kamal-proxy container every role shares: set it in the top-level proxy section")
			}
		},
	})
	for i, h := range p.Hosts {
		h = strings.TrimSpace(h)
		if err := checkHost(h); err != nil || strings.Contains(h, ":") {
			d.errorf(resolve(hostNode), path+".hosts", "%q is not a valid host name", h)
		}
		p.Hosts[i] = h
	}
	if p.SSL && len(p.Hosts) == 0 {
		d.errorf(resolve(n), join(path, "ssl"), "needs a host: TLS certificates are issued for proxy.host")
	}
	return p
}

// Kamal's defaults for the kamal-proxy container.
const (
	defaultProxyImage = "basecamp/kamal-proxy:v0.9.2"
	defaultLogMaxSize = "10m"
)

// proxyRun reads proxy.run; a nil node gives Kamal's defaults.
func (d *decoder) proxyRun(n *yaml.Node, path string) ProxyRun {
	r := ProxyRun{HTTPPort: 80, HTTPSPort: 443, Publish: true, LogMaxSize: defaultLogMaxSize}
	if n == nil {
		r.Image = defaultProxyImage
		return r
	}
	registry, repository, version := "", "basecamp/kamal-proxy", "v0.9.2"
	d.object(n, path, fields{
		"http_port":    func(v *yaml.Node, kp string) { r.HTTPPort = d.port(v, kp) },
		"https_port":   func(v *yaml.Node, kp string) { r.HTTPSPort = d.port(v, kp) },
		"publish":      func(v *yaml.Node, kp string) { r.Publish = d.boolean(v, kp) },
		"metrics_port": func(v *yaml.Node, kp string) { r.MetricsPort = d.port(v, kp) },
		"debug":        func(v *yaml.Node, kp string) { r.Debug = d.boolean(v, kp) },
		"log_max_size": func(v *yaml.Node, kp string) { r.LogMaxSize = d.str(v, kp) },
		"registry":     func(v *yaml.Node, kp string) { registry = d.str(v, kp) },
		"repository":   func(v *yaml.Node, kp string) { repository = d.str(v, kp) },
		"version":      func(v *yaml.Node, kp string) { version = d.str(v, kp) },
		"bind_ips": func(v *yaml.Node, kp string) {
			r.BindIPs = d.strings(v, kp)
			for i, ip := range r.BindIPs {
				ip = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]") // Kamal takes [::1]
				r.BindIPs[i] = ip
				if net.ParseIP(ip) == nil {
					d.errorf(resolve(resolve(v).Content[i]), index(kp, i), "%q is not an IP address", ip)
				}
			}
		},
		"options": func(v *yaml.Node, kp string) { r.Options, r.Labels = d.proxyOptions(v, kp) },
	})
	// Kamal boots from the host's boot config unless proxy.run is present:
	// an empty run is not.
	r.Configured = len(resolve(n).Content) > 0
	r.Image = repository + ":" + version
	if registry != "" {
		r.Image = registry + "/" + r.Image
	}
	if r.HTTPPort == r.HTTPSPort && r.Publish {
		d.errorf(resolve(n), path, "http_port and https_port are both %d", r.HTTPPort)
	}
	return r
}

// size reads a byte count; kamal-proxy takes plain numbers.
func (d *decoder) size(n *yaml.Node, path string) string {
	d.integer(n, path, 0, 1<<62)
	return strings.ReplaceAll(resolve(n).Value, "_", "")
}

// proxyOptions reads proxy.run.options: docker run options, as a role's,
// and label, which only the proxy container may set (an app container's
// labels are ship's to keep).
func (d *decoder) proxyOptions(n *yaml.Node, path string) (RunOptions, map[string]string) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return d.options(n, path, true), nil
	}
	rest := &yaml.Node{Kind: yaml.MappingNode, Tag: n.Tag, Line: n.Line, Column: n.Column}
	var labels map[string]string
	for _, p := range pairs(n) {
		if strings.TrimPrefix(p.key.Value, "--") != "label" {
			rest.Content = append(rest.Content, p.key, p.value)
			continue
		}
		kp := join(path, "label")
		values := []string{}
		if v := resolve(p.value); v.Kind == yaml.SequenceNode {
			values = d.strings(v, kp)
		} else {
			values = append(values, d.str(v, kp))
		}
		for _, l := range values {
			k, v, _ := strings.Cut(l, "=")
			if k == "" {
				d.errorf(resolve(p.value), kp, "%q is not a label: want key=value", l)
				continue
			}
			if labels == nil {
				labels = map[string]string{}
			}
			labels[k] = v
		}
	}
	return d.options(rest, path, true), labels
}
