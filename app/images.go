package app

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
)

// Image is one tag of the app's image on a host.
type Image struct {
	Ref     string // REPOSITORY:TAG
	ID      string // short, as docker image ls shows it
	Created time.Time
	Size    int64 // bytes
}

// Images lists the tags of the app's image repository on a host, newest
// first (Kamal's app images: docker image ls REPOSITORY).
func Images(ctx context.Context, h *host.Host, c *config.Config) ([]Image, error) {
	repo := Repository(c)
	list, err := h.Docker.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", repo))})
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	return imagesOf(list, repo), nil
}

// Repository is the app's image without a tag, with the registry server
// when one is configured.
func Repository(c *config.Config) string {
	return strings.TrimSuffix(spec.ImageRef(c, "v"), ":v")
}

// imagesOf is one Image per tag of repo in list, newest first.
func imagesOf(list []image.Summary, repo string) []Image {
	var out []Image
	for _, img := range list {
		id := strings.TrimPrefix(img.ID, "sha256:")
		if len(id) > 12 {
			id = id[:12]
		}
		for _, tag := range img.RepoTags {
			if strings.HasPrefix(tag, repo+":") {
				out = append(out, Image{Ref: tag, ID: id, Created: time.Unix(img.Created, 0).UTC(), Size: img.Size})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].Ref < out[j].Ref
	})
	return out
}

// RemoveImages removes every tag of the app's image repository on a host
// that no container uses any more, as Kamal's app remove prunes the app's
// images; one still in use stays, and out says so.
func RemoveImages(ctx context.Context, h *host.Host, c *config.Config, out io.Writer) error {
	imgs, err := Images(ctx, h, c)
	if err != nil {
		return err
	}
	for _, img := range imgs {
		_, err := h.Docker.ImageRemove(ctx, img.Ref, image.RemoveOptions{})
		switch {
		case err == nil:
			fmt.Fprintf(out, "removed image %s\n", img.Ref)
		case errdefs.IsConflict(err):
			fmt.Fprintf(out, "image %s stays: a container uses it\n", img.Ref)
		case !errdefs.IsNotFound(err):
			return fmt.Errorf("remove image %s: %w", img.Ref, err)
		}
	}
	return nil
}
