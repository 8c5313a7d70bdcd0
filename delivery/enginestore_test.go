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
	upper   string // the image's layer directories, as inspect says
	lower   string
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
	info.GraphDriver = dockerstorage.DriverData{Name: "overlay2", Data: map[string]string{"UpperDir": e.upper, "LowerDir": e.lower}}
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

// newHelperEngine is a local engine holding in a fakeStoreDir an image of
// two layers, the top one of its own, and returns it with the image, the
// image of the bottom layer alone, and the top layer's files.
func newHelperEngine(t *testing.T) (e *helperEngine, v2, v1 fakeImage, files string) {
	t.Helper()
	root, base, baseFiles := fakeStoreDir(t, nil)
	top := newLayerTar().
		add(tar.Header{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o755}, nil).
		add(tar.Header{Name: "app/VERSION", Typeflag: tar.TypeReg}, []byte("4\n")).
		add(tar.Header{Name: "app/code", Typeflag: tar.TypeReg}, randomLayer(10<<10)).
		bytes()
	v1, v2 = newFakeImage("app:v1", base), newFakeImage("app:v2", base, top)
	files = addStoreLayer(t, root, chainIDs(v2.diffIDs)[1], "cacheid2", top)
	contentDir := filepath.Join(root, "image", "overlay2", "imagedb", "content", "sha256")
	os.WriteFile(filepath.Join(contentDir, strings.TrimPrefix(v2.id(), "sha256:")), v2.config, 0o600)
	fe := newFakeEngine(v2)
	fe.local = &v2
	return &helperEngine{fakeEngine: fe, root: root, upper: files, lower: baseFiles}, v2, v1, files
}

// The engine reads the missing layer for ship through a helper that
// mounts exactly that layer's files, its metadata and the config,
// read-only, is never started and is removed.
func TestEngineStoreReadsThroughHelper(t *testing.T) {
	e, img, _, files := newHelperEngine(t)
	s, err := readThroughEngine(context.Background(), e, img.id(), img.diffIDs, []bool{false, true})
	if err != nil {
		t.Fatal(err)
	}
	chains := chainIDs(img.diffIDs)
	r, size, err := s.Layer(chains[1], img.diffIDs[1])
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, img.layers[1]) || size != int64(len(got)) {
		t.Errorf("layer: %d bytes (said %d), %v; want the %d-byte layer", len(got), size, err, len(img.layers[1]))
	}
	if _, _, err := s.Layer(chains[0], img.diffIDs[0]); err == nil {
		t.Error("a layer that was not asked for was read")
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
	want := []string{
		filepath.Join(e.root, "image", "overlay2", "imagedb", "content", "sha256", strings.TrimPrefix(img.id(), "sha256:")),
		files,
		filepath.Join(e.root, "image", "overlay2", "layerdb", "sha256", strings.TrimPrefix(chains[1], "sha256:")),
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
			os.WriteFile(filepath.Join(files, "app", "VERSION"), []byte("5\n"), 0o644)
			return context.Background()
		},
		"other directory": func(e *helperEngine, files string) context.Context {
			e.upper = e.lower // the base layer's files, not the top one's
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
		e, img, _, files := newHelperEngine(t)
		ctx := spoil(e, files)
		if s, err := readThroughEngine(ctx, e, img.id(), img.diffIDs, []bool{false, true}); err == nil {
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
	e, img, _, _ := newHelperEngine(t)
	e.list = []container.Summary{
		{ID: "old", Created: time.Now().Add(-time.Hour).Unix()},
		{ID: "young", Created: time.Now().Unix()},
	}
	s, err := readThroughEngine(context.Background(), e, img.id(), img.diffIDs, []bool{false, true})
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

// Without a readable store here, the engine reads the missing layer for
// ship; when what it reads does not match, the delivery falls back to the
// engine's save, saying why. A host that lacks every layer gets the
// engine's save streamed, with no helper.
func TestSendThroughEngine(t *testing.T) {
	e, v2, v1, files := newHelperEngine(t)
	i, err := Open(context.Background(), e, v2.ref)
	if err != nil {
		t.Fatal(err)
	}
	defer i.Close()
	i.srcErr = errStoreOff
	host := newFakeEngine(v1)
	st, err := i.Send(context.Background(), host, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Route != FromEngine || st.Sent != 1 || st.Note != "" {
		t.Errorf("stats = %+v, want 1 layer read through the local engine", st)
	}
	if got, _ := host.ImageInspect(context.Background(), v2.ref); got.ID != v2.id() {
		t.Errorf("the host's image is %q, want %s", got.ID, v2.id())
	}

	st, err = i.Send(context.Background(), newFakeEngine(), nil)
	if err != nil || st.Route != FromSaveStream || st.Sent != 2 || st.Note != "" || len(e.created) != 1 {
		t.Errorf("to a new host: %+v, %v, %d helpers; want both layers streamed from the save, no helper, no note", st, err, len(e.created)-1)
	}

	os.WriteFile(filepath.Join(files, "app", "VERSION"), []byte("5\n"), 0o644)
	host = newFakeEngine(v1)
	st, err = i.Send(context.Background(), host, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Route != FromSavedArchive || st.Sent != 1 || !strings.Contains(st.Note, "through the local engine") || !strings.Contains(st.Note, "app/VERSION") {
		t.Errorf("stats = %+v, want 1 layer filtered from the save, with why the engine's read failed", st)
	}
	if got, _ := host.ImageInspect(context.Background(), v2.ref); got.ID != v2.id() {
		t.Errorf("the host's image is %q, want %s", got.ID, v2.id())
	}
	if len(e.created) != 2 || len(e.removed) != 2 || e.started {
		t.Errorf("created %d helpers, removed %d, started %v", len(e.created), len(e.removed), e.started)
	}
}

// An engine that keeps images elsewhere is asked once, not per host.
func TestSendThroughEngineNotOverlay2(t *testing.T) {
	e, v2, v1, _ := newHelperEngine(t)
	e.upper = ""
	i, err := Open(context.Background(), e, v2.ref)
	if err != nil {
		t.Fatal(err)
	}
	defer i.Close()
	i.srcErr = errStoreOff
	for range 2 {
		st, err := i.Send(context.Background(), newFakeEngine(v1), nil)
		if err != nil || st.Route != FromSavedArchive || !strings.Contains(st.Note, "no overlay2 directories") {
			t.Errorf("stats = %+v, %v; want the save, saying why", st, err)
		}
	}
	if i.engineErr == nil || len(e.created) != 0 {
		t.Errorf("created %d helpers; want none, and the reason kept", len(e.created))
	}
}
