package delivery

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

// layerSource hands out an image's config and its layers' tar streams,
// byte for byte as `docker save` would write them.
type layerSource interface {
	// Config is the image's config JSON, whose sha256 is the image ID.
	Config(id string) ([]byte, error)
	// Layer opens the tar of the layer at the top of chain, and says its
	// length. The stream fails at its end unless its sha256 is diffID.
	Layer(chain, diffID string) (io.ReadCloser, int64, error)
}

// layerStore reads the local engine's classic image store on disk:
// /var/lib/docker/image/overlay2 and /var/lib/docker/overlay2, or a
// rootless engine's under ~/.local/share/docker. The engine's own save
// copies every layer into a temp directory before it sends the first byte
// (0.7 s for 120 MB here), so for a code-only change ship reads just the
// new layer from where the engine keeps it, reassembled with the engine's
// own tar-split metadata. Everything is content-addressed and checked
// against the image's digests, so a store that is not the local engine's,
// or that changed underneath, fails the delivery instead of sending
// something else.
type layerStore struct {
	meta  string // DIR/image/overlay2
	diffs string // DIR/overlay2
}

// openLayerStore finds the store of an engine whose `docker info` says
// rootDir and driver, if this process can read it.
func openLayerStore(rootDir, driver string, containerd bool) (*layerStore, error) {
	if containerd || driver != "overlay2" {
		return nil, fmt.Errorf("the local engine keeps images in %s, not in overlay2's layer store", driver)
	}
	s := &layerStore{meta: filepath.Join(rootDir, "image", driver), diffs: filepath.Join(rootDir, driver)}
	if _, err := os.ReadDir(filepath.Join(s.meta, "layerdb", "sha256")); err != nil {
		return nil, fmt.Errorf("the local engine's layer store is not readable here: %w", err)
	}
	return s, nil
}

// Config reads the image's config from the image store.
func (s *layerStore) Config(id string) ([]byte, error) {
	hexID, err := digestHex(id)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(s.meta, "imagedb", "content", "sha256", hexID))
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != hexID {
		return nil, fmt.Errorf("image config %s in the layer store does not match its ID", id)
	}
	return b, nil
}

// Layer reassembles the layer's tar from its files and tar-split data.
func (s *layerStore) Layer(chain, diffID string) (io.ReadCloser, int64, error) {
	hexChain, err := digestHex(chain)
	if err != nil {
		return nil, 0, err
	}
	dir := filepath.Join(s.meta, "layerdb", "sha256", hexChain)
	diff, err := os.ReadFile(filepath.Join(dir, "diff"))
	if err != nil {
		return nil, 0, fmt.Errorf("layer %s: %w", diffID, err)
	}
	if strings.TrimSpace(string(diff)) != diffID {
		return nil, 0, fmt.Errorf("layer %s: the layer store holds %s under its chain", diffID, diff)
	}
	cacheID, err := os.ReadFile(filepath.Join(dir, "cache-id"))
	if err != nil {
		return nil, 0, fmt.Errorf("layer %s: %w", diffID, err)
	}
	files := filepath.Join(s.diffs, filepath.Base(strings.TrimSpace(string(cacheID))), "diff")
	meta := filepath.Join(dir, "tar-split.json.gz")
	size, err := tarSize(meta)
	if err != nil {
		return nil, 0, fmt.Errorf("layer %s: %w", diffID, err)
	}
	root, err := os.OpenRoot(files)
	if err != nil {
		return nil, 0, fmt.Errorf("layer %s: %w", diffID, err)
	}
	f, err := os.Open(meta)
	if err != nil {
		root.Close()
		return nil, 0, fmt.Errorf("layer %s: %w", diffID, err)
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		root.Close()
		f.Close()
		return nil, 0, fmt.Errorf("layer %s: %w", diffID, err)
	}
	tarStream := asm.NewOutputTarStream(rootFiles{root}, storage.NewJSONUnpacker(gz))
	return &verified{r: tarStream, h: sha256.New(), want: diffID, closers: []io.Closer{tarStream, f, root}}, size, nil
}

// rootFiles opens a layer's files inside its diff directory only: a link
// an image put in a layer must not make ship read, and send to a host,
// a file of this machine outside the layer (tar-split's own path getter
// would follow it; the digest check would only catch it after sending).
type rootFiles struct{ root *os.Root }

// Get opens the file name of the layer.
func (r rootFiles) Get(name string) (io.ReadCloser, error) {
	return r.root.Open(filepath.FromSlash(name))
}

// tarSize adds up a layer's tar from its tar-split data: the raw header
// and padding segments plus the files' contents.
func tarSize(meta string) (int64, error) {
	f, err := os.Open(meta)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", meta, err)
	}
	up := storage.NewJSONUnpacker(gz)
	var n int64
	for {
		e, err := up.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", meta, err)
		}
		if e.Type == storage.SegmentType {
			n += int64(len(e.Payload))
		} else {
			n += e.Size
		}
	}
}

func digestHex(d string) (string, error) {
	h, ok := strings.CutPrefix(d, "sha256:")
	if _, err := hex.DecodeString(h); !ok || err != nil || len(h) != 64 {
		return "", fmt.Errorf("%q is not a sha256 digest", d)
	}
	return h, nil
}

// verified fails at EOF unless what it read hashes to want: a layer whose
// files changed on disk must not reach the host under the old digest (the
// host's load would refuse it too, but this says why).
type verified struct {
	r       io.Reader
	h       hash.Hash
	want    string
	closers []io.Closer
}

func (v *verified) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if errors.Is(err, io.EOF) {
		if got := "sha256:" + hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			return n, fmt.Errorf("layer %s read from the local layer store hashes to %s", v.want, got)
		}
	}
	return n, err
}

func (v *verified) Close() error {
	var errs []error
	for _, c := range v.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
