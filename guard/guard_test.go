package guard

import (
	"context"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/volumes"
)

// running lists fixed running containers; it implements only that call.
type running struct {
	client.APIClient
	list []container.Summary
}

func (r running) ContainerList(context.Context, container.ListOptions) ([]container.Summary, error) {
	return r.list, nil
}

// An assets volume (asset_path), mounted writable by the running version
// and by a helper, is no data volume: only a writable mount of a volume
// the config names makes a writer.
func TestWritersIgnoreAssetsVolumes(t *testing.T) {
	data := []volumes.Mount{{Source: "shop_data", Target: "/data"}}
	d := running{list: []container.Summary{
		{Names: []string{"/shop-web-v2"}, Mounts: []container.MountPoint{
			{Type: "volume", Name: "shop-web-v2-assets-abcd", Destination: "/rails/public/assets", RW: true},
		}},
		{Names: []string{"/intruder"}, Mounts: []container.MountPoint{
			{Type: "volume", Name: "shop-web-v1-assets-efgh", Destination: "/a", RW: true},
			{Type: "volume", Name: "shop_data", Destination: "/data", RW: true},
		}},
	}}
	ws, err := Writers(context.Background(), d, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Writer{{Container: "intruder", Volume: "shop_data"}}; !slices.Equal(ws, want) {
		t.Errorf("writers = %v, want %v", ws, want)
	}
}

// A replica host's copies: one volume per app volume that holds
// databases, shared by their followers, each of which may write it.
func TestCopies(t *testing.T) {
	c := &config.Config{Service: "shop",
		Volumes:    []volumes.Mount{{Source: "shop_data", Target: "/data"}, {Source: "shop_queue", Target: "/queue"}},
		Litestream: &config.Litestream{Databases: []string{"/data/app.db", "/data/cache.db", "/queue/jobs.db"}}}
	copies, followers, err := Copies(c)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range copies {
		names = append(names, m.Source+":"+m.Target)
	}
	if want := []string{"shop-replica-shop_data:/data", "shop-replica-shop_queue:/queue"}; !slices.Equal(names, want) {
		t.Errorf("copies = %v, want %v", names, want)
	}
	if want := []string{"shop-follower-app", "shop-follower-cache", "shop-follower-jobs"}; !slices.Equal(followers, want) {
		t.Errorf("followers = %v, want %v", followers, want)
	}
	if copies, followers, err := Copies(&config.Config{Service: "shop"}); copies != nil || followers != nil || err != nil {
		t.Errorf("without a litestream section: %v, %v, %v", copies, followers, err)
	}
}
