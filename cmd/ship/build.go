package main

import (
	"fmt"
	"io"
	"os"

	"github.com/docker/docker/client"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/shipdeploy/ship/build"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/ssh"
)

func buildCommand() *cli.Command {
	versionFlag := &cli.StringFlag{Name: "version", Usage: "version to build (default: the git commit, with a suffix if the tree is dirty)"}
	return &cli.Command{
		Name:   "build",
		Usage:  "build the app's image with the local Docker Engine",
		Flags:  []cli.Flag{versionFlag},
		Action: func(c *cli.Context) error { return buildAnd(c, false, false) },
		Subcommands: []*cli.Command{
			{Name: "push", Usage: "build, then push the image to the registry", Flags: []cli.Flag{versionFlag},
				Action: func(c *cli.Context) error { return buildAnd(c, true, false) }},
			{Name: "pull", Usage: "put the built image on the hosts: pulled from the registry, or sent over SSH without one", Flags: []cli.Flag{versionFlag},
				Action: func(c *cli.Context) error { return deliverTo(c, c.String("version")) }},
			{Name: "deliver", Usage: "build, push and pull: the image ready on every host", Flags: []cli.Flag{versionFlag},
				Action: func(c *cli.Context) error { return buildAnd(c, true, true) }},
		},
	}
}

// localEngine is the Docker Engine on this machine (DOCKER_HOST honoured).
func localEngine() (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("local Docker Engine: %w", err)
	}
	return cli, nil
}

func buildAnd(c *cli.Context, push, deliver bool) error {
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	version, err := versionOf(c, cfg)
	if err != nil {
		return err
	}
	if err := buildImage(c, cfg, version); err != nil {
		return err
	}
	if push && (cfg.Registry.Server != "" || cfg.Registry.Username != "") {
		local, err := localEngine()
		if err != nil {
			return err
		}
		defer local.Close()
		if err := deploy.Push(c.Context, cfg, local, version); err != nil {
			return err
		}
		newUI(c).infof("pushed %s", spec.ImageRef(cfg, version))
	}
	if deliver {
		return deliverTo(c, version)
	}
	return nil
}

// buildImage builds IMAGE:VERSION with the local engine.
func buildImage(c *cli.Context, cfg *config.Config, version string) error {
	local, err := localEngine()
	if err != nil {
		return err
	}
	defer local.Close()
	out := c.App.Writer
	if newUI(c).quiet {
		out = io.Discard
	}
	id, err := build.Build(c.Context, local, cfg, version, out)
	if err != nil {
		return err
	}
	newUI(c).infof("built %s (%s)", spec.ImageRef(cfg, version), id)
	return nil
}

// deliverTo puts IMAGE:VERSION on the selected hosts.
func deliverTo(c *cli.Context, version string) error {
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	if version == "" {
		if version, err = versionOf(c, cfg); err != nil {
			return err
		}
	}
	hosts, err := selectHosts(c, cfg)
	if err != nil {
		return err
	}
	pool := ssh.NewPool(fleet.SSHConfig(cfg))
	defer pool.Close()
	engines, err := openHosts(c.Context, pool, hosts)
	if err != nil {
		return err
	}
	local, err := localEngine()
	if err != nil {
		return err
	}
	defer local.Close()
	return deploy.Deliver(c.Context, cfg, engines, local, version, output(c.App.Writer), isTerminal(c))
}

func isTerminal(c *cli.Context) bool {
	f, ok := c.App.Writer.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
