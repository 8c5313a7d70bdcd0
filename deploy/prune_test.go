package deploy

import (
	"context"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/spec"
)

// removals records what Prune removes; it implements only those calls.
type removals struct {
	client.APIClient
	containers, images []string
}

func (r *removals) ContainerRemove(_ context.Context, id string, _ container.RemoveOptions) error {
	r.containers = append(r.containers, id)
	return nil
}

func (r *removals) ImageRemove(_ context.Context, ref string, _ image.RemoveOptions) ([]image.DeleteResponse, error) {
	r.images = append(r.images, ref)
	return nil, nil
}

func TestPruneKeepsDistinctVersions(t *testing.T) {
	ct := func(name, version, state string) container.Summary {
		return container.Summary{ID: name, Names: []string{"/" + name}, Image: "shop:" + version, State: state,
			Labels: map[string]string{spec.LabelVersion: version}}
	}
	// Newest first: v4 serves; v3 was redeployed twice, leaving two
	// containers set aside; v4 once.
	list := []container.Summary{
		ct("shop-web-v4", "v4", "running"),
		ct("shop-web-v4_replaced_A", "v4", "exited"),
		ct("shop-web-v3", "v3", "exited"),
		ct("shop-web-v3_replaced_B", "v3", "exited"),
		ct("shop-web-v3_replaced_C", "v3", "exited"),
		ct("shop-web-v2", "v2", "exited"),
		ct("shop-web-v1", "v1", "exited"),
		{ID: "shop-web-old", Names: []string{"/shop-web-old"}, Image: "shop:old", State: "exited"},
	}
	r := &removals{}
	removed, err := Prune(context.Background(), r, 2, func(context.Context) ([]container.Summary, error) { return list, nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"shop-web-v4_replaced_A", "shop-web-v3_replaced_B", "shop-web-v3_replaced_C", "shop-web-v1", "shop-web-old"}
	if !slices.Equal(removed, want) || !slices.Equal(r.containers, want) {
		t.Errorf("removed %v (engine: %v), want %v: the two newest distinct stopped versions are v3 and v2", removed, r.containers, want)
	}
	// A set-aside container's tag is also the kept container's: it stays,
	// or the next deploy of that version would find no image.
	if images := []string{"shop:v1", "shop:old"}; !slices.Equal(r.images, images) {
		t.Errorf("removed images %v, want %v", r.images, images)
	}
}
