package delivery

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	dockerstorage "github.com/docker/docker/api/types/storage"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// helperEngine is a local engine whose layer store is a fakeStoreDir, read
// the way the engine reads it for a created container: copying a path
// copies the bind-mounted sources under it.
type helperEngine struct {
	*fakeEngine
	root    string // the store
	upper   string // the image's top layer directory, as inspect says
	created []container.CreateRequest
	started bool
	removed []string
	list    []container.Summary
	copyErr error
}

func (e *helperEngine) Info(context.Context) (system.Info, error) {
	return system.Info{Driver: "overlay2", DockerRootDir: e.root}, nil
}

func (e *helperEngine) ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (image.InspectResponse, error) {
	info, err := e.fakeEngine.ImageInspect(ctx, ref, opts...)
	info.GraphDriver = dockerstorage.DriverData{Name: "overlay2", Data: map[string]string{"UpperDir": e.upper}}
	return info, err
}

func (e *helperEngine) ContainerList(context.Context, container.ListOptions) ([]container.Summary, error) {
	return e.list, nil
}

func (e *helperEngine) ContainerCreate(_ context.Context, cfg *container.Config, hc *container.HostConfig, _ *network.NetworkingConfig, _ *ocispec.Platform, name string) (container.CreateResponse, error) {
	e.created = append(e.created, container.CreateRequest{Config: cfg, HostConfig: hc})
	return container.CreateResponse{ID: "id-" + name}, nil
}

func (e *helperEngine) ContainerStart(context.Context, string, container.StartOptions) error {
	e.started = true
	return errors.New("started")
}

func (e *helperEngine) ContainerRemove(_ context.Context, id string, _ container.RemoveOptions) error {
	e.removed = append(e.removed, id)
	return nil
}

func (e *helperEngine) CopyFromContainer(ctx context.Context, _, at string) (io.ReadCloser, container.PathStat, error) {
	if e.copyErr != nil {
		return nil, container.PathStat{}, e.copyErr
	}
	if err := ctx.Err(); err != nil {
		return nil, container.PathStat{}, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hc := e.created[len(e.created)-1].HostConfig
	for _, m := range hc.Mounts {
		rel, ok := strings.CutPrefix(m.Target, at)
		if !ok || rel != "" && rel[0] != '/' {
			continue
		}
		prefix := path.Base(at) + rel
		filepath.WalkDir(m.Source, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			r, _ := filepath.Rel(m.Source, p)
			name := path.Join(prefix, filepath.ToSlash(r))
			fi, _ := d.Info()
			switch {
			case d.IsDir():
				tw.WriteHeader(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: 0o755})
			case d.Type()&fs.ModeSymlink != 0:
				target, _ := os.Readlink(p)
				tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target})
			default:
				b, _ := os.ReadFile(p)
				tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: int64(fi.Mode().Perm()), Size: int64(len(b))})
				tw.Write(b)
			}
			return nil
		})
	}
	tw.Close()
	return io.NopCloser(&buf), container.PathStat{}, nil
}

// newHelperEngine is a local engine holding one image of one layer in a
// fakeStoreDir, and returns it with the image and the layer's files.
func newHelperEngine(t *testing.T) (*helperEngine, fakeImage, string) {
	t.Helper()
	root, layer, files := fakeStoreDir(t, nil)
	img := newFakeImage("app:v1", layer)
	contentDir := filepath.Join(root, "image", "overlay2", "imagedb", "content", "sha256")
	os.WriteFile(filepath.Join(contentDir, strings.TrimPrefix(img.id(), "sha256:")), img.config, 0o600)
	fe := newFakeEngine(img)
	fe.local = &img
	return &helperEngine{fakeEngine: fe, root: root, upper: files}, img, files
}

// The engine reads the layer for ship through a helper that mounts
// exactly the layer's files, its metadata and the config, read-only, is
// never started and is removed.
func TestEngineStoreReadsThroughHelper(t *testing.T) {
	e, img, files := newHelperEngine(t)
	s, err := readThroughEngine(context.Background(), e, img.id(), img.diffIDs, []bool{true})
	if err != nil {
		t.Fatal(err)
	}
	r, size, err := s.Layer(img.diffIDs[0], img.diffIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, img.layers[0]) || size != int64(len(got)) {
		t.Errorf("layer: %d bytes (said %d), %v; want the %d-byte layer", len(got), size, err, len(img.layers[0]))
	}
	if c, err := s.Config(img.id()); err != nil || !bytes.Equal(c, img.config) {
		t.Errorf("config = %q, %v", c, err)
	}
	s.Close()
	if len(e.created) != 1 || e.started || len(e.removed) != 1 {
		t.Fatalf("created %d helpers, started %v, removed %v; want one, never started, removed", len(e.created), e.started, e.removed)
	}
	req := e.created[0]
	if req.Labels[ReaderLabel] == "" || !req.NetworkDisabled || req.HostConfig.NetworkMode != "none" {
		t.Errorf("helper config %+v: want the reader label and no network", req.Config)
	}
	var sources []string
	for _, m := range req.HostConfig.Mounts {
		if m.Type != "bind" || !m.ReadOnly {
			t.Errorf("mount %+v is not a read-only bind", m)
		}
		sources = append(sources, m.Source)
	}
	hexID := strings.TrimPrefix(img.id(), "sha256:")
	want := []string{
		filepath.Join(e.root, "image", "overlay2", "imagedb", "content", "sha256", hexID),
		files,
		filepath.Join(e.root, "image", "overlay2", "layerdb", "sha256", strings.TrimPrefix(img.diffIDs[0], "sha256:")),
	}
	if !slices.Equal(sources, want) {
		t.Errorf("mounted %v, want exactly %v", sources, want)
	}
}

