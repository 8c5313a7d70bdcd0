package main

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/spec"
)

// Kamal's asset_path: after v1 → v2, v2's container sees v2's assets and
// v1's it lacks, so a page of v1 still finds its CSS; a rollback to v1
// sees v1's own and v2's. An image whose assets are links to /etc and to a
// host directory, followed by one with files under those names, leaves
// the host untouched. An image without the directory fails the deploy
// before anything stops, leaving no volume. Pruning removes the volumes of
// pruned versions, and app remove removes them all.
func TestAssetPath(t *testing.T) {
	const dir = "/rails/public/assets"
	a := proxiedApp(t, "assetpath", "asset_path: "+dir+"\nretain_containers: 1\n", "")
	h1, h2 := testhost.Hosts(t)
	canary := t.TempDir()
	for version, opts := range map[string]testapp.ImageOptions{
		"v1":   {Files: map[string]string{dir + "/a-v1.css": "v1", dir + "/shared.css": "shared v1"}},
		"v2":   {Files: map[string]string{dir + "/a-v2.css": "v2", dir + "/shared.css": "shared v2"}},
		"v3":   {Links: map[string]string{dir + "/etc": "/etc", dir + "/canary": canary}, Files: map[string]string{dir + "/a-v3.css": "v3"}},
		"v4":   {Files: map[string]string{dir + "/etc/ship-assets-pwned": "pwned", dir + "/canary/pwned": "pwned", dir + "/a-v4.css": "v4"}},
		"none": {},
	} {
		testapp.Image(t, h1.DockerHost, "ship-it-assetpath:"+version, opts)
	}
	cli := dockerClient(t, h2)

	a.mustShip(t, "deploy", "--skip-build", "--version", "v1")
	out := a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	if !strings.Contains(out, "assets: 2 files of v2") || !strings.Contains(out, "assets: 1 file of v1 added") {
		t.Errorf("the deploy did not say what it carried over:\n%s", out)
	}
	want := map[string]string{"a-v1.css": "v1", "a-v2.css": "v2", "shared.css": "shared v2"}
	if got := assetFiles(t, cli, "assetpath-web-v2", dir); !maps.Equal(got, want) {
		t.Errorf("v2 sees %v at %s, want %v: its own files, and v1's it lacks", got, dir, want)
	}

	a.mustShip(t, "rollback", "v1")
	want = map[string]string{"a-v1.css": "v1", "a-v2.css": "v2", "shared.css": "shared v1"}
	if got := assetFiles(t, cli, "assetpath-web-v1", dir); !maps.Equal(got, want) {
		t.Errorf("after rollback, v1 sees %v, want %v: its own files, and v2's it lacks", got, want)
	}

	// Links to the host, then files under the links' names.
	a.mustShip(t, "deploy", "--skip-build", "--version", "v3")
	a.mustShip(t, "deploy", "--skip-build", "--version", "v4")
	if _, err := os.Stat("/etc/ship-assets-pwned"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/etc/ship-assets-pwned on the host: %v; an image's link led out of its container", err)
	}
	if entries, _ := os.ReadDir(canary); len(entries) > 0 {
		t.Errorf("the host directory %s has %v: an image's link led out of its container", canary, entries)
	}
	if got := assetFiles(t, cli, "assetpath-web-v4", dir); got["a-v4.css"] != "v4" || got["a-v3.css"] != "v3" || got["etc/ship-assets-pwned"] != "pwned" {
		t.Errorf("v4 sees %v: want its own files (etc/ a directory of its own) and v3's a-v3.css", got)
	}

	// Pruning keeps one stopped version (v3) and its volume; v1's and
	// v2's went with their containers.
	before := assetVolumes(t, cli)
	slices.Sort(before)
	if len(before) != 2 || !strings.HasPrefix(before[0], "assetpath-web-v3-assets-") || !strings.HasPrefix(before[1], "assetpath-web-v4-assets-") {
		t.Errorf("assets volumes after pruning: %v, want v3's and v4's", before)
	}

	// An image without the directory: refused in prepare, nothing left.
	_, errOut, code := a.ship(t, "deploy", "--skip-build", "--version", "none")
	if code == 0 || !strings.Contains(errOut, "has no directory "+dir) {
		t.Errorf("deploy of an image without %s: exit %d\n%s", dir, code, errOut)
	}
	if after := assetVolumes(t, cli); len(after) != len(before) {
		t.Errorf("the failed deploy left assets volumes: before %v, after %v", before, after)
	}
	if got := assetFiles(t, cli, "assetpath-web-v4", dir); got["a-v4.css"] != "v4" {
		t.Errorf("v4 no longer serves its assets after the refused deploy: %v", got)
	}
	helpers, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", spec.LabelAssetsHelper))})
	if err != nil || len(helpers) > 0 {
		t.Errorf("helper containers left: %v (%v)", helpers, err)
	}

	a.mustShip(t, "app", "remove", "--yes")
	if left := assetVolumes(t, cli); len(left) > 0 {
		t.Errorf("app remove left assets volumes %v", left)
	}
}

// assetFiles reads the regular files under dir in a container, through the
// Docker API, with their content.
func assetFiles(t *testing.T, cli *client.Client, name, dir string) map[string]string {
	t.Helper()
	rc, _, err := cli.CopyFromContainer(context.Background(), name, dir+"/.")
	if err != nil {
		t.Fatalf("read %s of %s: %v", dir, name, err)
	}
	defer rc.Close()
	files := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Clean(h.Name)] = string(body)
	}
}

// assetVolumes lists the test app's assets volumes.
func assetVolumes(t *testing.T, cli *client.Client) []string {
	t.Helper()
	list, err := cli.VolumeList(context.Background(), volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", spec.LabelAssets+"=assetpath/web/"))})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range list.Volumes {
		names = append(names, v.Name)
	}
	return names
}
