package delivery

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/engine"
	"github.com/shipdeploy/ship/internal/testhost"
)

// layerTar writes a layer's tar by hand, with what an image may hold.
type layerTar struct {
	buf bytes.Buffer
	tw  *tar.Writer
}

func newLayerTar() *layerTar {
	l := &layerTar{}
	l.tw = tar.NewWriter(&l.buf)
	return l
}

func (l *layerTar) add(h tar.Header, content []byte) *layerTar {
	h.Size = int64(len(content))
	h.ModTime = time.Unix(1700000000, 0)
	if h.Mode == 0 {
		h.Mode = 0o644
	}
	l.tw.WriteHeader(&h)
	l.tw.Write(content)
	return l
}

func (l *layerTar) bytes() []byte {
	l.tw.Close()
	return l.buf.Bytes()
}

// loadCraftedImage loads into the local engine an image of two layers with
// hard links, symlinks, empty and non-ASCII files, a deletion (whiteout)
// and an opaque directory, and returns its ref, ID and layers.
func loadCraftedImage(t *testing.T, local client.APIClient) (ref, id string, layers [][]byte) {
	t.Helper()
	tool, tool2 := make([]byte, 300<<10), make([]byte, 200<<10)
	rand.Read(tool)
	rand.Read(tool2)
	dir := tar.Header{Typeflag: tar.TypeDir, Mode: 0o755}
	named := func(h tar.Header, name string) tar.Header { h.Name = name; return h }
	reg := tar.Header{Typeflag: tar.TypeReg}
	base := newLayerTar().
		add(named(dir, "bin/"), nil).
		add(tar.Header{Name: "bin/tool", Typeflag: tar.TypeReg, Mode: 0o755}, tool).
		add(tar.Header{Name: "bin/tool-again", Typeflag: tar.TypeLink, Linkname: "bin/tool"}, nil).
		add(tar.Header{Name: "bin/current", Typeflag: tar.TypeSymlink, Linkname: "tool"}, nil).
		add(named(reg, "empty"), nil).
		add(named(dir, "dir with space/"), nil).
		add(named(reg, "dir with space/grüße.txt"), []byte("hallo\n")).
		add(named(dir, "var/"), nil).
		add(named(reg, "var/gone"), []byte("deleted above\n")).
		add(named(dir, "opq/"), nil).
		add(named(reg, "opq/old"), []byte("hidden above\n")).
		bytes()
	top := newLayerTar().
		add(named(dir, "bin/"), nil).
		add(tar.Header{Name: "bin/tool", Typeflag: tar.TypeReg, Mode: 0o755}, tool2).
		add(named(dir, "etc/"), nil).
		add(tar.Header{Name: "etc/tool.conf", Typeflag: tar.TypeLink, Linkname: "bin/tool"}, nil).
		add(named(dir, "var/"), nil).
		add(named(reg, "var/.wh.gone"), nil).
		add(named(dir, "opq/"), nil).
		add(named(reg, "opq/.wh..wh..opq"), nil).
		add(named(reg, "opq/new"), []byte("new\n")).
		// The engine's copy walks names in order: it gives aa/link the
		// contents and zz/real as a link to it, the other way round.
		add(named(dir, "zz/"), nil).
		add(named(reg, "zz/real"), []byte("linked\n")).
		add(named(dir, "aa/"), nil).
		add(tar.Header{Name: "aa/link", Typeflag: tar.TypeLink, Linkname: "zz/real"}, nil).
		bytes()
	layers = [][]byte{base, top}
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{digest(base), digest(top)}},
	})
	ref = "delivery-engine-test-" + strings.ToLower(rand.Text()[:6]) + ":1"
	manifest, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{ref}, "Layers": []string{"base.tar", "top.tar"}}})
	archive := newLayerTar().
		add(tar.Header{Name: "config.json"}, config).
		add(tar.Header{Name: "base.tar"}, base).
		add(tar.Header{Name: "top.tar"}, top).
		add(tar.Header{Name: "manifest.json"}, manifest).
		bytes()
	resp, err := local.ImageLoad(context.Background(), bytes.NewReader(archive), client.ImageLoadWithQuiet(true))
	if err != nil {
		t.Fatal(err)
	}
	err = engine.ReadProgress(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("load the crafted image: %v", err)
	}
	t.Cleanup(func() {
		local.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	return ref, digest(config), layers
}

// The real local engine reads a layer store ship does not touch: every
// layer comes back byte for byte (so with its diff ID), the config with
// the image's ID, and the helper container was created and removed but
// never started.
func TestReadThroughEngine(t *testing.T) {
	ctx := context.Background()
	local, id, layers := craftedOnLocalEngine(t)
	diffIDs := []string{digest(layers[0]), digest(layers[1])}
	chains := chainIDs(diffIDs)

	since := time.Now().Add(-time.Second)
	s, err := readThroughEngine(ctx, local, id, diffIDs, []bool{true, true})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range layers {
		r, size, err := s.Layer(chains[i], diffIDs[i])
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, want) || size != int64(len(want)) {
			t.Errorf("layer %d: %d bytes (said %d, %v), want the %d-byte layer as loaded", i, len(got), size, err, len(want))
		}
	}
	if config, err := s.Config(id); err != nil || digest(config) != id {
		t.Errorf("config: %v, hashes to %s, want %s", err, digest(config), id)
	}
	s.Close()

	left, err := local.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", ReaderLabel))})
	if err != nil || len(left) != 0 {
		t.Errorf("helper containers left: %v %v", left, err)
	}
	evCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msgs, errs := local.Events(evCtx, events.ListOptions{
		Since: since.Format(time.RFC3339Nano), Until: time.Now().Add(time.Second).Format(time.RFC3339Nano),
		Filters: filters.NewArgs(filters.Arg("type", "container"), filters.Arg("label", ReaderLabel)),
	})
	var actions []string
	for done := false; !done; {
		select {
		case m := <-msgs:
			actions = append(actions, string(m.Action))
		case err := <-errs:
			if err != nil && err != io.EOF {
				t.Fatal(err)
			}
			done = true
		}
	}
	joined := " " + strings.Join(actions, " ") + " "
	if !strings.Contains(joined, " create ") || !strings.Contains(joined, " destroy ") || strings.Contains(joined, " start ") {
		t.Errorf("the helper's events were %v, want create and destroy, never start", actions)
	}
}

// Only the layers asked for are read; asking for one the helper did not
// copy fails instead of reading anything else.
func TestReadThroughEngineOnlyMissing(t *testing.T) {
	ctx := context.Background()
	local, id, layers := craftedOnLocalEngine(t)
	diffIDs := []string{digest(layers[0]), digest(layers[1])}
	chains := chainIDs(diffIDs)
	s, err := readThroughEngine(ctx, local, id, diffIDs, []bool{false, true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Layer(chains[0], diffIDs[0]); err == nil {
		t.Error("a layer that was not asked for was read")
	}
	r, _, err := s.Layer(chains[1], diffIDs[1])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, layers[1]) {
		t.Errorf("top layer: %d bytes, %v", len(got), err)
	}
}

// craftedOnLocalEngine loads loadCraftedImage's image into the local
// engine (h1's), closed when the test ends, and returns it with the
// image's ID and its layers.
func craftedOnLocalEngine(t *testing.T) (client.APIClient, string, [][]byte) {
	t.Helper()
	h1, _ := testhost.Hosts(t)
	local, err := client.NewClientWithOpts(client.WithHost(h1.DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	_, id, layers := loadCraftedImage(t, local)
	return local, id, layers
}
