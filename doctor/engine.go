package doctor

import (
	"context"
	"strconv"
	"strings"

	"github.com/kballard/go-shellquote"
)

// minEngine is the oldest Docker Engine ship works with: 20.10, API 1.41.
var minEngine = [2]int{20, 10}

// goodDrivers are the storage drivers fit for production: the others
// copy whole layers (vfs) or are deprecated (devicemapper, aufs).
var goodDrivers = []string{"overlay2", "btrfs", "zfs", "overlayfs", "fuse-overlayfs"}

// engineChecks reads the Docker Engine's version and storage driver.
func engineChecks(ctx context.Context, t *Target) []Check {
	const name = "docker engine"
	info, err := t.Host.Docker.Info(ctx)
	if err != nil {
		return []Check{fail(name, t.exec("docker info"), "the Docker Engine does not answer: %v", err)}
	}
	return []Check{engineVersion(t, info.ServerVersion), storageDriver(t, info.Driver)}
}

// engineVersion checks the engine is 20.10 or newer.
func engineVersion(t *Target, version string) Check {
	const name = "docker engine"
	if olderEngine(version) {
		return fail(name, "upgrade Docker Engine on "+t.Host.Name+" to 20.10 or newer (https://docs.docker.com/engine/install/)",
			"Docker Engine %s is older than 20.10 (API 1.41), which ship needs", version)
	}
	return ok(name, "Docker Engine %s", version)
}

// olderEngine reports whether version is older than minEngine; an
// unreadable version is not.
func olderEngine(version string) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return major < minEngine[0] || major == minEngine[0] && minor < minEngine[1]
}

// storageDriver warns of a storage driver unfit for production.
func storageDriver(t *Target, driver string) Check {
	const name = "storage driver"
	for _, d := range goodDrivers {
		if driver == d {
			return ok(name, "%s", driver)
		}
	}
	return warn(name, "set \"storage-driver\": \"overlay2\" in /etc/docker/daemon.json on "+t.Host.Name+" and restart Docker (images and containers must be recreated)",
		"the storage driver is %s: images take more space and containers start slower than with overlay2", driver)
}

// exec is the fix that runs a command on the host: ship server exec,
// which connects as ship does.
func (t *Target) exec(command string) string {
	return "ship server exec -h " + shellquote.Join(t.Host.Name) + " " + shellquote.Join(command)
}

// asRoot is exec for a command that needs root: through sudo unless ship
// logs in as root.
func (t *Target) asRoot(command string) string {
	if t.Config.SSH.User != "root" {
		command = "sudo " + command
	}
	return t.exec(command)
}
