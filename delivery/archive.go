package delivery

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/distribution/reference"
)

// missing says, for each layer of an image, whether the host lacks it: a
// layer is there when its chain (the layer with everything below it) is.
func missing(diffIDs []string, present map[string]bool) []bool {
	out := make([]bool, len(diffIDs))
	for i, chain := range chainIDs(diffIDs) {
		out[i] = !present[chain]
	}
	return out
}

// layerPart is one layer file of an archive, opened.
type layerPart struct {
	path string
	r    io.ReadCloser
	size int64
}

// archive is a `docker save` archive of one image whose manifest lists
// every layer but which carries only the files of the layers the host
// lacks. The classic store's load looks each layer's chain up before it
// opens the layer's file (image/tarexport/load.go), so it loads.
type archive struct {
	config []byte
	id     string
	tag    string
	layers []string // manifest path of each layer
	parts  []layerPart
	Total  int64 // bytes of the layer files
}

// newArchive opens from src the config and the layers that need says the
// host lacks. Close it if it is not written.
func newArchive(src layerSource, id, tag string, diffIDs []string, need []bool) (*archive, error) {
	config, err := src.Config(id)
	if err != nil {
		return nil, err
	}
	a := &archive{config: config, id: id, tag: tag}
	chains := chainIDs(diffIDs)
	opened := map[string]bool{}
	for i, d := range diffIDs {
		h, err := digestHex(d)
		if err != nil {
			a.Close()
			return nil, err
		}
		p := h + "/layer.tar"
		a.layers = append(a.layers, p)
		if !need[i] || opened[p] { // one file may serve two positions
			continue
		}
		r, size, err := src.Layer(chains[i], d)
		if err != nil {
			a.Close()
			return nil, err
		}
		opened[p] = true
		a.parts = append(a.parts, layerPart{path: p, r: r, size: size})
		a.Total += size
	}
	return a, nil
}

// Close releases the layers not yet written.
func (a *archive) Close() {
	for _, p := range a.parts {
		if p.r != nil {
			p.r.Close()
		}
	}
}

// WriteTo writes the archive: the config, the layer files, the manifest.
func (a *archive) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	err := a.write(cw)
	a.Close()
	return cw.n, err
}

func (a *archive) write(w io.Writer) error {
	tw := tar.NewWriter(w)
	hexID, _ := strings.CutPrefix(a.id, "sha256:")
	configPath := hexID + ".json"
	// Fixed times and modes: the archive is only ever read by load.
	epoch := time.Unix(0, 0)
	file := func(name string, size int64) error {
		return tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o644, ModTime: epoch, Typeflag: tar.TypeReg})
	}
	if err := file(configPath, int64(len(a.config))); err != nil {
		return err
	}
	if _, err := tw.Write(a.config); err != nil {
		return err
	}
	for i := range a.parts {
		p := &a.parts[i]
		if err := file(p.path, p.size); err != nil {
			return err
		}
		n, err := io.Copy(tw, p.r)
		p.r.Close()
		p.r = nil
		if err != nil {
			return fmt.Errorf("layer %s: %w", p.path, err)
		}
		if n != p.size {
			return fmt.Errorf("layer %s: %d bytes, the layer store said %d", p.path, n, p.size)
		}
	}
	manifest, err := json.Marshal([]struct {
		Config   string
		RepoTags []string
		Layers   []string
	}{{Config: configPath, RepoTags: []string{a.tag}, Layers: a.layers}})
	if err != nil {
		return err
	}
	if err := file("manifest.json", int64(len(manifest))); err != nil {
		return err
	}
	if _, err := tw.Write(manifest); err != nil {
		return err
	}
	return tw.Close()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// loadTag is the name:tag the archive's manifest gives the image: load
// tags only that way, so a reference by digest cannot be sent like this.
func loadTag(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return "", fmt.Errorf("image reference %q is by digest, which load cannot tag", ref)
	}
	return reference.FamiliarString(reference.TagNameOnly(named)), nil
}
