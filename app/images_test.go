package app

import (
	"testing"

	"github.com/docker/docker/api/types/image"

	"github.com/shipdeploy/ship/config"
)

func TestRepository(t *testing.T) {
	c := &config.Config{Image: "acme/app"}
	if got := Repository(c); got != "acme/app" {
		t.Errorf("without a registry: %q", got)
	}
	c.Registry.Server = "ghcr.io"
	if got := Repository(c); got != "ghcr.io/acme/app" {
		t.Errorf("with a registry: %q", got)
	}
}

func TestImagesOf(t *testing.T) {
	list := []image.Summary{
		{ID: "sha256:aaaaaaaaaaaaaaaaaaaa", RepoTags: []string{"acme/app:v1", "other/app:v1"}, Created: 100, Size: 10},
		{ID: "sha256:bbbbbbbbbbbbbbbbbbbb", RepoTags: []string{"acme/app:v2", "acme/app:latest"}, Created: 200, Size: 20},
		{ID: "sha256:cccccccccccccccccccc", RepoTags: []string{"acme/application:v9"}, Created: 300},
	}
	got := imagesOf(list, "acme/app")
	var refs []string
	for _, img := range got {
		refs = append(refs, img.Ref)
	}
	want := []string{"acme/app:latest", "acme/app:v2", "acme/app:v1"}
	if len(refs) != len(want) {
		t.Fatalf("refs = %q, want %q", refs, want)
	}
	for i := range want {
		if refs[i] != want[i] {
			t.Fatalf("refs = %q, want %q (newest first, other repositories left out)", refs, want)
		}
	}
	if got[0].ID != "bbbbbbbbbbbb" || got[0].Size != 20 {
		t.Errorf("first image: %+v", got[0])
	}
}
