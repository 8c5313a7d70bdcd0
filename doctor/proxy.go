package doctor

import (
	"context"
	"strconv"
	"strings"

	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/spec"
)

// minProxy is the oldest kamal-proxy ship drives: Kamal 2.12's minimum.
const minProxy = "v0.9.2"

// proxyChecks checks kamal-proxy on a host where a role is behind it: it
// runs, it is recent enough, and the roles are routed and not held.
func proxyChecks(ctx context.Context, t *Target) []Check {
	var roles []string
	for _, r := range t.Roles {
		if r.Proxy != nil {
			roles = append(roles, r.Name)
		}
	}
	if len(roles) == 0 {
		return nil
	}
	const name = "kamal-proxy"
	info, err := t.Host.Docker.ContainerInspect(ctx, proxy.ContainerName)
	if errdefs.IsNotFound(err) {
		return []Check{fail(name, "ship proxy boot -h "+t.Host.Name, "%s does not exist on the host: nothing routes requests to the app", proxy.ContainerName)}
	}
	if err != nil {
		return []Check{fail(name, "ship proxy details -h "+t.Host.Name, "cannot inspect %s: %v", proxy.ContainerName, err)}
	}
	if !info.State.Running {
		return []Check{fail(name, "ship proxy boot -h "+t.Host.Name, "%s is %s: nothing routes requests to the app", proxy.ContainerName, info.State.Status)}
	}
	version := info.Config.Image[strings.LastIndex(info.Config.Image, ":")+1:]
	services, err := proxy.Services(ctx, t.Host.Docker)
	if err != nil {
		return []Check{fail(name, "ship proxy logs -h "+t.Host.Name, "kamal-proxy list failed: %v", err)}
	}
	out := []Check{proxyVersion(t, version, services)}
	for _, r := range roles {
		out = append(out, routed(t, spec.ProxyService(t.Config, r), proxy.StateIn(services, spec.ProxyService(t.Config, r))))
	}
	return out
}

// proxyVersion judges kamal-proxy's version, and names the services it
// holds paused.
func proxyVersion(t *Target, version string, services []proxy.Service) Check {
	const name = "kamal-proxy"
	if olderVersion(version, minProxy) {
		return fail(name, "ship proxy reboot -h "+t.Host.Name, "kamal-proxy %s is older than %s, the oldest ship drives", version, minProxy)
	}
	var paused []string
	for _, s := range services {
		if s.State == proxy.Paused.String() {
			paused = append(paused, s.Name)
		}
	}
	if len(paused) > 0 {
		return warn(name, "ship app live for this app's; kamal-proxy resume SERVICE for another's",
			"kamal-proxy %s holds the requests of paused services: %s", version, strings.Join(paused, ", "))
	}
	return ok(name, "kamal-proxy %s, no paused services", version)
}

// routed judges the state kamal-proxy has a role's service in.
func routed(t *Target, service string, state proxy.State) Check {
	name := "route " + service
	switch state {
	case proxy.Absent:
		return fail(name, "ship deploy -h "+t.Host.Name, "kamal-proxy does not route %s: its requests get a 404", service)
	case proxy.Paused:
		return warn(name, "ship app live -h "+t.Host.Name+" (unless a deploy is swapping it now: ship queue)", "kamal-proxy holds the requests of %s", service)
	case proxy.Stopped:
		return warn(name, "ship app live -h "+t.Host.Name, "%s is in maintenance: every request gets a 503", service)
	}
	return ok(name, "kamal-proxy routes %s", service)
}

// olderVersion compares "vX.Y.Z" versions number by number; a version
// that is not one (a branch, "latest") is not older.
func olderVersion(a, b string) bool {
	pa, oka := versionParts(a)
	pb, okb := versionParts(b)
	if !oka || !okb {
		return false
	}
	for i := range max(len(pa), len(pb)) {
		x, y := at(pa, i), at(pb, i)
		if x != y {
			return x < y
		}
	}
	return false
}

func versionParts(v string) ([]int, bool) {
	var out []int
	for _, p := range strings.Split(strings.TrimPrefix(v, "v"), ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

func at(list []int, i int) int {
	if i < len(list) {
		return list[i]
	}
	return 0
}
