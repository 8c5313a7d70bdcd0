package workflow

import (
	"context"
	"io"

	"github.com/shipdeploy/ship/build"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/spec"
)

// BuildRequest is ship build and its subcommands.
type BuildRequest struct {
	Globals
	Version string // "" is the git commit
	// Push pushes the image to the registry, when there is one.
	Push bool
	// Deliver puts the image on the selected hosts.
	Deliver bool
}

// Build builds IMAGE:VERSION with the local Docker Engine, then pushes and
// delivers it as asked.
func Build(ctx context.Context, r BuildRequest) error {
	cfg, err := LoadConfig(r.Globals)
	if err != nil {
		return err
	}
	version, err := buildVersion(ctx, r.Globals, cfg, r.Version, false)
	if err != nil {
		return err
	}
	if r.Push && (cfg.Registry.Server != "" || cfg.Registry.Username != "") {
		local, err := localEngine()
		if err != nil {
			return err
		}
		defer local.Close()
		if err := deploy.Push(ctx, cfg, local, version); err != nil {
			return err
		}
		r.UI.Infof("pushed %s", spec.ImageRef(cfg, version))
	}
	if r.Deliver {
		return deliver(ctx, r.Globals, cfg, version)
	}
	return nil
}

// Deliver puts an image already built on the selected hosts: pulled from
// the registry, or sent over SSH without one (ship build pull).
func Deliver(ctx context.Context, g Globals, version string) error {
	cfg, err := LoadConfig(g)
	if err != nil {
		return err
	}
	if version, err = versionOf(ctx, cfg, version); err != nil {
		return err // a --version given is checked like one computed
	}
	return deliver(ctx, g, cfg, version)
}

func deliver(ctx context.Context, g Globals, cfg *config.Config, version string) error {
	s, err := openWith(g, cfg)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.connect(ctx); err != nil {
		return err
	}
	local, err := localEngine()
	if err != nil {
		return err
	}
	defer local.Close()
	return deploy.Deliver(ctx, cfg, s.engines, local, version, s.output(), s.Terminal)
}

// buildVersion is versionOf, built with the local engine unless
// skipBuild: then IMAGE:VERSION must exist locally or in the registry.
func buildVersion(ctx context.Context, g Globals, cfg *config.Config, version string, skipBuild bool) (string, error) {
	version, err := versionOf(ctx, cfg, version)
	if err != nil || skipBuild {
		return version, err
	}
	local, err := localEngine()
	if err != nil {
		return "", err
	}
	defer local.Close()
	out := g.UI.Out
	if g.UI.Quiet {
		out = io.Discard
	}
	warn := func(msg string) { g.UI.Warnf("%s", msg) }
	id, err := build.Build(ctx, local, cfg, version, out, warn)
	if err != nil {
		return "", err
	}
	g.UI.Infof("built %s (%s)", spec.ImageRef(cfg, version), id)
	return version, nil
}

// versionOf is version, checked, or else the git commit.
func versionOf(ctx context.Context, cfg *config.Config, version string) (string, error) {
	if version == "" {
		var err error
		if version, err = deploy.GitVersion(ctx, cfg.Root); err != nil {
			return "", usage(err)
		}
	}
	if err := spec.CheckVersion(version); err != nil {
		return "", usage(err)
	}
	return version, nil
}
