package spec

import (
	"strings"

	"github.com/shipdeploy/ship/config"
)

// Labels of the Docker objects that bridge a role's assets between
// versions. They are not the app containers' labels, so nothing that
// lists the app's containers or data volumes ever sees them.
const (
	// LabelAssets marks an assets volume, and a helper container that
	// fills one, with its owner: AssetsOwner.
	LabelAssets = "ship.assets"
	// LabelAssetsHelper marks the helper containers (never started).
	LabelAssetsHelper = "ship.assets.helper"
)

// AssetsMount is the directory the helper container mounts an assets
// volume at while filling it. It never is asset_path itself, so the image's
// own files there are read from the image, never from the volume.
const AssetsMount = "/.ship-assets"

// Assets is a role's asset_path: the directory of the app container whose
// files are carried over from the previous version, and the mount's
// options (ro, z, Z).
type Assets struct {
	Path    string
	Options []string
}

// AssetsOf is the role's asset_path, its own or the top-level one. As in
// Kamal, only a proxied role bridges assets: without kamal-proxy, no
// browser holds a page of the old version.
func AssetsOf(c *config.Config, r *config.Role) (Assets, bool) {
	raw := r.AssetPath
	if raw == "" {
		raw = c.AssetPath
	}
	if raw == "" || r.Proxy == nil {
		return Assets{}, false
	}
	p, opts, _ := strings.Cut(raw, ":")
	a := Assets{Path: strings.TrimSuffix(p, "/")}
	if opts != "" {
		a.Options = strings.Split(opts, ",")
	}
	return a, true
}

// Bind is the app container's mount of volume at asset_path. nocopy keeps
// Docker from copying the image's files into the volume: ship has already
// filled it.
func (a Assets) Bind(volume string) string {
	return volume + ":" + a.Path + ":" + strings.Join(append([]string{"nocopy"}, a.Options...), ",")
}

// AssetsOwner is the value of LabelAssets for a role's assets:
// SERVICE/ROLE/DESTINATION. Names cannot hold '/', so no two roles of any
// apps share it.
func AssetsOwner(c *config.Config, role string) string {
	return c.Service + "/" + role + "/" + c.Destination
}

// AssetsVolume is the name of the assets volume of a role's version:
// SERVICE-ROLE[-DEST]-VERSION-assets-SUFFIX. The random suffix lets a
// redeploy of a version fill a new volume while the old container of that
// version keeps its own.
func AssetsVolume(c *config.Config, role, version, suffix string) string {
	return ContainerName(c, role, version) + "-assets-" + suffix
}

// AssetsHelper is the name of a helper container that fills an assets
// volume: SERVICE-ROLE[-DEST]-assets-SUFFIX.
func AssetsHelper(c *config.Config, role, suffix string) string {
	return ContainerPrefix(c, role) + "assets-" + suffix
}

// AssetsLabels are the labels of a role's assets volume of a version.
func AssetsLabels(c *config.Config, role, version string) map[string]string {
	return map[string]string{LabelAssets: AssetsOwner(c, role), LabelVersion: version}
}
