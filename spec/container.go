package spec

import (
	"fmt"
	"maps"
	"sort"
	"strconv"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/runopts"
)

// Container is everything needed to create a container: a role's for a
// version, or an accessory's.
type Container struct {
	Name    string
	Config  *container.Config
	Host    *container.HostConfig
	Network *network.NetworkingConfig
	// EnvFile is the role's environment as a dotenv file, secrets included,
	// written to the host with mode 0600 for one-off containers and hooks.
	EnvFile []byte
}

// App builds the container of role at version on host, from the config.
func App(c *config.Config, r *config.Role, host config.Host, version string) (*Container, error) {
	name := ContainerName(c, r.Name, version)
	env := environment(c, r, host, name, version)
	var cmd []string
	if r.Cmd != "" {
		words, err := shellquote.Split(r.Cmd)
		if err != nil {
			return nil, fmt.Errorf("role %s: cmd %q: %w", r.Name, r.Cmd, err)
		}
		cmd = words
	}
	labels := map[string]string{}
	maps.Copy(labels, c.Labels)
	maps.Copy(labels, r.Labels)
	labels[LabelService] = c.Service
	labels[LabelRole] = r.Name
	labels[LabelDestination] = c.Destination
	labels[LabelVersion] = version

	stop := int(r.StopTimeout.Seconds())
	cc := &container.Config{
		Image:       ImageRef(c, version),
		Cmd:         cmd,
		Env:         env.list(),
		Labels:      labels,
		StopTimeout: &stop,
	}
	logging := c.Logging
	if r.Logging != nil {
		logging = *r.Logging
	}
	hc := &container.HostConfig{
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		NetworkMode:   container.NetworkMode(Network),
		LogConfig:     container.LogConfig{Type: logging.Driver, Config: logging.Options},
	}
	for _, v := range c.Volumes {
		hc.Binds = append(hc.Binds, v.String())
	}
	if err := runopts.Apply(r.Options, cc, hc); err != nil {
		return nil, fmt.Errorf("role %s: %w", r.Name, err)
	}
	return &Container{Name: name, Config: cc, Host: hc, EnvFile: env.dotenv()}, nil
}

// env is a container's environment, kept sorted so env files are stable.
type env map[string]string

// environment merges the top-level env, the role's, the host's tags' and
// ship's own variables (with Kamal's names too, for apps that read them).
func environment(c *config.Config, r *config.Role, host config.Host, name, version string) env {
	merged := c.Env.Merge(r.Env)
	for _, tag := range host.Tags {
		merged = merged.Merge(c.Env.Tags[tag]).Merge(r.Env.Tags[tag])
	}
	e := env{}
	maps.Copy(e, merged.Clear)
	for _, s := range merged.Secrets {
		e[s.Name] = s.Value.Reveal()
	}
	e["SHIP_VERSION"], e["KAMAL_VERSION"] = version, version
	e["SHIP_CONTAINER_NAME"], e["KAMAL_CONTAINER_NAME"] = name, name
	if r.IsReplica() {
		e[EnvReadOnly] = "1"
	}
	return e
}

func (e env) keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (e env) list() []string {
	var out []string
	for _, k := range e.keys() {
		out = append(out, k+"="+e[k])
	}
	return out
}

// dotenv quotes every value, so newlines and '#' survive the round trip.
func (e env) dotenv() []byte {
	var b []byte
	for _, k := range e.keys() {
		b = append(b, k+"="+strconv.Quote(e[k])+"\n"...)
	}
	return b
}
