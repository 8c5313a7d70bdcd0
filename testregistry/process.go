package testregistry

import (
	"os/exec"

	"github.com/shipdeploy/ship/testproc"
)

// startRegistry runs bin serve config with its output appended to log.
func startRegistry(bin, config, log string) (*testproc.Server, error) {
	cmd := exec.Command(bin, "serve", config)
	// REGISTRY_* variables would override the config file: pass none.
	cmd.Env = []string{}
	return testproc.Start(cmd, log)
}
