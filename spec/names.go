// Package spec says what ship creates on a host, from the config: the
// containers of roles and accessories, their names, labels and images, and
// where ship keeps its files in the login user's home. It computes; it
// never touches a host.
package spec

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
	// LabelAccessory marks an accessory's container with the accessory's
	// name.
	LabelAccessory = "ship.accessory"
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

// LatestRef is the image tag Kamal keeps on the newest version built
// and on the version each host runs: IMAGE:latest, or
// IMAGE:latest-DESTINATION with a destination.
func LatestRef(c *config.Config) string {
	tag := "latest"
	if c.Destination != "" {
		tag += "-" + c.Destination
	}
	return ImageRef(c, tag)
}

// VersionOf reads a container's version from ship's label, or from its name
// for containers Kamal started.
func VersionOf(c *config.Config, role, name string, labels map[string]string) string {
	if v := labels[LabelVersion]; v != "" {
		return v
	}
	return strings.TrimPrefix(strings.TrimPrefix(name, "/"), ContainerPrefix(c, role))
}

// AccessoryName is an accessory's container: its `service` if set, else
// SERVICE-NAME, as Kamal names it, so ship finds accessories Kamal booted.
func AccessoryName(c *config.Config, a *config.Accessory) string {
	if a.Service != "" {
		return a.Service
	}
	return c.Service + "-" + a.Name
}

// ProxyService is kamal-proxy's name for a role: SERVICE-ROLE[-DEST], as
// Kamal names it.
func ProxyService(c *config.Config, role string) string {
	return strings.TrimSuffix(ContainerPrefix(c, role), "-")
}
