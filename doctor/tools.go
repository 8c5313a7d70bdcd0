package doctor

import (
	"context"
	_ "embed"
	"slices"
	"strings"

	"github.com/shipdeploy/ship/ssh"
)

//go:embed tools.sh
var toolsScript string

// packages name the Debian package of each program tools.sh looks for.
var packages = map[string]string{
	"bash": "bash", "flock": "util-linux", "sqlite3": "sqlite3", "stat": "coreutils", "dd": "coreutils",
	"od": "coreutils", "readlink": "coreutils", "mktemp": "coreutils", "df": "coreutils",
}

// toolChecks looks for the programs ship's scripts run on the host, and
// for the root access its database scripts need.
func toolChecks(ctx context.Context, t *Target) []Check {
	var out strings.Builder
	cmd := ssh.Script(toolsScript)
	cmd.Stdout = &out
	if err := t.Host.Shell.Run(ctx, cmd); err != nil {
		return []Check{fail("host tools", t.exec("echo ok"), "cannot run a shell script on the host: %v", err)}
	}
	return toolFindings(t, out.String())
}

// toolFindings reads tools.sh's output.
func toolFindings(t *Target, out string) []Check {
	var missing, pkgs []string
	sudo := true
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if p, found := strings.CutPrefix(line, "missing "); found {
			missing = append(missing, p)
			if pkg := packages[p]; pkg != "" && !slices.Contains(pkgs, pkg) {
				pkgs = append(pkgs, pkg)
			}
		} else if line == "nosudo" {
			sudo = false
		}
	}
	var checks []Check
	switch {
	case len(missing) == 1 && missing[0] == "sqlite3":
		checks = append(checks, fail("host tools", "ship server bootstrap -h "+t.Host.Name, "sqlite3 is missing: ship needs it for database checks and restore points"))
	case len(missing) > 0:
		checks = append(checks, fail("host tools", t.asRoot("apt-get install -y "+strings.Join(pkgs, " ")),
			"%s missing on the host: ship's scripts need them", strings.Join(missing, ", ")))
	default:
		checks = append(checks, ok("host tools", "bash, flock, sqlite3 and coreutils are installed"))
	}
	if !sudo {
		checks = append(checks, fail("sudo", "connect as root (ssh: user: root), or give "+t.Config.SSH.User+" passwordless sudo on "+t.Host.Name,
			"%s is not root and sudo asks for a password: ship reads and copies the databases under /var/lib/docker as root", t.Config.SSH.User))
	}
	return checks
}
