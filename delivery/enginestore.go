package delivery

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	dockerstorage "github.com/docker/docker/api/types/storage"
	"github.com/docker/docker/client"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

// ReaderLabel marks the helper containers through which the local engine
// reads its own layer store for ship; ship removes any it finds left over.
const ReaderLabel = "ship.layer-reader"

// Where the helper container mounts what it reads: /.ship-layers/config,
// and /.ship-layers/N/diff and /.ship-layers/N/meta for layer N.
const (
	readerRoot  = "/.ship-layers"
	readerNever = "/.ship-layer-reader-never-runs"
	// leftoverAge is how old a helper must be before another ship run takes
	// it for a leftover: copying a few layers locally takes seconds.
	leftoverAge = 10 * time.Minute
	maxConfig   = 16 << 20 // bytes of an image config
	maxMetaFile = 4 << 10  // bytes of a layer's diff or cache-id file
)

// engineStore is the local engine's overlay2 layer store read by the
// engine itself, for a user who may talk to the engine but not read its
// data directory (the docker group, as on GitHub Actions runners). A
// helper container of the image, created and never started, bind-mounts
// read-only exactly the files and metadata directories of the missing
// layers; the engine's copy-from-container API mounts a created
// container's mounts for the copy (daemon/archive.go, mountVolumes). The
// copies are spooled to an unlinked temp file, the layers rebuilt with
// their tar-split data and checked against their diff IDs before anything
// is sent, and the helper removed, always.
type engineStore struct {
	config  []byte
	spool   *os.File
	layers  map[string]*spooledLayer // by chain ID
	removed chan struct{}            // closed once the helper is gone
}

// spooledLayer is one layer's copy in the spool.
type spooledLayer struct {
	diffID string
	files  map[string]section // path in the layer -> its contents
	meta   section            // tar-split.json.gz
	size   int64              // of the rebuilt tar
}

type section struct{ off, n int64 }

// errNotOverlay2 says the engine keeps layers where this way cannot read them.
var errNotOverlay2 = errors.New("not overlay2")

