package config

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/go-connections/nat"
	"github.com/docker/go-units"
	"gopkg.in/yaml.v3"
)

// RunOption is one `docker run` flag from a role's or accessory's options, with
// its values (a flag such as add-host may be given several times).
type RunOption struct {
	Name   string
	Values []string
}

// RunOptions keeps the order they were written in.
type RunOptions []RunOption

// Get returns the values of an option, or nil.
func (o RunOptions) Get(name string) []string {
	for _, opt := range o {
		if opt.Name == name {
			return opt.Values
		}
	}
	return nil
}

// MarshalYAML writes options back as the map they were read from.
func (o RunOptions) MarshalYAML() (any, error) {
	m := map[string]any{}
	for _, opt := range o {
		if len(opt.Values) == 1 {
			m[opt.Name] = opt.Values[0]
		} else {
			m[opt.Name] = opt.Values
		}
	}
	return m, nil
}

// optionCheck validates one value; nil means any string will do.
type optionCheck func(v string) error

// knownOptions are the docker run flags ship maps onto Engine API fields.
// Anything else is refused rather than silently dropped.
var knownOptions = map[string]optionCheck{
	"add-host":     checkAddHost,
	"publish":      checkPublish,
	"memory":       checkSize,
	"memory-swap":  checkSize,
	"shm-size":     checkSize,
	"cpus":         checkCPUs,
	"ulimit":       checkUlimit,
	"cap-add":      nil,
	"cap-drop":     nil,
	"user":         nil,
	"init":         checkBool,
	"network":      nil,
	"log-opt":      checkKeyValue,
	"hostname":     nil,
	"workdir":      nil,
	"tmpfs":        nil,
	"security-opt": nil,
	"stop-signal":  nil,
	"read-only":    checkBool,
	"pids-limit":   checkInt,
	"sysctl":       checkKeyValue,
	"device":       nil,
	"privileged":   checkBool,
}

// restart is ship's to decide for app containers (unless-stopped); an
// accessory may choose.
var accessoryOnlyOptions = map[string]optionCheck{"restart": checkRestart}

func (d *decoder) options(n *yaml.Node, path string, accessory bool) RunOptions {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "should be a map of docker run options, not %s", describe(n))
		return nil
	}
	var out RunOptions
	for _, p := range pairs(n) {
		name := strings.TrimPrefix(p.key.Value, "--")
		kp := join(path, name)
		check, ok := knownOptions[name]
		if !ok && accessory {
			check, ok = accessoryOnlyOptions[name]
		}
		if !ok {
			msg := "unknown option; supported: " + strings.Join(KnownOptions(accessory), ", ")
			if name == "restart" {
				msg = "ship runs app containers with --restart unless-stopped; restart can only be set for accessories"
			}
			d.errorf(p.key, kp, "%s", msg)
			continue
		}
		var values []string
		v := resolve(p.value)
		if v.Kind == yaml.SequenceNode {
			values = d.strings(v, kp)
		} else if v.Tag == "!!null" {
			values = []string{"true"} // a bare flag such as `init:`
		} else {
			values = []string{d.str(v, kp)}
		}
		if check != nil {
			for _, val := range values {
				if err := check(val); err != nil {
					d.errorf(v, kp, "%v", err)
				}
			}
		}
		out = append(out, RunOption{Name: name, Values: values})
	}
	return out
}

// KnownOptions returns the option names config accepts, sorted: for an
// accessory, restart as well.
func KnownOptions(accessory bool) []string {
	var names []string
	for k := range knownOptions {
		names = append(names, k)
	}
	if accessory {
		for k := range accessoryOnlyOptions {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

func checkAddHost(v string) error {
	name, ip, ok := strings.Cut(v, ":")
	if !ok || name == "" {
		return fmt.Errorf("add-host %q should be NAME:IP", v)
	}
	if ip != "host-gateway" && net.ParseIP(ip) == nil {
		return fmt.Errorf("add-host %q: %q is not an IP address or host-gateway", v, ip)
	}
	return nil
}

func checkPublish(v string) error {
	if _, err := nat.ParsePortSpec(v); err != nil {
		return fmt.Errorf("publish %q: %v", v, err)
	}
	return nil
}

func checkSize(v string) error {
	if _, err := units.RAMInBytes(v); err != nil {
		return fmt.Errorf("%q is not a size like 512m or 2g", v)
	}
	return nil
}

func checkCPUs(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return fmt.Errorf("cpus %q should be a positive number like 0.5 or 2", v)
	}
	return nil
}

func checkUlimit(v string) error {
	if _, err := units.ParseUlimit(v); err != nil {
		return fmt.Errorf("ulimit %q: %v", v, err)
	}
	return nil
}

func checkBool(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return fmt.Errorf("%q should be true or false", v)
	}
	return nil
}

func checkInt(v string) error {
	if _, err := strconv.Atoi(v); err != nil {
		return fmt.Errorf("%q should be a whole number", v)
	}
	return nil
}

func checkKeyValue(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q should be KEY=VALUE", v)
	}
	return nil
}

func checkRestart(v string) error {
	policy, count, _ := strings.Cut(v, ":")
	switch policy {
	case "no", "always", "unless-stopped":
		if count == "" {
			return nil
		}
	case "on-failure":
		if _, err := strconv.Atoi(count); count == "" || err == nil {
			return nil
		}
	}
	return fmt.Errorf("restart %q should be no, always, unless-stopped or on-failure[:N]", v)
}
