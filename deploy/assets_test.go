package deploy

import (
	"context"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/volumes"
)

// Prune removes the role's assets volumes no container of the role mounts
// (their versions were pruned), and nothing else: not another role's, not
// a volume without ship's label, and never a data volume the config
// names, whatever labels it carries.
func TestUnusedAssets(t *testing.T) {
	c := &config.Config{Service: "shop", Volumes: []volumes.Mount{{Source: "shop_data", Target: "/data"}}}
	mine := map[string]string{spec.LabelAssets: spec.AssetsOwner(c, "web")}
	vols := []*volume.Volume{
		{Name: "shop-web-v1-assets-a", Labels: mine},
		{Name: "shop-web-v2-assets-b", Labels: mine},
		{Name: "shop-web-v3-assets-c", Labels: mine},
		{Name: "shop-api-v1-assets-d", Labels: map[string]string{spec.LabelAssets: spec.AssetsOwner(c, "api")}},
		{Name: "shop_data", Labels: mine},
		{Name: "unlabelled", Labels: map[string]string{spec.LabelService: "shop"}},
	}
	containers := []container.Summary{
		{Names: []string{"/shop-web-v3"}, Mounts: []container.MountPoint{{Type: "volume", Name: "shop-web-v3-assets-c"}, {Type: "volume", Name: "shop_data"}}},
		{Names: []string{"/shop-web-v2"}, Mounts: []container.MountPoint{{Type: "volume", Name: "shop-web-v2-assets-b"}}},
	}
	got := unusedAssets(c, "web", vols, containers)
	if want := []string{"shop-web-v1-assets-a"}; !slices.Equal(got, want) {
		t.Errorf("unused = %v, want %v", got, want)
	}
	if got := unusedAssets(c, "web", vols, nil); !slices.Equal(got, []string{"shop-web-v1-assets-a", "shop-web-v2-assets-b", "shop-web-v3-assets-c"}) {
		t.Errorf("with no container left (app remove), unused = %v", got)
	}
}

// labelled answers VolumeInspect from a fixed set; it implements only that.
type labelled struct {
	client.APIClient
	labels map[string]map[string]string
}

func (l labelled) VolumeInspect(_ context.Context, name string) (volume.Volume, error) {
	return volume.Volume{Name: name, Labels: l.labels[name]}, nil
}

// Only a volume ship made for the role's assets is written to: a data
// volume an older config mounted at asset_path is not one.
func TestAssetsVolumeOf(t *testing.T) {
	c := &config.Config{Service: "shop"}
	d := labelled{labels: map[string]map[string]string{
		"shop-web-v1-assets-a": {spec.LabelAssets: spec.AssetsOwner(c, "web")},
		"shop_public":          {spec.LabelService: "shop"},
		"shop-api-v1-assets-b": {spec.LabelAssets: spec.AssetsOwner(c, "api")},
	}}
	at := func(name string) container.MountPoint {
		return container.MountPoint{Type: "volume", Name: name, Destination: "/public/assets"}
	}
	for _, tc := range []struct {
		mounts []container.MountPoint
		want   string
	}{
		{[]container.MountPoint{at("shop-web-v1-assets-a")}, "shop-web-v1-assets-a"},
		{[]container.MountPoint{at("shop_public")}, ""},
		{[]container.MountPoint{at("shop-api-v1-assets-b")}, ""},
		{[]container.MountPoint{{Type: "volume", Name: "shop-web-v1-assets-a", Destination: "/elsewhere"}}, ""},
	} {
		if got := assetsVolumeOf(context.Background(), d, c, "web", tc.mounts, "/public/assets"); got != tc.want {
			t.Errorf("assetsVolumeOf(%v) = %q, want %q", tc.mounts, got, tc.want)
		}
	}
}
