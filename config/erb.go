package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Kamal renders deploy.yml through ERB. ship evaluates the forms configs
// use to read the environment, and plain string literals; anything else
// would need Ruby and is reported instead:
//
//	<%= ENV["NAME"] %>                       empty when NAME is unset
//	<%= ENV.fetch("NAME") %>                 an error when NAME is unset
//	<%= ENV.fetch("NAME", "default") %>
//	<%= ENV.fetch("NAME") { "default" } %>
//	<%= "text" %>
//
// Strings take single or double quotes, without escapes or interpolation.
var erbTagRE = regexp.MustCompile(`(?s)<%.*?%>`)

const erbForms = `<%= ENV["NAME"] %>, <%= ENV.fetch("NAME", "default") %>, <%= ENV.fetch("NAME") { "default" } %> and <%= "text" %>`

// envLookup reads one variable for ERB, as os.LookupEnv does.
type envLookup func(name string) (string, bool)

// erbEnv is the environment ERB sees: the process's, with KAMAL_DESTINATION
// and SHIP_DESTINATION set to the destination (-d), or unset without one, as
// Kamal sets ENV["KAMAL_DESTINATION"] before rendering. The process
// environment itself is not changed.
func erbEnv(destination string) envLookup {
	return func(name string) (string, bool) {
		if name == "KAMAL_DESTINATION" || name == "SHIP_DESTINATION" {
			return destination, destination != ""
		}
		return os.LookupEnv(name)
	}
}

// renderERB substitutes the supported ERB tags, reading variables through
// env, and reports any other tag as a problem at its line and column. Tags
// inside YAML comment lines are left alone, as they cannot affect the
// configuration.
func renderERB(file string, src []byte, env envLookup) ([]byte, Problems) {
	var problems Problems
	lines := strings.Split(string(src), "\n")
	for i, line := range lines {
		if strings.HasPrefix(strings.TrimSpace(line), "#") || !strings.Contains(line, "<%") {
			continue
		}
		var b strings.Builder
		last := 0
		for _, loc := range erbTagRE.FindAllStringIndex(line, -1) {
			b.WriteString(line[last:loc[0]])
			last = loc[1]
			v, err := evalERB(line[loc[0]:loc[1]], env)
			if err != nil {
				problems = append(problems, Problem{File: file, Line: i + 1, Column: loc[0] + 1, Message: err.Error()})
				continue
			}
			b.WriteString(v)
		}
		if rest := line[last:]; strings.Contains(rest, "<%") {
			col := last + strings.Index(rest, "<%") + 1
			problems = append(problems, Problem{File: file, Line: i + 1, Column: col, Message: "unclosed ERB tag <%"})
		}
		b.WriteString(line[last:])
		lines[i] = b.String()
	}
	return []byte(strings.Join(lines, "\n")), problems
}

func evalERB(tag string, env envLookup) (string, error) {
	if strings.HasPrefix(tag, "<%#") {
		return "", nil
	}
	unsupported := fmt.Errorf("unsupported ERB %s: ship evaluates only %s", tag, erbForms)
	if strings.Contains(tag, "%x(") || strings.Contains(tag, "`") {
		// Kamal's registry docs fetch a password this way.
		return "", fmt.Errorf("unsupported ERB %s: ship runs no command from the config; run it in the secrets file instead (NAME=$(command)) and use NAME as a secret (env.secret, or password: [NAME] for a registry)", tag)
	}
	if !strings.HasPrefix(tag, "<%=") {
		return "", unsupported
	}
	body := strings.TrimSuffix(strings.TrimSuffix(tag[len("<%="):], "%>"), "-")
	p := &erbParser{s: body}
	p.space()
	var v string
	var err error
	switch {
	case p.peek() == '"' || p.peek() == '\'':
		s, ok := p.str()
		if !ok {
			return "", unsupported
		}
		v = s
	case p.eat("ENV["):
		name, ok := p.name()
		if !ok || !p.eat("]") {
			return "", unsupported
		}
		v, _ = env(name)
	case p.eat("ENV.fetch("):
		v, err = p.fetch(env)
		if err == errUnsupportedERB {
			return "", unsupported
		}
	default:
		return "", unsupported
	}
	if p.space(); p.i != len(p.s) {
		return "", unsupported
	}
	return v, err
}

var errUnsupportedERB = errors.New("unsupported ERB")

// fetch evaluates the rest of ENV.fetch( ... ): the name, then either a
// default argument or a block giving the default, or neither. Like Ruby's
// KeyError, an unset variable without a default is an error.
func (p *erbParser) fetch(env envLookup) (string, error) {
	name, ok := p.name()
	if !ok {
		return "", errUnsupportedERB
	}
	var def string
	hasDefault := false
	if p.eat(",") {
		p.space()
		if def, ok = p.str(); !ok {
			return "", errUnsupportedERB
		}
		hasDefault = true
		p.space()
	}
	if !p.eat(")") {
		return "", errUnsupportedERB
	}
	p.space()
	if p.eat("{") {
		if hasDefault { // Ruby warns that the block supersedes the argument
			return "", errUnsupportedERB
		}
		p.space()
		if def, ok = p.str(); !ok {
			return "", errUnsupportedERB
		}
		hasDefault = true
		if !p.eat("}") {
			return "", errUnsupportedERB
		}
	}
	if p.space(); p.i != len(p.s) {
		return "", errUnsupportedERB
	}
	if v, ok := env(name); ok {
		return v, nil
	}
	if !hasDefault {
		return "", fmt.Errorf("environment variable %s is not set (ENV.fetch has no default)", name)
	}
	return def, nil
}

// erbParser reads the few Ruby tokens ship evaluates.
type erbParser struct {
	s string
	i int
}

func (p *erbParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *erbParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// eat consumes tok, after any spaces, if it comes next.
func (p *erbParser) eat(tok string) bool {
	j := p.i
	for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t') {
		j++
	}
	if !strings.HasPrefix(p.s[j:], tok) {
		return false
	}
	p.i = j + len(tok)
	return true
}

// name reads a non-empty string literal naming a variable.
func (p *erbParser) name() (string, bool) {
	p.space()
	s, ok := p.str()
	p.space()
	return s, ok && s != ""
}

// str reads a quoted string. Escapes and interpolation would need Ruby's
// rules, so a string holding a backslash, or #{, #@ or #$ in double
// quotes, is not read.
func (p *erbParser) str() (string, bool) {
	q := p.peek()
	if q != '"' && q != '\'' {
		return "", false
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	s := p.s[p.i+1 : p.i+1+end]
	if strings.Contains(s, `\`) {
		return "", false
	}
	if q == '"' && (strings.Contains(s, "#{") || strings.Contains(s, "#@") || strings.Contains(s, "#$")) {
		return "", false
	}
	p.i += end + 2
	return s, true
}