// A file that changed, a directory that is not the layer's (its
// cache-id differs), a failed copy and an interrupt all fail the read,
// and the helper is removed each time.
func TestEngineStoreRefusesAndCleansUp(t *testing.T) {
	for name, spoil := range map[string]func(e *helperEngine, files string) context.Context{
		"changed file": func(_ *helperEngine, files string) context.Context {
			os.WriteFile(filepath.Join(files, "app", "VERSION"), []byte("3\n"), 0o644)
			return context.Background()
		},
		"other directory": func(e *helperEngine, files string) context.Context {
			other := filepath.Join(filepath.Dir(filepath.Dir(files)), "cacheid2", "diff")
			os.MkdirAll(filepath.Dir(other), 0o755)
			os.Rename(files, other)
			e.upper = other
			return context.Background()
		},
		"copy fails": func(e *helperEngine, _ string) context.Context {
			e.copyErr = errors.New("no such container")
			return context.Background()
		},
		"interrupted": func(*helperEngine, string) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		},
	} {
		e, img, files := newHelperEngine(t)
		ctx := spoil(e, files)
		if s, err := readThroughEngine(ctx, e, img.id(), img.diffIDs, []bool{true}); err == nil {
			s.Close()
			t.Errorf("%s: read without an error", name)
		}
		if len(e.created) != len(e.removed) {
			t.Errorf("%s: created %d helpers, removed %d", name, len(e.created), len(e.removed))
		}
	}
}

// Helpers an interrupted ship left behind are removed; a young one may be
// another ship's, still reading.
func TestEngineStoreRemovesLeftovers(t *testing.T) {
	e, img, _ := newHelperEngine(t)
	e.list = []container.Summary{
		{ID: "old", Created: time.Now().Add(-time.Hour).Unix()},
		{ID: "young", Created: time.Now().Unix()},
	}
	s, err := readThroughEngine(context.Background(), e, img.id(), img.diffIDs, []bool{true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !slices.Contains(e.removed, "old") || slices.Contains(e.removed, "young") {
		t.Errorf("removed %v, want the old leftover only", e.removed)
	}
}

func TestLayerDirs(t *testing.T) {
	gd := dockerstorage.DriverData{Name: "overlay2", Data: map[string]string{
		"UpperDir": "/d/overlay2/c/diff", "LowerDir": "/d/overlay2/b/diff:/d/overlay2/a/diff",
	}}
	dirs, err := layerDirs(gd, 3)
	if want := []string{"/d/overlay2/a/diff", "/d/overlay2/b/diff", "/d/overlay2/c/diff"}; err != nil || !slices.Equal(dirs, want) {
		t.Errorf("layerDirs = %v, %v; want bottom first %v", dirs, err, want)
	}
	if _, err := layerDirs(gd, 2); err == nil {
		t.Error("three directories were taken for two layers")
	}
	if _, err := layerDirs(dockerstorage.DriverData{Name: "btrfs"}, 1); !errors.Is(err, errNotOverlay2) {
		t.Errorf("btrfs: %v", err)
	}
	gd.Data["UpperDir"] = "/d/overlay2/c/merged"
	if _, err := layerDirs(gd, 3); err == nil {
		t.Error("a merged directory was taken for a layer's files")
	}
}

// Without a readable store here, the engine reads the layers for ship;
// when what it reads does not match, the delivery falls back to the
// engine's save, saying why.
func TestSendThroughEngine(t *testing.T) {
	e, img, files := newHelperEngine(t)
	i, err := Open(context.Background(), e, img.ref)
	if err != nil {
		t.Fatal(err)
	}
	defer i.Close()
	i.srcErr = errStoreOff
	host := newFakeEngine()
	st, err := i.Send(context.Background(), host, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Route != FromEngine || st.Sent != 1 || st.Note != "" {
		t.Errorf("stats = %+v, want 1 layer read through the local engine", st)
	}
	if got, _ := host.ImageInspect(context.Background(), img.ref); got.ID != img.id() {
		t.Errorf("the host's image is %q, want %s", got.ID, img.id())
	}

	os.WriteFile(filepath.Join(files, "app", "VERSION"), []byte("3\n"), 0o644)
	host = newFakeEngine()
	st, err = i.Send(context.Background(), host, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Route != FromSaveStream || !strings.Contains(st.Note, "through the local engine") || !strings.Contains(st.Note, "app/VERSION") {
		t.Errorf("stats = %+v, want the save, with why the engine's read failed", st)
	}
	if got, _ := host.ImageInspect(context.Background(), img.ref); got.ID != img.id() {
		t.Errorf("the host's image is %q, want %s", got.ID, img.id())
	}
	if len(e.created) != 2 || len(e.removed) != 2 || e.started {
		t.Errorf("created %d helpers, removed %d, started %v", len(e.created), len(e.removed), e.started)
	}
}

// An engine that keeps images elsewhere is asked once, not per host.
func TestSendThroughEngineNotOverlay2(t *testing.T) {
	e, img, _ := newHelperEngine(t)
	e.upper = ""
	i, err := Open(context.Background(), e, img.ref)
	if err != nil {
		t.Fatal(err)
	}
	defer i.Close()
	i.srcErr = errStoreOff
	for range 2 {
		st, err := i.Send(context.Background(), newFakeEngine(), nil)
		if err != nil || st.Route != FromSaveStream || !strings.Contains(st.Note, "no overlay2 directories") {
			t.Errorf("stats = %+v, %v; want the save, saying why", st, err)
		}
	}
	if i.engineErr == nil || len(e.created) != 0 {
		t.Errorf("created %d helpers; want none, and the reason kept", len(e.created))
	}
}
