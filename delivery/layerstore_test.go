package delivery

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

// fakeStoreDir lays out one layer and one config the way Engine 20.10's
// overlay2 keeps them, and returns the store's root, the layer's tar and
// its diff directory.
func fakeStoreDir(t *testing.T, config []byte) (root string, layer []byte, files string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o755})
	for name, content := range map[string]string{"app/server": strings.Repeat("code", 5000), "app/empty": "", "app/VERSION": "2\n"} {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))})
		tw.Write([]byte(content))
	}
	tw.WriteHeader(&tar.Header{Name: "app/current", Typeflag: tar.TypeSymlink, Linkname: "server"})
	tw.Close()
	layer = buf.Bytes()

	root = t.TempDir()
	files = addStoreLayer(t, root, digest(layer), "cacheid1", layer)
	contentDir := filepath.Join(root, "image", "overlay2", "imagedb", "content", "sha256")
	if err := os.MkdirAll(contentDir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(contentDir, strings.TrimPrefix(digest(config), "sha256:")), config, 0o600)
	return root, layer, files
}

// addStoreLayer puts layer into the store at root under chain, the way
// Engine 20.10's overlay2 keeps it: its regular files in the cacheID's diff
// directory, which it returns, and its tar-split data in the layerdb.
func addStoreLayer(t *testing.T, root, chain, cacheID string, layer []byte) string {
	t.Helper()
	layerDir := filepath.Join(root, "image", "overlay2", "layerdb", "sha256", strings.TrimPrefix(chain, "sha256:"))
	files := filepath.Join(root, "overlay2", cacheID, "diff")
	for _, d := range []string{layerDir, files} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(layerDir, "diff"), []byte(digest(layer)), 0o644)
	os.WriteFile(filepath.Join(layerDir, "cache-id"), []byte(cacheID), 0o644)
	// The tar-split data, as the engine records it when it registers a layer.
	var meta bytes.Buffer
	gz := gzip.NewWriter(&meta)
	in, err := asm.NewInputTarStream(bytes.NewReader(layer), storage.NewJSONPacker(gz), storage.NewDiscardFilePutter())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, in)
	gz.Close()
	os.WriteFile(filepath.Join(layerDir, "tar-split.json.gz"), meta.Bytes(), 0o644)
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		p := filepath.Join(files, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			b, _ := io.ReadAll(tr)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, b, 0o644)
		}
	}
	return files
}

// The layer read back from the store is byte for byte the layer: its
// length is known before the first byte, and it hashes to its diffID.
func TestLayerStoreReassembles(t *testing.T) {
	config := []byte(`{"rootfs":{}}`)
	root, layer, _ := fakeStoreDir(t, config)
	s, err := openLayerStore(root, "overlay2", false)
	if err != nil {
		t.Fatal(err)
	}
	r, size, err := s.Layer(digest(layer), digest(layer))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, layer) || size != int64(len(layer)) {
		t.Errorf("read %d bytes (said %d, %v), want the %d-byte layer", len(got), size, err, len(layer))
	}
	if b, err := s.Config(digest(config)); err != nil || !bytes.Equal(b, config) {
		t.Errorf("Config = %q, %v", b, err)
	}
}

// A file changed under the store fails the read; so does a chain that
// holds another layer, or a config that does not hash to its ID.
func TestLayerStoreRefusesWhatDoesNotMatch(t *testing.T) {
	config := []byte(`{"rootfs":{}}`)
	root, layer, files := fakeStoreDir(t, config)
	s, err := openLayerStore(root, "overlay2", false)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(files, "app", "VERSION"), []byte("3\n"), 0o644)
	r, _, err := s.Layer(digest(layer), digest(layer))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); err == nil {
		t.Errorf("a changed file was read without an error: %v", err)
	}
	r.Close()
	if _, _, err := s.Layer(digest(layer), digest([]byte("other"))); err == nil {
		t.Error("a chain holding another diff was read")
	}
	os.WriteFile(filepath.Join(root, "image", "overlay2", "imagedb", "content", "sha256", strings.TrimPrefix(digest(config), "sha256:")), []byte("{}"), 0o600)
	if _, err := s.Config(digest(config)); err == nil {
		t.Error("a config that does not hash to its ID was read")
	}
}

func TestOpenLayerStoreOnlyClassicOverlay2(t *testing.T) {
	root, _, _ := fakeStoreDir(t, []byte("{}"))
	for _, c := range []struct {
		root, driver string
		containerd   bool
	}{
		{root, "overlayfs", true},
		{root, "btrfs", false},
		{t.TempDir(), "overlay2", false},
	} {
		if _, err := openLayerStore(c.root, c.driver, c.containerd); err == nil {
			t.Errorf("openLayerStore(%+v) opened", c)
		}
	}
}

// Bytes that do not hash to the layer's diffID fail at their end.
func TestVerifiedStream(t *testing.T) {
	v := &verified{r: strings.NewReader("layer"), h: sha256.New(), want: digest([]byte("other"))}
	if _, err := io.ReadAll(v); err == nil || !strings.Contains(err.Error(), "hashes to") {
		t.Errorf("read = %v, want a hash mismatch", err)
	}
	v = &verified{r: strings.NewReader("layer"), h: sha256.New(), want: digest([]byte("layer"))}
	if b, err := io.ReadAll(v); err != nil || string(b) != "layer" {
		t.Errorf("read = %q, %v", b, err)
	}
}

// A link in a layer's files that leads out of the layer is not followed:
// what it points at on this machine never reaches a host.
func TestLayerStoreStaysInTheLayer(t *testing.T) {
	config := []byte(`{"rootfs":{}}`)
	root, layer, files := fakeStoreDir(t, config)
	secret := filepath.Join(t.TempDir(), "secret")
	// As long as the file it replaces, so that only its content differs.
	os.WriteFile(secret, []byte("Z!"), 0o600)
	os.RemoveAll(filepath.Join(files, "app"))
	if err := os.Symlink(filepath.Dir(secret), filepath.Join(files, "app")); err != nil {
		t.Fatal(err)
	}
	os.Rename(secret, filepath.Join(filepath.Dir(secret), "VERSION"))
	s, err := openLayerStore(root, "overlay2", false)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := s.Layer(digest(layer), digest(layer))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err == nil {
		t.Error("a layer read through a link out of it gave no error")
	}
	if bytes.Contains(got, []byte("Z!")) {
		t.Error("a file outside the layer was read through a link")
	}
}
