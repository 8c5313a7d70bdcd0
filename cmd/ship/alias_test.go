package main

import (
	"strings"
	"testing"
)

// Kamal's aliases run as ship commands, with the global flags before the
// alias name and the arguments after it; a name that is neither a command
// nor an alias is still an unknown command.
func TestAliases(t *testing.T) {
	dir := project(t, map[string]string{
		"config/deploy.yml": `service: aliased
image: acme/aliased
servers: [10.0.0.1]
env:
  clear:
    GREETING: base
aliases:
  settings: config
`,
		"config/deploy.staging.yml": "env:\n  clear:\n    GREETING: staging\n",
	})
	out, errOut, code := ship(t, dir, "-d", "staging", "settings")
	if code != 0 || !strings.Contains(out, "GREETING: staging") {
		t.Errorf("ship -d staging settings: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code = ship(t, dir, "settings", "--no-such-flag"); code != exitUsage {
		t.Errorf("an alias with a bad flag after it: exit %d, want %d\n%s", code, exitUsage, errOut)
	}
	if _, errOut, code = ship(t, dir, "nothing"); code != exitUsage || !strings.Contains(errOut, `unknown command "nothing"`) {
		t.Errorf("ship nothing: exit %d\n%s", code, errOut)
	}
}

// An alias of an alias is refused with its line when the config loads.
func TestAliasOfAliasRefused(t *testing.T) {
	dir := project(t, map[string]string{"config/deploy.yml": `service: aliased
image: acme/aliased
servers: [10.0.0.1]
aliases:
  settings: config
  again: settings -q
`})
	_, errOut, code := ship(t, dir, "again")
	if code != exitUsage || !strings.Contains(errOut, "config/deploy.yml:6:10: aliases.again: runs the alias settings: an alias runs a ship command") {
		t.Errorf("ship again: exit %d\n%s", code, errOut)
	}
}
