// Package benchkit is what the benchmarks under bench/ share: the ship CLI
// built once as a user has it, projects written as ship init makes them
// and ship run in them, and the figures of their tables.
package benchkit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// BuildShip builds the CLI once into dir and returns its path.
func BuildShip(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "ship")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/shipdeploy/ship/cmd/ship")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build ship: %w\n%s", err, out)
	}
	return bin, nil
}

// Project is a directory with config/deploy.yml and .ship/secrets, as
// ship init makes, for one service.
type Project struct {
	Dir, Service string
	// Ship is the CLI's path (BuildShip).
	Ship string
	// DockerHost is the engine ship builds with and sends images from.
	DockerHost string
}

// Write writes the project's files, relative paths to contents, readable
// by the user only: .ship/secrets holds secrets.
func (p *Project) Write(files map[string]string) error {
	for file, content := range files {
		path := filepath.Join(p.Dir, file)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// Run runs the ship CLI in the project and returns its output. An
// interrupt reaches ship as one, so it leaves the host as a Ctrl-C would.
func (p *Project) Run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, p.Ship, args...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+p.DockerHost)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: ship %s: %w\n%s", p.Service, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
