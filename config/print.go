package config

import (
	"bytes"
	"encoding"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// YAML renders the resolved configuration for `ship config`. Secret values
// print as [REDACTED]; durations print as "30s".
func (c *Config) YAML() ([]byte, error) {
	n, err := toNode(reflect.ValueOf(c))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

// MarshalYAML shows which variable takes which secret, never the value.
func (s EnvSecret) MarshalYAML() (any, error) {
	if s.Key == s.Name {
		return s.Name, nil
	}
	return s.Name + ":" + s.Key, nil
}

// MarshalYAML prints a username taken from the secrets files redacted,
// like the password; one written in the config prints as written.
func (r Registry) MarshalYAML() (any, error) {
	type plain Registry // without this method
	p := plain(r)
	if r.usernameSecret {
		p.Username = redacted
	}
	return p, nil
}

// MarshalYAML writes a host back in Kamal's form: "addr" or {addr: tags}.
func (h Host) MarshalYAML() (any, error) {
	if len(h.Tags) == 0 {
		return h.Address, nil
	}
	return map[string][]string{h.Address: h.Tags}, nil
}

var (
	durationType  = reflect.TypeOf(time.Duration(0))
	marshalerType = reflect.TypeOf((*yaml.Marshaler)(nil)).Elem()
	textType      = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

// toNode converts a value to YAML, keeping struct field order (yaml.v3
// would print durations as nanoseconds).
func toNode(v reflect.Value) (*yaml.Node, error) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == durationType:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: v.Interface().(time.Duration).String()}, nil
	case v.Type().Implements(marshalerType):
		out, err := v.Interface().(yaml.Marshaler).MarshalYAML()
		if err != nil {
			return nil, err
		}
		return toNode(reflect.ValueOf(out))
	case v.Type().Implements(textType):
		text, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		return &yaml.Node{Kind: yaml.ScalarNode, Value: string(text)}, err
	}
	switch v.Kind() {
	case reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			if strings.Contains(opts, "omitempty") && fv.IsZero() {
				continue
			}
			child, err := toNode(fv)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name}, child)
		}
		return n, nil
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for i := 0; i < v.Len(); i++ {
			child, err := toNode(v.Index(i))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, child)
		}
		return n, nil
	case reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			child, err := toNode(v.MapIndex(k))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k.String()}, child)
		}
		return n, nil
	}
	n := &yaml.Node{}
	if err := n.Encode(v.Interface()); err != nil {
		return nil, err
	}
	return n, nil
}

// MarshalYAML shows what ship read of a hand-written Litestream
// accessory: where each database is in both containers, and its replica.
// The section prints as written.
func (l Litestream) MarshalYAML() (any, error) {
	type plain Litestream // without this method
	if l.Written == nil {
		return plain(l), nil
	}
	type db struct {
		Path       string `yaml:"path"`
		Litestream string `yaml:"in_litestream"`
		Replica    string `yaml:"replica"`
	}
	out := struct {
		ReadFrom     string        `yaml:"read_from"`
		Image        string        `yaml:"image"`
		Databases    []db          `yaml:"databases"`
		SyncInterval time.Duration `yaml:"sync_interval"`
	}{ReadFrom: "accessories." + l.Written.Accessory + ": " + l.Written.File, Image: l.Image, SyncInterval: l.SyncInterval}
	for _, w := range l.Written.DBs {
		out.Databases = append(out.Databases, db(w))
	}
	return out, nil
}
