package delivery

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

func randomLayer(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestMissing(t *testing.T) {
	diffs := []string{"sha256:a", "sha256:b", "sha256:c"}
	chains := chainIDs(diffs)
	for _, c := range []struct {
		name    string
		present []string
		want    []bool
	}{
		{"a new host", nil, []bool{true, true, true}},
		{"base layers there", chains[:2], []bool{false, false, true}},
		{"everything there", chains, []bool{false, false, false}},
		// The same diff on another base is another layer.
		{"same diff, other base", chainIDs([]string{"sha256:x", "sha256:b"}), []bool{true, true, true}},
		{"same bottom, other diff above", chainIDs([]string{"sha256:a", "sha256:x"}), []bool{false, true, true}},
	} {
		present := map[string]bool{}
		for _, p := range c.present {
			present[p] = true
		}
		if got := missing(diffs, present); !slices.Equal(got, c.want) {
			t.Errorf("%s: missing = %v, want %v", c.name, got, c.want)
		}
	}
}

// setup is a local engine with v1 and v2 of an app that share two base
// layers, and a host that already runs v1.
func setup(t *testing.T) (local, host *fakeEngine, v1, v2 fakeImage) {
	t.Helper()
	base, deps := randomLayer(64<<10), randomLayer(32<<10)
	v1 = newFakeImage("app:v1", base, deps, randomLayer(4<<10))
	v2 = newFakeImage("app:v2", base, deps, randomLayer(4<<10))
	local = newFakeEngine(v1, v2)
	local.local = &v2
	return local, newFakeEngine(v1), v1, v2
}

func open(t *testing.T, local *fakeEngine, ref string, src layerSource) *Image {
	t.Helper()
	img, err := Open(context.Background(), local, ref)
	if err != nil {
		t.Fatal(err)
	}
	if src != nil {
		img.src = src
	} else {
		img.srcErr = errStoreOff
	}
	t.Cleanup(img.Close)
	return img
}

var errStoreOff = &storeOff{}

type storeOff struct{}

func (*storeOff) Error() string { return "the local layer store is off in this test" }

// A code-only change carries only the new layer's file; the host loads
// the very image.
func TestSendFromStoreOnlyMissingLayer(t *testing.T) {
	local, host, v1, v2 := setup(t)
	img := open(t, local, v2.ref, newFakeSource(v1, v2))
	var progressed Transfer
	st, err := img.Send(context.Background(), host, func(p Transfer) { progressed = p })
	if err != nil {
		t.Fatal(err)
	}
	if st.Route != FromLayerStore || st.Sent != 1 || st.Layers != 3 || st.Note != "" {
		t.Errorf("stats = %+v, want 1 of 3 layers read from the layer store", st)
	}
	last := host.loads[len(host.loads)-1]
	wantFile := strings.TrimPrefix(v2.diffIDs[2], "sha256:") + "/layer.tar"
	if len(last) != 3 || !slices.Contains(last, wantFile) || !slices.Contains(last, "manifest.json") {
		t.Errorf("the archive held %v, want the config, %s and the manifest", last, wantFile)
	}
	if st.Bytes < int64(len(v2.layers[2])) || st.Bytes > int64(len(v2.layers[2]))+8<<10 || progressed.Sent != st.Bytes || progressed.Layers != 1 || progressed.Of != 3 {
		t.Errorf("sent %d bytes (progress said %+v) for a %d-byte layer", st.Bytes, progressed, len(v2.layers[2]))
	}
	if got, _ := host.ImageInspect(context.Background(), v2.ref); got.ID != v2.id() {
		t.Errorf("the host's %s is %q, want %s", v2.ref, got.ID, v2.id())
	}
}

// A host with none of the layers gets all of them, each once.
func TestSendFromStoreToNewHost(t *testing.T) {
	local, _, v1, v2 := setup(t)
	host := newFakeEngine()
	img := open(t, local, v2.ref, newFakeSource(v1, v2))
	st, err := img.Send(context.Background(), host, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Route != FromLayerStore || st.Sent != 3 || len(host.loads[0]) != 5 {
		t.Errorf("stats = %+v, archive %v; want all 3 layers", st, host.loads[0])
	}
	if again, err := img.Send(context.Background(), host, nil); err != nil || !again.AlreadyThere {
		t.Errorf("a second send = %+v, %v; want already there", again, err)
	}
}

// A layer store whose bytes do not match the image's digests must not get
// an image onto the host.
func TestSendFromCorruptStore(t *testing.T) {
	local, host, v1, v2 := setup(t)
	src := newFakeSource(v1, v2)
	bad := slices.Clone(v2.layers[2])
	bad[0] ^= 1
	src.layers[v2.diffIDs[2]] = bad
	img := open(t, local, v2.ref, src)
	if _, err := img.Send(context.Background(), host, nil); err == nil {
		t.Fatal("a corrupt layer was delivered")
	}
	if _, err := host.ImageInspect(context.Background(), v2.ref); err == nil {
		t.Error("the host has the image after a corrupt delivery")
	}
}

// Without a readable layer store, the engine's save is filtered instead,
// and the note says why.
func TestSendWithoutStore(t *testing.T) {
	local, host, _, v2 := setup(t)
	img := open(t, local, v2.ref, nil)
	st, err := img.Send(context.Background(), host, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Route != FromSavedArchive || st.Sent != 1 || !strings.Contains(st.Note, "off in this test") {
		t.Errorf("stats = %+v, want 1 layer filtered from docker save, with the reason", st)
	}
	if last := host.loads[0]; len(last) != 3 || !slices.Contains(last, "v1-2/layer.tar") {
		t.Errorf("the archive held %v, want only the top layer's file", last)
	}
	if got, _ := host.ImageInspect(context.Background(), v2.ref); got.ID != v2.id() {
		t.Errorf("the host's %s is %q, want %s", v2.ref, got.ID, v2.id())
	}
}

// The containerd image store wants every layer: the whole save goes.
func TestSendToContainerdStore(t *testing.T) {
	local, host, v1, v2 := setup(t)
	host.containerd = true
	img := open(t, local, v2.ref, newFakeSource(v1, v2))
	st, err := img.Send(context.Background(), host, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Route != FromSaveStream || st.Sent != 3 || !strings.Contains(st.Note, "containerd") {
		t.Errorf("stats = %+v, want all layers streamed from docker save, saying why", st)
	}
	if got, _ := host.ImageInspect(context.Background(), v2.ref); got.ID != v2.id() {
		t.Errorf("the host's %s is %q, want %s", v2.ref, got.ID, v2.id())
	}
}

func TestLoadTag(t *testing.T) {
	for ref, want := range map[string]string{
		"app:v1":                                 "app:v1",
		"app":                                    "app:latest",
		"docker.io/basecamp/kamal-proxy:v0.9.2":  "basecamp/kamal-proxy:v0.9.2",
		"registry.example.com:5000/team/app:abc": "registry.example.com:5000/team/app:abc",
	} {
		if got, err := loadTag(ref); err != nil || got != want {
			t.Errorf("loadTag(%q) = %q, %v; want %q", ref, got, err, want)
		}
	}
	if _, err := loadTag("app@sha256:" + strings.Repeat("a", 64)); err == nil {
		t.Error("a reference by digest got a tag")
	}
}

// pruning is a host whose engine loses the version's tag as soon as a
// load has put it there, as when a prune takes it meanwhile.
type pruning struct{ *fakeEngine }

func (p pruning) ImageLoad(ctx context.Context, input io.Reader, opts ...client.ImageLoadOption) (image.LoadResponse, error) {
	resp, err := p.fakeEngine.ImageLoad(ctx, input, opts...)
	for ref := range p.images {
		if !strings.HasSuffix(ref, ":v1") {
			delete(p.images, ref)
		}
	}
	return resp, err
}

// An image removed between its load and the load's check is reported as
// removed (ErrRemoved), which a deploy answers by sending it again.
func TestSendReportsAnImageRemovedAsItArrived(t *testing.T) {
	local, host, v1, v2 := setup(t)
	img := open(t, local, v2.ref, newFakeSource(v1, v2))
	_, err := img.Send(context.Background(), pruning{host}, nil)
	if !errors.Is(err, ErrRemoved) {
		t.Errorf("send = %v, want %v", err, ErrRemoved)
	}
}
