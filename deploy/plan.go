package deploy

import (
	"context"
	"crypto/rand"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/shipdeploy/ship/config"
)

// Plan lists the roles to swap on each of the selected hosts, in config
// order: a host with two roles has two units.
func Plan(c *config.Config, hosts, roles []string) []Unit {
	var out []Unit
	for _, r := range c.Roles {
		if !slices.Contains(roles, r.Name) {
			continue
		}
		for _, h := range r.Hosts {
			if slices.Contains(hosts, h.Address) {
				out = append(out, Unit{Host: h, Role: r})
			}
		}
	}
	return out
}

// GitVersion is the default version: the commit checked out in dir. The
// image is built from that commit as committed, so the commit names it
// whatever the working tree holds; only when workingTree (builder.context)
// builds the working tree does a tree with uncommitted changes get a
// random suffix, as Kamal does, so two different dirty builds never share
// a tag.
func GitVersion(ctx context.Context, dir string, workingTree bool) (string, error) {
	sha, err := git(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return "", fmt.Errorf("no version given and git cannot name one (%v): pass --version", err)
	}
	if !workingTree {
		return sha, nil
	}
	status, err := git(ctx, dir, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return "", err
	}
	if status != "" {
		return sha + "_uncommitted_" + strings.ToLower(rand.Text()[:16]), nil
	}
	return sha, nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		if e, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("git %s: %s", args[0], strings.TrimSpace(string(e.Stderr)))
		}
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	return strings.TrimSpace(string(out)), nil
}
