package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/engine"
)

// rawLoad is the host engine's floor for a code-only change: the local
// engine's save of ref, cut down to the files of its top layer (as ship
// sends it, the host having the layers below), loaded through the host
// engine's own socket, with no SSH and nothing of ship's around it. Only
// the load is timed. direct is the host's engine on its local socket.
func rawLoad(ctx context.Context, local, direct client.APIClient, ref string) (time.Duration, error) {
	archive, err := topLayerOnly(ctx, local, ref)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := direct.ImageLoad(ctx, bytes.NewReader(archive), client.ImageLoadWithQuiet(true))
	if err != nil {
		return 0, fmt.Errorf("docker load %s: %w", ref, err)
	}
	err = engine.ReadProgress(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("docker load %s: %w", ref, err)
	}
	want, err := local.ImageInspect(ctx, ref)
	if err != nil {
		return 0, err
	}
	if got, err := direct.ImageInspect(ctx, ref); err != nil || got.ID != want.ID {
		return 0, fmt.Errorf("after docker load, %s on the host is %q, want %s (%v)", ref, got.ID, want.ID, err)
	}
	return took, nil
}

// topLayerOnly is `docker save ref` without the files of every layer but
// the top one.
func topLayerOnly(ctx context.Context, local client.APIClient, ref string) ([]byte, error) {
	rc, err := local.ImageSave(ctx, []string{ref})
	if err != nil {
		return nil, fmt.Errorf("docker save %s: %w", ref, err)
	}
	defer rc.Close()
	saved, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("docker save %s: %w", ref, err)
	}
	var manifest []struct{ Layers []string }
	tr := tar.NewReader(bytes.NewReader(saved))
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("read the save of %s: %w", ref, err)
		}
		if h.Name == "manifest.json" {
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				return nil, err
			}
			break
		}
	}
	if len(manifest) != 1 || len(manifest[0].Layers) == 0 {
		return nil, fmt.Errorf("the save of %s has no layers", ref)
	}
	layers := manifest[0].Layers
	skip := map[string]bool{}
	for _, l := range layers[:len(layers)-1] {
		skip[l] = true
	}
	delete(skip, layers[len(layers)-1])
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr = tar.NewReader(bytes.NewReader(saved))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if skip[h.Name] {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
