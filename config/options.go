package config

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/shipdeploy/ship/runopts"
)

// RunOptions are a role's or accessory's docker run options, in the order
// written.
type RunOptions []runopts.Option

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

// options reads docker run options, checked by the same code that maps
// them onto the Engine API at deploy time, so a config that validates
// deploys. restart is ship's to decide for app containers (unless-stopped);
// an accessory may choose.
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
		if name == "restart" && !accessory {
			d.errorf(p.key, kp, "ship runs app containers with --restart unless-stopped; restart can only be set for accessories")
			continue
		}
		if !slices.Contains(runopts.Known(), name) {
			d.errorf(p.key, kp, "unknown option; supported: %s", strings.Join(KnownOptions(accessory), ", "))
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
		if err := runopts.Check(name, values); err != nil {
			d.errorf(v, kp, "%s", optionError(name, err))
		}
		out = append(out, runopts.Option{Name: name, Values: values})
	}
	return out
}

// KnownOptions lists the options a role (or, with accessory, an accessory)
// accepts.
func KnownOptions(accessory bool) []string {
	var out []string
	for _, name := range runopts.Known() {
		if name != "restart" || accessory {
			out = append(out, name)
		}
	}
	return out
}

// optionError drops runopts' "option NAME" prefix: the key path names it.
func optionError(name string, err error) string {
	msg := strings.TrimPrefix(err.Error(), "option "+name+": ")
	return strings.TrimPrefix(msg, "option "+name+"=")
}
