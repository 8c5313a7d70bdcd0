// Package fleet is the set of servers a configuration names: which of them
// a command acts on, the one SSH connection to each, and running work on
// them side by side.
package fleet

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/ssh"
)

// SSHConfig maps the ssh: section onto the transport's settings.
// $SHIP_KNOWN_HOSTS names one more known_hosts file: the GitHub Action puts
// its known-hosts input there rather than in the runner's ~/.ssh.
func SSHConfig(c *config.Config) ssh.Config {
	s := c.SSH
	keyData := make([]string, len(s.KeyData))
	for i, k := range s.KeyData {
		keyData[i] = k.Reveal()
	}
	known := slices.Clone(s.KnownHosts)
	if f := os.Getenv("SHIP_KNOWN_HOSTS"); f != "" {
		known = append(known, f)
	}
	return ssh.Config{
		User: s.User, Port: s.Port, Keys: s.Keys, KeyData: keyData, KeysOnly: s.KeysOnly,
		KnownHosts: known, Proxy: s.Proxy, ProxyCommand: s.ProxyCommand,
	}
}

// Select lists the hosts a command acts on, in config order without
// repeats: all hosts of all roles, or those picked by --hosts and --roles
// (comma-separated; shell-style wildcards such as 'web*' allowed).
func Select(c *config.Config, hosts, roles string) ([]string, error) {
	hostPats, rolePats := split(hosts), split(roles)
	if err := matchesSomething(rolePats, "--roles", roleNames(c)); err != nil {
		return nil, err
	}
	if err := matchesSomething(hostPats, "--hosts", AllHosts(c)); err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range c.Roles {
		if len(rolePats) > 0 && !matchAny(rolePats, r.Name) {
			continue
		}
		for _, h := range r.Hosts {
			if seen[h.Address] || (len(hostPats) > 0 && !matchAny(hostPats, h.Address)) {
				continue
			}
			seen[h.Address] = true
			out = append(out, h.Address)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no host is in both --hosts %s and --roles %s", hosts, roles)
	}
	return out, nil
}

// Roles lists the roles a command acts on: all, or those --roles picks.
func Roles(c *config.Config, roles string) ([]string, error) {
	pats := split(roles)
	if err := matchesSomething(pats, "--roles", roleNames(c)); err != nil {
		return nil, err
	}
	var out []string
	for _, r := range c.Roles {
		if len(pats) == 0 || matchAny(pats, r.Name) {
			out = append(out, r.Name)
		}
	}
	return out, nil
}

// AllHosts lists every host of every role, in config order.
func AllHosts(c *config.Config) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range c.Roles {
		for _, h := range r.Hosts {
			if !seen[h.Address] {
				seen[h.Address] = true
				out = append(out, h.Address)
			}
		}
	}
	return out
}

func roleNames(c *config.Config) []string {
	var out []string
	for _, r := range c.Roles {
		out = append(out, r.Name)
	}
	return out
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok || p == s {
			return true
		}
	}
	return false
}

// matchesSomething refuses a filter that picks nothing, which is almost
// always a typo that would otherwise act on no host and report success.
func matchesSomething(patterns []string, flag string, names []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("%s %q: %v", flag, p, err)
		}
		if !anyMatch(p, names) {
			return fmt.Errorf("%s %q matches nothing in the config (have: %s)", flag, p, strings.Join(names, ", "))
		}
	}
	return nil
}

func anyMatch(p string, names []string) bool {
	for _, n := range names {
		if matchAny([]string{p}, n) {
			return true
		}
	}
	return false
}
