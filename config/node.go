package config

import (
	"gopkg.in/yaml.v3"
)

// resolve follows aliases (*anchor) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// pair is one key and value of a mapping.
type pair struct{ key, value *yaml.Node }

// field is the value of key in a mapping (merge keys expanded), or nil.
func field(n *yaml.Node, key string) *yaml.Node {
	for _, p := range pairs(n) {
		if p.key.Value == key {
			return p.value
		}
	}
	return nil
}

// pairs lists a mapping's entries with YAML merge keys ("<<: *defaults")
// expanded; keys written explicitly win over merged ones, as in YAML.
func pairs(n *yaml.Node) []pair {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var own, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" || (k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Style == 0) {
			src := resolve(v)
			if src.Kind == yaml.SequenceNode {
				for _, s := range src.Content {
					merged = append(merged, pairs(s)...)
				}
			} else {
				merged = append(merged, pairs(src)...)
			}
			continue
		}
		own = append(own, pair{k, v})
	}
	if len(merged) == 0 {
		return own
	}
	seen := map[string]bool{}
	for _, p := range own {
		seen[p.key.Value] = true
	}
	out := own
	for _, p := range merged {
		if !seen[p.key.Value] {
			seen[p.key.Value] = true
			out = append(out, p)
		}
	}
	return out
}

// merge deep-merges a destination file over the base configuration, as
// Kamal does: maps merge key by key, anything else is replaced. The result
// reuses the original nodes, so errors still point into the file each value
// came from.
func merge(base, over *yaml.Node) *yaml.Node {
	base, over = resolve(base), resolve(over)
	if base == nil || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: base.Line, Column: base.Column}
	overPairs := pairs(over)
	index := map[string]*yaml.Node{}
	for _, p := range overPairs {
		index[p.key.Value] = p.value
	}
	for _, p := range pairs(base) {
		v := p.value
		if o, ok := index[p.key.Value]; ok {
			v = merge(v, o)
			delete(index, p.key.Value)
		}
		out.Content = append(out.Content, p.key, v)
	}
	for _, p := range overPairs {
		if _, ok := index[p.key.Value]; ok {
			out.Content = append(out.Content, p.key, p.value)
		}
	}
	return out
}

// walk calls fn on n and every node below it.
func walk(n *yaml.Node, fn func(*yaml.Node)) {
	if n == nil {
		return
	}
	fn(n)
	for _, c := range n.Content {
		walk(c, fn)
	}
}