// readThroughEngine has the local engine read the config of image id and
// the layers of diffIDs that need marks.
func readThroughEngine(ctx context.Context, local client.APIClient, id string, diffIDs []string, need []bool) (*engineStore, error) {
	info, err := local.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("docker info: %w", err)
	}
	if isContainerd(info.DriverStatus) || info.Driver != "overlay2" {
		return nil, fmt.Errorf("the local engine keeps images in %s: %w", info.Driver, errNotOverlay2)
	}
	inspect, err := local.ImageInspect(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", id, err)
	}
	dirs, err := layerDirs(inspect.GraphDriver, len(diffIDs))
	if err != nil {
		return nil, err
	}
	hexID, err := digestHex(id)
	if err != nil {
		return nil, err
	}
	meta := path.Join(info.DockerRootDir, "image", "overlay2")
	mounts := []mount.Mount{bindRO(path.Join(meta, "imagedb", "content", "sha256", hexID), readerRoot+"/config")}
	chains := chainIDs(diffIDs)
	copies := map[string]*layerCopy{} // by N, the layer's place in the image
	seen := map[string]bool{}
	for i := range diffIDs {
		if !need[i] || seen[chains[i]] {
			continue
		}
		seen[chains[i]] = true
		hexChain, err := digestHex(chains[i])
		if err != nil {
			return nil, err
		}
		n := strconv.Itoa(i)
		mounts = append(mounts, bindRO(dirs[i], readerRoot+"/"+n+"/diff"), bindRO(path.Join(meta, "layerdb", "sha256", hexChain), readerRoot+"/"+n+"/meta"))
		c := &layerCopy{chain: chains[i], cacheID: path.Base(path.Dir(dirs[i])), small: map[string][]byte{},
			spooledLayer: &spooledLayer{diffID: diffIDs[i], files: map[string]section{}}}
		copies[n] = c
	}
	removeLeftovers(ctx, local)

	spool, err := os.CreateTemp("", "ship-layers-*")
	if err != nil {
		return nil, err
	}
	os.Remove(spool.Name()) // gone with the last close, however ship ends
	s := &engineStore{spool: spool, layers: map[string]*spooledLayer{}}
	name := "ship-layer-reader-" + strings.ToLower(rand.Text()[:10])
	never := []string{readerNever}
	created, err := local.ContainerCreate(ctx,
		&container.Config{Image: id, Entrypoint: never, Cmd: never, NetworkDisabled: true, Labels: map[string]string{ReaderLabel: "1"}},
		&container.HostConfig{NetworkMode: "none", Mounts: mounts}, nil, nil, name)
	if err != nil {
		spool.Close()
		return nil, fmt.Errorf("create helper container %s: %w", name, err)
	}
	// One copy: the engine mounts the helper's rootfs and binds once.
	err = s.copyAll(ctx, local, created.ID, copies)
	// The helper holds the image; it goes while the layers are checked
	// (and sent): Close waits for that, also after an interrupt.
	s.removed = make(chan struct{})
	go func() {
		defer close(s.removed)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		local.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	}()
	if err == nil {
		err = s.check(id, copies)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// layerCopy is a layer being copied: its files, and what says it is the
// layer wanted.
type layerCopy struct {
	*spooledLayer
	chain, cacheID string
	small          map[string][]byte // meta/diff and meta/cache-id
	haveMeta       bool
}

func bindRO(source, target string) mount.Mount {
	return mount.Mount{Type: mount.TypeBind, Source: source, Target: target, ReadOnly: true}
}

// layerDirs finds each layer's diff directory, bottom layer first, from
// the image's overlay2 data: UpperDir is the top layer's, LowerDir the
// others', top down. Each is checked against its layer's cache-id later.
func layerDirs(gd dockerstorage.DriverData, n int) ([]string, error) {
	if gd.Name != "overlay2" || gd.Data["UpperDir"] == "" {
		return nil, fmt.Errorf("the local engine gives no overlay2 directories for the image (driver %q): %w", gd.Name, errNotOverlay2)
	}
	dirs := []string{gd.Data["UpperDir"]}
	if lower := gd.Data["LowerDir"]; lower != "" {
		dirs = append(dirs, strings.Split(lower, ":")...)
	}
	if len(dirs) != n {
		return nil, fmt.Errorf("the local engine gives %d overlay2 directories for the image's %d layers", len(dirs), n)
	}
	for i, j := 0, len(dirs)-1; i < j; i, j = i+1, j-1 {
		dirs[i], dirs[j] = dirs[j], dirs[i]
	}
	for _, d := range dirs {
		if !path.IsAbs(d) || path.Base(d) != "diff" {
			return nil, fmt.Errorf("the local engine gives %q as a layer's directory, not an overlay2 diff directory", d)
		}
	}
	return dirs, nil
}

// removeLeftovers removes the helpers an interrupted ship left behind;
// younger ones may be another ship's, still reading.
func removeLeftovers(ctx context.Context, local client.APIClient) {
	list, err := local.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", ReaderLabel))})
	if err != nil {
		return // only tidying
	}
	for _, c := range list {
		if time.Since(time.Unix(c.Created, 0)) > leftoverAge {
			local.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		}
	}
}

// copyAll spools the helper's /.ship-layers: the config, and for each
// layer N its files under N/diff and its metadata under N/meta.
func (s *engineStore) copyAll(ctx context.Context, local client.APIClient, helper string, copies map[string]*layerCopy) error {
	rc, _, err := local.CopyFromContainer(ctx, helper, readerRoot)
	if err != nil {
		return fmt.Errorf("copy the layers from helper container: %w", err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the copy of the layers: %w", err)
		}
		_, rel, _ := strings.Cut(h.Name, "/") // .ship-layers/REL
		if rel == "config" && h.Typeflag == tar.TypeReg {
			if s.config, err = io.ReadAll(io.LimitReader(tr, maxConfig)); err != nil {
				return fmt.Errorf("read the copy of the image config: %w", err)
			}
			continue
		}
		n, rel, _ := strings.Cut(rel, "/")
		c := copies[n]
		if c == nil {
			continue
		}
		switch {
		case strings.HasPrefix(rel, "diff/") && h.Typeflag == tar.TypeReg:
			if c.files[layerPath(rel)], err = s.put(tr); err != nil {
				return err
			}
		case strings.HasPrefix(rel, "diff/") && h.Typeflag == tar.TypeLink:
			// A hard link to a file copied before it, in whichever layer.
			_, target, _ := strings.Cut(h.Linkname, "/")
			tn, target, _ := strings.Cut(target, "/")
			if tc := copies[tn]; tc != nil && strings.HasPrefix(target, "diff/") {
				if sec, ok := tc.files[layerPath(target)]; ok {
					c.files[layerPath(rel)] = sec
				}
			}
		case rel == "meta/tar-split.json.gz" && h.Typeflag == tar.TypeReg:
			if c.meta, err = s.put(tr); err != nil {
				return err
			}
			c.haveMeta = true
		case (rel == "meta/diff" || rel == "meta/cache-id") && h.Typeflag == tar.TypeReg:
			if c.small[rel], err = io.ReadAll(io.LimitReader(tr, maxMetaFile)); err != nil {
				return fmt.Errorf("read the copy of the layers: %w", err)
			}
		}
	}
}

// check keeps the copied config if it hashes to id, and each copied layer
// if it is the layer wanted (its diff ID, and the directory its files came
// from, by its cache-id) and its tar, rebuilt once, hashes to its diff ID.
func (s *engineStore) check(id string, copies map[string]*layerCopy) error {
	if sum := sha256.Sum256(s.config); "sha256:"+hex.EncodeToString(sum[:]) != id {
		return fmt.Errorf("the image config read through the local engine does not match %s", id)
	}
	for _, c := range copies {
		if err := s.checkLayer(c); err != nil {
			return fmt.Errorf("layer %s: %w", c.diffID, err)
		}
		s.layers[c.chain] = c.spooledLayer
	}
	return nil
}

func (s *engineStore) checkLayer(c *layerCopy) error {
	if got := strings.TrimSpace(string(c.small["meta/diff"])); got != c.diffID {
		return fmt.Errorf("the layer store holds %q under its chain", got)
	}
	if got := strings.TrimSpace(string(c.small["meta/cache-id"])); got != c.cacheID {
		return fmt.Errorf("its cache-id is %q, but the engine gave the directory of %q", got, c.cacheID)
	}
	if !c.haveMeta {
		return errors.New("the layer store has no tar-split data for it")
	}
	r, err := s.open(c.spooledLayer)
	if err != nil {
		return err
	}
	defer r.Close()
	c.size, err = io.Copy(io.Discard, r)
	return err
}

// layerPath is a path in a layer as its tar-split data names it.
func layerPath(name string) string {
	name = strings.TrimPrefix(name, "diff/")
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// put appends r to the spool.
func (s *engineStore) put(r io.Reader) (section, error) {
	off, err := s.spool.Seek(0, io.SeekEnd)
	if err != nil {
		return section{}, err
	}
	n, err := io.Copy(s.spool, r)
	if err != nil {
		return section{}, fmt.Errorf("spool the copy: %w", err)
	}
	return section{off, n}, nil
}

func (s *engineStore) read(sec section) io.Reader {
	return io.NewSectionReader(s.spool, sec.off, sec.n)
}

// open rebuilds l's tar, failing at its end unless it hashes to l's diff ID.
func (s *engineStore) open(l *spooledLayer) (io.ReadCloser, error) {
	gz, err := gzip.NewReader(s.read(l.meta))
	if err != nil {
		return nil, fmt.Errorf("its tar-split data: %w", err)
	}
	tarStream := asm.NewOutputTarStream(spooledFiles{s, l}, storage.NewJSONUnpacker(gz))
	return &verified{r: tarStream, h: sha256.New(), want: l.diffID, closers: []io.Closer{tarStream}}, nil
}

// spooledFiles hands tar-split a layer's files from the spool: only what
// the engine copied from the layer's own directory, never a path here.
type spooledFiles struct {
	s *engineStore
	l *spooledLayer
}

// Get opens the file name of the layer.
func (f spooledFiles) Get(name string) (io.ReadCloser, error) {
	sec, ok := f.l.files[layerPath(name)]
	if !ok {
		return nil, fmt.Errorf("%s is not in the layer's files copied from the local engine", name)
	}
	return io.NopCloser(f.s.read(sec)), nil
}

// Config is the image's config, copied and checked against its ID.
func (s *engineStore) Config(id string) ([]byte, error) {
	if sum := sha256.Sum256(s.config); "sha256:"+hex.EncodeToString(sum[:]) != id {
		return nil, fmt.Errorf("image config %s was not copied from the local engine", id)
	}
	return bytes.Clone(s.config), nil
}

// Layer rebuilds a spooled layer's tar.
func (s *engineStore) Layer(chain, diffID string) (io.ReadCloser, int64, error) {
	l, ok := s.layers[chain]
	if !ok || l.diffID != diffID {
		return nil, 0, fmt.Errorf("layer %s was not copied from the local engine", diffID)
	}
	r, err := s.open(l)
	if err != nil {
		return nil, 0, fmt.Errorf("layer %s: %w", diffID, err)
	}
	return r, l.size, nil
}

// Close drops the spool, once the helper is gone.
func (s *engineStore) Close() error {
	if s.removed != nil {
		<-s.removed
	}
	return s.spool.Close()
}
