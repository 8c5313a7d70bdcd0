package benchkit

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/go-connections/nat"
)

// fakeEngine has a kamal-proxy publishing port (none if 0) and the named
// volumes; it records the volumes created.
type fakeEngine struct {
	client.APIClient
	port    string
	volumes map[string]map[string]string // name to labels
}

func (f *fakeEngine) ContainerInspect(_ context.Context, name string) (container.InspectResponse, error) {
	if f.port == "" {
		return container.InspectResponse{}, errdefs.NotFound(errNotFound)
	}
	return container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{HostConfig: &container.HostConfig{
		PortBindings: nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1", HostPort: f.port}}},
	}}}, nil
}

func (f *fakeEngine) VolumeInspect(_ context.Context, name string) (volume.Volume, error) {
	if labels, ok := f.volumes[name]; ok {
		return volume.Volume{Name: name, Labels: labels}, nil
	}
	return volume.Volume{}, errdefs.NotFound(errNotFound)
}

func (f *fakeEngine) VolumeCreate(_ context.Context, o volume.CreateOptions) (volume.Volume, error) {
	f.volumes[o.Name] = o.Labels
	return volume.Volume{Name: o.Name, Labels: o.Labels}, nil
}

type notFound struct{}

func (notFound) Error() string { return "no such object" }

var errNotFound = notFound{}

func TestOwnProxy(t *testing.T) {
	ctx := context.Background()
	if there, err := OwnProxy(ctx, &fakeEngine{}, "h1", 18180); there || err != nil {
		t.Errorf("no kamal-proxy: OwnProxy = %v, %v; want false, nil", there, err)
	}
	if there, err := OwnProxy(ctx, &fakeEngine{port: "18180"}, "h1", 18180); !there || err != nil {
		t.Errorf("the bench's kamal-proxy: OwnProxy = %v, %v; want true, nil", there, err)
	}
	_, err := OwnProxy(ctx, &fakeEngine{port: "80"}, "h1", 18180)
	if err == nil || !strings.Contains(err.Error(), "h1 has a kamal-proxy container the bench did not make") || !strings.Contains(err.Error(), "remove it first") {
		t.Errorf("someone else's kamal-proxy: OwnProxy = %v; want an error saying whose and what to do", err)
	}
}

func TestEnsureProxyVolumesLabelsOnlyWhatItCreates(t *testing.T) {
	f := &fakeEngine{volumes: map[string]map[string]string{ProxyVolumes[0]: nil}}
	if err := EnsureProxyVolumes(context.Background(), f, "replicas"); err != nil {
		t.Fatal(err)
	}
	if f.volumes[ProxyVolumes[0]] != nil {
		t.Errorf("the volume that was there got labels %v", f.volumes[ProxyVolumes[0]])
	}
	if got := f.volumes[ProxyVolumes[1]][Label]; got != "replicas" {
		t.Errorf("the created volume's %s label is %q, want replicas", Label, got)
	}
}
