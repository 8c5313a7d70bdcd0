package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder turns YAML nodes into typed values and collects every problem it
// meets instead of stopping at the first.
type decoder struct {
	secrets       Secrets               // nil until the secrets files are read
	secretsRead   []string              // secrets files found
	secretsLooked []string              // secrets files looked for
	root          string                // project root, for local files
	origin        map[*yaml.Node]string // source file of each node
	erbEnv        envLookup             // the environment ERB reads
	problems      Problems
	warnings      Problems
}

func (d *decoder) at(n *yaml.Node, path, msg string) Problem {
	return Problem{File: d.origin[n], Line: n.Line, Column: n.Column, Path: path, Message: msg}
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.problems = append(d.problems, d.at(n, path, fmt.Sprintf(format, args...)))
}

func (d *decoder) warnf(n *yaml.Node, path, format string, args ...any) {
	d.warnings = append(d.warnings, d.at(n, path, fmt.Sprintf(format, args...)))
}

// fields maps each accepted key of a mapping to the code that decodes its value.
type fields map[string]func(v *yaml.Node, path string)

// object decodes a mapping. Keys starting with "x-" are ignored, as in
// Kamal, so users can keep YAML anchors there.
func (d *decoder) object(n *yaml.Node, path string, f fields) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "should be a map, not %s", describe(n))
		return false
	}
	seen := map[string]*yaml.Node{}
	for _, p := range pairs(n) {
		key := p.key.Value
		kp := join(path, key)
		if strings.HasPrefix(key, "x-") {
			continue
		}
		if prev, dup := seen[key]; dup {
			d.errorf(p.key, kp, "duplicate key (first set on line %d)", prev.Line)
			continue
		}
		seen[key] = p.key
		decode, ok := f[key]
		if !ok {
			d.errorf(p.key, kp, "unknown key%s", suggest(key, f))
			continue
		}
		decode(p.value, kp)
	}
	return true
}

// require reports keys a mapping must have.
func (d *decoder) require(n *yaml.Node, path string, keys ...string) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return
	}
	have := map[string]bool{}
	for _, p := range pairs(n) {
		have[p.key.Value] = true
	}
	for _, k := range keys {
		if !have[k] {
			d.errorf(n, join(path, k), "is required")
		}
	}
}

func (d *decoder) scalar(n *yaml.Node, path, what string) (*yaml.Node, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, path, "should be %s, not %s", what, describe(n))
		return n, false
	}
	return n, true
}

// str accepts any non-null scalar: YAML reads `port: 2222` as a number
// where the user may mean text, and Kamal takes either.
func (d *decoder) str(n *yaml.Node, path string) string {
	if n, ok := d.scalar(n, path, "a string"); ok {
		return n.Value
	}
	return ""
}

func (d *decoder) boolean(n *yaml.Node, path string) bool {
	n, ok := d.scalar(n, path, "true or false")
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(n.Value)
	if err != nil || n.Tag != "!!bool" {
		d.errorf(n, path, "should be true or false, not %q", n.Value)
	}
	return b
}

func (d *decoder) integer(n *yaml.Node, path string, min, max int) int {
	n, ok := d.scalar(n, path, "a whole number")
	if !ok {
		return 0
	}
	i, err := strconv.Atoi(strings.ReplaceAll(n.Value, "_", ""))
	if err != nil {
		d.errorf(n, path, "should be a whole number, not %q", n.Value)
		return 0
	}
	if i < min || i > max {
		d.errorf(n, path, "%d is out of range (%d to %d)", i, min, max)
	}
	return i
}

func (d *decoder) port(n *yaml.Node, path string) int {
	return d.integer(n, path, 1, 65535)
}

// duration takes whole seconds, as Kamal's keys do, or a Go duration such
// as "90s" or "1h30m".
func (d *decoder) duration(n *yaml.Node, path string) time.Duration {
	n, ok := d.scalar(n, path, "a duration")
	if !ok {
		return 0
	}
	if secs, err := strconv.Atoi(n.Value); err == nil {
		if secs < 0 {
			d.errorf(n, path, "duration may not be negative")
		}
		return time.Duration(secs) * time.Second
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errorf(n, path, "should be a duration in seconds (30) or with a unit (30s, 5m, 1h), not %q", n.Value)
		return 0
	}
	if dur < 0 {
		d.errorf(n, path, "duration may not be negative")
	}
	return dur
}

func (d *decoder) list(n *yaml.Node, path string) []*yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "should be a list, not %s", describe(n))
		return nil
	}
	return n.Content
}

func (d *decoder) strings(n *yaml.Node, path string) []string {
	var out []string
	for i, item := range d.list(n, path) {
		out = append(out, d.str(item, index(path, i)))
	}
	return out
}

// stringOrList accepts `key: value` as well as a list, as Kamal does for
// builder.arch, hosts and tags.
func (d *decoder) stringOrList(n *yaml.Node, path string) []string {
	if resolve(n).Kind == yaml.SequenceNode {
		return d.strings(n, path)
	}
	return []string{d.str(n, path)}
}

// stringMap decodes a mapping of names to scalar values (labels, args, env).
func (d *decoder) stringMap(n *yaml.Node, path string) map[string]string {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "should be a map, not %s", describe(n))
		return nil
	}
	out := map[string]string{}
	for _, p := range pairs(n) {
		out[p.key.Value] = d.str(p.value, join(path, p.key.Value))
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// suggest names the closest accepted key, for typos like "serivce".
func suggest(key string, f fields) string {
	best, bestDist := "", 3
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if dist := levenshtein(key, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
