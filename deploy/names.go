// Package deploy is ship's deploy engine: it replaces a role's container on
// a host with a stop-then-start swap, so an SQLite database never has two
// writers, and puts the old version back when the new one is not healthy.
package deploy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/proxy"
)

// Labels ship puts on app containers. service, role and destination are
// Kamal's, so ship recognises containers Kamal started and vice versa.
const (
	LabelService     = "service"
	LabelRole        = "role"
	LabelDestination = "destination"
	LabelVersion     = "ship.version"
)

// Network is the Docker network app containers join: Kamal's, so
// kamal-proxy and accessories already on it can reach the app.
const Network = proxy.Network

var versionRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$`)

// CheckVersion refuses versions that cannot be part of a container name or
// image tag.
func CheckVersion(v string) error {
	if !versionRE.MatchString(v) {
		return fmt.Errorf("version %q may contain only letters, digits, '_', '.' and '-' (at most 128, not starting with a symbol)", v)
	}
	return nil
}

// ContainerPrefix is the name of a role's containers without the version:
// SERVICE-ROLE or SERVICE-ROLE-DESTINATION.
func ContainerPrefix(c *config.Config, role string) string {
	p := c.Service + "-" + role
	if c.Destination != "" {
		p += "-" + c.Destination
	}
	return p + "-"
}

// ContainerName is the container of a role's version.
func ContainerName(c *config.Config, role, version string) string {
	return ContainerPrefix(c, role) + version
}

// ImageRef is the image of a version: IMAGE:VERSION, under the registry
// server when one is configured, as Kamal names it.
func ImageRef(c *config.Config, version string) string {
	repo := c.Image
	if s := c.Registry.Server; s != "" && !strings.HasPrefix(repo, s+"/") {
		repo = s + "/" + repo
	}
	return repo + ":" + version
}

// versionOf reads a container's version from ship's label, or from its name
// for containers Kamal started.
func versionOf(c *config.Config, role, name string, labels map[string]string) string {
	if v := labels[LabelVersion]; v != "" {
		return v
	}
	return strings.TrimPrefix(strings.TrimPrefix(name, "/"), ContainerPrefix(c, role))
}
