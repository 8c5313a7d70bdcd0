package delivery

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/storage"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
)

// fakeImage is an image made of layers given as their tar bytes.
type fakeImage struct {
	ref     string
	config  []byte
	layers  [][]byte
	diffIDs []string
}

func newFakeImage(ref string, layers ...[]byte) fakeImage {
	img := fakeImage{ref: ref, layers: layers}
	for _, l := range layers {
		img.diffIDs = append(img.diffIDs, digest(l))
	}
	img.config, _ = json.Marshal(map[string]any{"rootfs": map[string]any{"type": "layers", "diff_ids": img.diffIDs}, "ref": ref})
	return img
}

func (f fakeImage) id() string { return digest(f.config) }

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// fakeSource is a layer store holding fake images.
type fakeSource struct {
	configs map[string][]byte
	layers  map[string][]byte // diffID -> tar
}

func newFakeSource(imgs ...fakeImage) *fakeSource {
	s := &fakeSource{configs: map[string][]byte{}, layers: map[string][]byte{}}
	for _, img := range imgs {
		s.configs[img.id()] = img.config
		for i, d := range img.diffIDs {
			s.layers[d] = img.layers[i]
		}
	}
	return s
}

func (s *fakeSource) Config(id string) ([]byte, error) {
	if b, ok := s.configs[id]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no config %s", id)
}

func (s *fakeSource) Layer(_, diffID string) (io.ReadCloser, int64, error) {
	if b, ok := s.layers[diffID]; ok {
		return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
	}
	return nil, 0, fmt.Errorf("no layer %s", diffID)
}

// fakeEngine is a Docker Engine that loads archives by the rules of the
// classic image store's load (image/tarexport/load.go): a layer's file is
// read only when its chain is missing, and must hash to its diffID. With
// containerd set it wants every layer's file, as the containerd store does.
type fakeEngine struct {
	client.APIClient
	containerd bool
	chains     map[string]bool
	images     map[string]fakeImage // by ref
	loads      [][]string           // the file names of each archive loaded
	local      *fakeImage           // what ImageSave saves
	inspected  atomic.Int32         // ImageInspect calls
	listed     atomic.Int32         // ImageList calls
	infos      atomic.Int32         // Info calls
	created    map[string]int64     // by ref: the order images were added in
}

func newFakeEngine(imgs ...fakeImage) *fakeEngine {
	e := &fakeEngine{chains: map[string]bool{}, images: map[string]fakeImage{}, created: map[string]int64{}}
	for _, img := range imgs {
		e.add(img)
	}
	return e
}

func (e *fakeEngine) add(img fakeImage) {
	e.images[img.ref] = img
	e.created[img.ref] = int64(len(e.created) + 1)
	for _, c := range chainIDs(img.diffIDs) {
		e.chains[c] = true
	}
}

func (e *fakeEngine) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	e.inspected.Add(1)
	for r, img := range e.images {
		if r == ref || img.id() == ref {
			return image.InspectResponse{ID: img.id(), RepoTags: []string{r}, RootFS: image.RootFS{Type: "layers", Layers: img.diffIDs}, GraphDriver: e.graphDriver()}, nil
		}
	}
	return image.InspectResponse{}, errdefs.NotFound(fmt.Errorf("no such image: %s", ref))
}

func (e *fakeEngine) ImageList(context.Context, image.ListOptions) ([]image.Summary, error) {
	e.listed.Add(1)
	var out []image.Summary
	for _, img := range e.images {
		out = append(out, image.Summary{ID: img.id(), RepoTags: []string{img.ref}, Created: e.created[img.ref]})
	}
	return out, nil
}

// graphDriver is what an inspection says of where an image is kept: the
// containerd store names its snapshotter, the classic one gives overlay2's
// directories.
func (e *fakeEngine) graphDriver() storage.DriverData {
	if e.containerd {
		return storage.DriverData{Name: "overlayfs"}
	}
	return storage.DriverData{Name: "overlay2", Data: map[string]string{"UpperDir": "/nonexistent/overlay2/x/diff"}}
}

func (e *fakeEngine) Info(context.Context) (system.Info, error) {
	e.infos.Add(1)
	info := system.Info{Driver: "overlay2", DockerRootDir: "/nonexistent"}
	if e.containerd {
		info.DriverStatus = [][2]string{{"driver-type", "io.containerd.snapshotter.v1"}}
	}
	return info, nil
}

func (e *fakeEngine) ImageSave(context.Context, []string, ...client.ImageSaveOption) (io.ReadCloser, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(b)), Mode: 0o644})
		tw.Write(b)
	}
	img := e.local
	add(strings.TrimPrefix(img.id(), "sha256:")+".json", img.config)
	var paths []string
	for i, l := range img.layers {
		p := fmt.Sprintf("v1-%d/layer.tar", i)
		paths = append(paths, p)
		add(p, l)
	}
	m, _ := json.Marshal([]map[string]any{{"Config": strings.TrimPrefix(img.id(), "sha256:") + ".json", "RepoTags": []string{img.ref}, "Layers": paths}})
	add("manifest.json", m)
	tw.Close()
	return io.NopCloser(&buf), nil
}

func (e *fakeEngine) ImageLoad(_ context.Context, input io.Reader, _ ...client.ImageLoadOption) (image.LoadResponse, error) {
	files := map[string][]byte{}
	var names []string
	tr := tar.NewReader(input)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return image.LoadResponse{}, err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return image.LoadResponse{}, err
		}
		files[h.Name] = b
		names = append(names, h.Name)
	}
	e.loads = append(e.loads, names)
	fail := func(format string, a ...any) (image.LoadResponse, error) {
		msg, _ := json.Marshal(map[string]string{"error": fmt.Sprintf(format, a...)})
		return image.LoadResponse{Body: io.NopCloser(bytes.NewReader(msg))}, nil
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		return fail("bad manifest: %v", err)
	}
	m := manifest[0]
	config, ok := files[m.Config]
	if !ok {
		return fail("no config %s", m.Config)
	}
	var c struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
		Ref string
	}
	json.Unmarshal(config, &c)
	if len(c.RootFS.DiffIDs) != len(m.Layers) {
		return fail("invalid manifest, layers length mismatch")
	}
	for i, chain := range chainIDs(c.RootFS.DiffIDs) {
		if e.chains[chain] && !e.containerd {
			continue
		}
		b, ok := files[m.Layers[i]]
		if !ok {
			return fail("layer %q not found", m.Layers[i])
		}
		if digest(b) != c.RootFS.DiffIDs[i] {
			return fail("invalid diffID for layer %d", i)
		}
	}
	img := fakeImage{ref: m.RepoTags[0], config: config, diffIDs: c.RootFS.DiffIDs}
	e.add(img)
	return image.LoadResponse{Body: io.NopCloser(strings.NewReader(`{"stream":"Loaded image"}`))}, nil
}
