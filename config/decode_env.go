package config

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// env reads Kamal's two forms: a flat map of clear variables, or
// {clear, secret, tags}.
func (d *decoder) env(n *yaml.Node, path string) Env {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "should be a map, not %s", describe(n))
		return Env{}
	}
	structured := false
	for _, p := range pairs(n) {
		if p.key.Value == "clear" || p.key.Value == "secret" {
			structured = true
		}
	}
	var e Env
	if !structured {
		e.Clear = map[string]string{}
		for _, p := range pairs(n) {
			if p.key.Value == "tags" {
				e.Tags = d.envTags(p.value, join(path, "tags"))
				continue
			}
			d.envVar(&e, p, path)
		}
		return e
	}
	d.object(n, path, fields{
		"clear": func(v *yaml.Node, p string) {
			e.Clear = map[string]string{}
			v = resolve(v)
			if v.Kind != yaml.MappingNode {
				d.errorf(v, p, "should be a map of NAME: value, not %s", describe(v))
				return
			}
			for _, kv := range pairs(v) {
				d.envVar(&e, kv, p)
			}
		},
		"secret": func(v *yaml.Node, p string) { e.Secrets = d.envSecrets(v, p) },
		"tags":   func(v *yaml.Node, p string) { e.Tags = d.envTags(v, p) },
	})
	return e
}

func (d *decoder) envVar(e *Env, p pair, path string) {
	name := p.key.Value
	kp := join(path, name)
	if !envNameRE.MatchString(name) {
		d.errorf(p.key, kp, "%q is not a valid environment variable name", name)
		return
	}
	v := resolve(p.value)
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		e.Clear[name] = ""
		return
	}
	e.Clear[name] = d.str(v, kp)
}

// envSecrets reads `- NAME` or `- NAME:SECRET_KEY` entries and resolves
// each from the secrets files.
func (d *decoder) envSecrets(n *yaml.Node, path string) []EnvSecret {
	var out []EnvSecret
	for i, item := range d.list(n, path) {
		p := index(path, i)
		s := d.str(item, p)
		if s == "" {
			continue
		}
		name, key, aliased := strings.Cut(s, ":")
		if !aliased {
			key = name
		}
		if !envNameRE.MatchString(name) || !envNameRE.MatchString(key) {
			d.errorf(resolve(item), p, "%q should be NAME or NAME:SECRET_NAME", s)
			continue
		}
		out = append(out, EnvSecret{Name: name, Key: key, Value: d.secret(resolve(item), p, key)})
	}
	return out
}

func (d *decoder) envTags(n *yaml.Node, path string) map[string]Env {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "should be a map of tag: env, not %s", describe(n))
		return nil
	}
	out := map[string]Env{}
	for _, p := range pairs(n) {
		out[p.key.Value] = d.env(p.value, join(path, p.key.Value))
	}
	return out
}

// Merge returns e with over's clear variables and secrets laid on top, as a
// role's env is laid over the top-level env.
func (e Env) Merge(over Env) Env {
	out := Env{Clear: map[string]string{}}
	for k, v := range e.Clear {
		out.Clear[k] = v
	}
	for k, v := range over.Clear {
		out.Clear[k] = v
	}
	byName := map[string]int{}
	for _, s := range append(append([]EnvSecret{}, e.Secrets...), over.Secrets...) {
		if i, ok := byName[s.Name]; ok {
			out.Secrets[i] = s
			continue
		}
		byName[s.Name] = len(out.Secrets)
		out.Secrets = append(out.Secrets, s)
	}
	return out
}
