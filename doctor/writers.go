package doctor

import (
	"context"
	"strings"

	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/guard"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/volumes"
)

// writerKind is who a container writing an app volume is.
type writerKind int

const (
	appWriter writerKind = iota
	litestreamWriter
	strangerWriter
)

// volumeWriters are the running containers that have one app volume open
// for writing, by kind.
type volumeWriters map[writerKind][]string

// writers finds, for each writable app volume, the running containers
// that mount it writable: the single-writer check's own reading.
func (t *Target) writers(ctx context.Context) (map[string]volumeWriters, error) {
	ws, err := guard.Writers(ctx, t.Host.Docker, t.Config.Volumes, nil)
	if err != nil {
		return nil, err
	}
	running, err := t.runningContainers(ctx)
	if err != nil {
		return nil, err
	}
	images := map[string]string{}
	for _, c := range running {
		images[host.Name(c)] = c.Image
	}
	out := map[string]volumeWriters{}
	for _, v := range t.Config.Volumes {
		if !v.ReadOnly() {
			out[v.Source] = volumeWriters{}
		}
	}
	for _, w := range ws {
		k := t.kindOf(w.Container, images[w.Container])
		out[w.Volume][k] = append(out[w.Volume][k], w.Container)
	}
	return out, nil
}

// kindOf tells the app's containers, its Litestream replicators and any
// other container apart.
func (t *Target) kindOf(name, image string) writerKind {
	for _, r := range t.Roles {
		if strings.HasPrefix(name, spec.ContainerPrefix(t.Config, r.Name)) {
			return appWriter
		}
	}
	if config.IsLitestream(image) {
		return litestreamWriter
	}
	for _, rep := range guard.Replicators(t.Config) {
		if rep == name {
			return litestreamWriter
		}
	}
	return strangerWriter
}

// writerChecks checks that each writable app volume has exactly one
// running writer: the app's container, besides its Litestream replicator.
// A host of replica roles only has not the app's volumes (its replicas
// mount copies of the databases, read-only): replicaWriterChecks keeps
// its rule.
func writerChecks(ctx context.Context, t *Target) []Check {
	if len(t.appRoleNames()) == 0 {
		return nil
	}
	all, err := t.writers(ctx)
	if err != nil {
		return []Check{fail("single writer", t.exec("docker ps"), "cannot list the containers: %v", err)}
	}
	var out []Check
	for _, v := range t.Config.Volumes {
		if !v.ReadOnly() {
			out = append(out, singleWriter(t, v, all[v.Source]))
		}
	}
	return out
}

// singleWriter judges one volume's writers.
func singleWriter(t *Target, v volumes.Mount, w volumeWriters) Check {
	name := "single writer " + v.Source
	if s := w[strangerWriter]; len(s) > 0 {
		return fail(name, t.exec(shellquote.Join(append([]string{"docker", "stop"}, s...)...)),
			"%s, which ship did not start, has %s open for writing beside the app: two writers corrupt an SQLite database (stop it, or mount the volume read-only, :ro, in it)",
			strings.Join(s, ", "), v.Source)
	}
	apps := w[appWriter]
	switch {
	case len(apps) == 0:
		return fail(name, "ship app start -h "+t.Host.Name, "no container of the app is running with %s: nothing serves from it", v.Source)
	case len(apps) > 1:
		return fail(name, "ship app stale_containers --stop -h "+t.Host.Name, "%s all have %s open for writing: two versions of the app are running", strings.Join(apps, ", "), v.Source)
	}
	return ok(name, "%s is the one writer of %s", apps[0], v.Source)
}
