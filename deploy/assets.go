package deploy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
)

// Kamal's asset_path: so that a page of the previous version still finds
// its fingerprinted assets after the swap, each version's container
// mounts a volume at asset_path that holds its image's files there and,
// where it has none of that name, the previous version's. All of it is
// done in the swap's prepare step, before anything is paused, and only
// through the Docker API: helper containers of the images are created,
// never started, and the engine reads and writes their files chrooted in
// them, so a link an image puts among its assets never leads to the host.

// errNoAssets is an image without asset_path.
var errNoAssets = errors.New("the image has no such directory")

// bridgeAssets makes the new container's assets volume (step 3, before it
// is created) and mounts it at asset_path: the new image's files, then the
// running version's where the new one has none of the name. The running
// version's own volume gets the new files it lacks too, as Kamal's does,
// for pages of the new version that another host still serves.
func (s *swap) bridgeAssets(ctx context.Context, ct *spec.Container) error {
	a, ok := spec.AssetsOf(s.cfg, s.unit.Role)
	if !ok {
		return nil
	}
	d := s.host.Docker
	role := s.unit.Role.Name
	if err := removeAssetHelpers(ctx, d, s.cfg, role); err != nil {
		return err
	}
	name := spec.AssetsVolume(s.cfg, role, s.version, suffix())
	if _, err := d.VolumeCreate(ctx, volume.CreateOptions{Name: name, Labels: spec.AssetsLabels(s.cfg, role, s.version)}); err != nil {
		return fmt.Errorf("create assets volume %s: %w", name, err)
	}
	s.assets = name
	image := spec.ImageRef(s.cfg, s.version)
	n, err := fillAssets(ctx, d, s.cfg, role, image, a.Path, name, true)
	if errors.Is(err, errNoAssets) {
		err = fmt.Errorf("%s has no directory %s: build the assets into the image, or remove asset_path", image, a.Path)
	}
	if err != nil {
		s.dropAssets(ctx)
		return fmt.Errorf("assets of %s: %w", s.target, err)
	}
	fmt.Fprintf(s.out, "assets: %s of %s in volume %s\n", files(n), s.version, name)
	if old, ok := s.running(ctx); ok {
		s.shareAssets(ctx, a, old.ImageID, spec.VersionOf(s.cfg, role, host.Name(old), old.Labels), name)
		if vol := assetsVolumeOf(ctx, d, s.cfg, role, old.Mounts, a.Path); vol != "" {
			s.shareAssets(ctx, a, image, s.version, vol)
		}
	}
	ct.Host.Binds = append(ct.Host.Binds, a.Bind(name))
	return nil
}

// bridgeRetained gives a retained container the rollback brings back the
// running version's assets it lacks (prepare, rollback): a page of the
// version rolled back from still finds its files. Nothing is done where
// the target is the running version.
func (s *swap) bridgeRetained(ctx context.Context) error {
	a, ok := spec.AssetsOf(s.cfg, s.unit.Role)
	if !ok {
		return nil
	}
	old, ok := s.running(ctx)
	if !ok {
		return nil
	}
	if err := removeAssetHelpers(ctx, s.host.Docker, s.cfg, s.unit.Role.Name); err != nil {
		return err
	}
	info, err := s.host.Docker.ContainerInspect(ctx, s.target)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", s.target, err)
	}
	vol := assetsVolumeOf(ctx, s.host.Docker, s.cfg, s.unit.Role.Name, info.Mounts, a.Path)
	if vol == "" {
		fmt.Fprintf(s.out, "assets: %s has no assets volume (deployed without asset_path): it serves its image's own\n", s.target)
		return nil
	}
	s.shareAssets(ctx, a, old.ImageID, spec.VersionOf(s.cfg, s.unit.Role.Name, host.Name(old), old.Labels), vol)
	return nil
}

// shareAssets copies what a version's image has at asset_path into vol,
// where vol has none of the name. It is best effort, as in Kamal: the
// other version's files are a courtesy to pages in flight.
func (s *swap) shareAssets(ctx context.Context, a spec.Assets, image, version, vol string) {
	n, err := fillAssets(ctx, s.host.Docker, s.cfg, s.unit.Role.Name, image, a.Path, vol, false)
	switch {
	case errors.Is(err, errNoAssets):
		fmt.Fprintf(s.out, "assets: %s has no directory %s: nothing to carry over\n", version, a.Path)
	case err != nil:
		fmt.Fprintf(s.out, "assets: carrying %s's over to %s failed: %v\n", version, vol, err)
	default:
		fmt.Fprintf(s.out, "assets: %s of %s added to volume %s\n", files(n), version, vol)
	}
}

// running is the role's running container other than the target.
func (s *swap) running(ctx context.Context) (container.Summary, bool) {
	list, err := host.RunningContainers(ctx, s.host, s.cfg, s.unit.Role.Name)
	if err != nil || len(list) == 0 || host.Name(list[0]) == s.target {
		return container.Summary{}, false
	}
	return list[0], true
}

// dropAssets removes the assets volume this deploy made, once no
// container of it is left.
func (s *swap) dropAssets(ctx context.Context) {
	if s.assets != "" {
		s.host.Docker.VolumeRemove(context.WithoutCancel(ctx), s.assets, false)
		s.assets = ""
	}
}

// assetsVolumeOf is the role's assets volume among a container's mounts
// at dir, "" if none. A volume ship did not make for the role's assets
// (a data volume an older config mounted there) is never one: ship must
// not write into it.
func assetsVolumeOf(ctx context.Context, d client.APIClient, c *config.Config, role string, mounts []container.MountPoint, dir string) string {
	for _, m := range mounts {
		if m.Type != mount.TypeVolume || m.Destination != dir {
			continue
		}
		v, err := d.VolumeInspect(ctx, m.Name)
		if err == nil && v.Labels[spec.LabelAssets] == spec.AssetsOwner(c, role) {
			return m.Name
		}
	}
	return ""
}

// fillAssets copies image's files at dir into the volume vol, leaving what
// vol has (unless fresh: it is empty) as it is, and returns how many files
// it copied. A helper container of the image, never started, mounts vol:
// the engine reads the image and writes the volume chrooted in it.
func fillAssets(ctx context.Context, d client.APIClient, c *config.Config, role, image, dir, vol string, fresh bool) (int, error) {
	name := spec.AssetsHelper(c, role, suffix())
	never := []string{"/ship-assets-helper-never-runs"}
	created, err := d.ContainerCreate(ctx,
		&container.Config{Image: image, Entrypoint: never, Cmd: never, NetworkDisabled: true,
			Labels: map[string]string{spec.LabelAssetsHelper: spec.AssetsOwner(c, role)}},
		&container.HostConfig{NetworkMode: "none", Mounts: []mount.Mount{{
			Type: mount.TypeVolume, Source: vol, Target: spec.AssetsMount, VolumeOptions: &mount.VolumeOptions{NoCopy: true},
		}}}, nil, nil, name)
	if err != nil {
		return 0, fmt.Errorf("create helper %s: %w", name, err)
	}
	defer d.ContainerRemove(context.WithoutCancel(ctx), created.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})

	existing := map[string]bool{}
	if !fresh {
		rc, _, err := d.CopyFromContainer(ctx, created.ID, spec.AssetsMount+"/.")
		if err != nil {
			return 0, fmt.Errorf("read volume %s: %w", vol, err)
		}
		existing, err = archiveNames(rc)
		rc.Close()
		if err != nil {
			return 0, fmt.Errorf("read volume %s: %w", vol, err)
		}
	}
	src, stat, err := d.CopyFromContainer(ctx, created.ID, dir+"/.")
	if errdefs.IsNotFound(err) {
		return 0, errNoAssets
	}
	if err != nil {
		return 0, fmt.Errorf("read %s of %s: %w", dir, image, err)
	}
	defer src.Close()
	if !stat.Mode.IsDir() {
		return 0, fmt.Errorf("%s of %s is not a directory", dir, image)
	}
	pr, pw := io.Pipe()
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := rebase(src, pw, existing)
		pw.CloseWithError(err)
		done <- result{n, err}
	}()
	err = d.CopyToContainer(ctx, created.ID, spec.AssetsMount, pr, container.CopyToContainerOptions{})
	pr.CloseWithError(errors.New("copy ended")) // unblocks rebase if the engine stopped reading
	r := <-done
	if r.err != nil {
		return 0, fmt.Errorf("read %s of %s: %w", dir, image, r.err)
	}
	if err != nil {
		return 0, fmt.Errorf("write volume %s: %w", vol, err)
	}
	return r.n, nil
}

// removeAssetHelpers removes helper containers of the role that a killed
// ship left behind.
func removeAssetHelpers(ctx context.Context, d client.APIClient, c *config.Config, role string) error {
	list, err := d.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", spec.LabelAssetsHelper+"="+spec.AssetsOwner(c, role)))})
	if err != nil {
		return fmt.Errorf("list asset helpers: %w", err)
	}
	for _, h := range list {
		if err := d.ContainerRemove(ctx, h.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("remove %s: %w", host.Name(h), err)
		}
	}
	return nil
}

// PruneAssets removes the role's assets volumes that none of its
// containers mounts any more (their versions were pruned or removed), and
// helpers a killed ship left. A volume the config names is never
// touched, whatever its labels say: it holds data.
func PruneAssets(ctx context.Context, h *host.Host, c *config.Config, role string) ([]string, error) {
	d := h.Docker
	if err := removeAssetHelpers(ctx, d, c, role); err != nil {
		return nil, err
	}
	vols, err := d.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", spec.LabelAssets+"="+spec.AssetsOwner(c, role)))})
	if err != nil {
		return nil, fmt.Errorf("list assets volumes: %w", err)
	}
	containers, err := host.RoleContainers(ctx, h, c, role)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, name := range unusedAssets(c, role, vols.Volumes, containers) {
		err := d.VolumeRemove(ctx, name, false)
		switch {
		case err == nil:
			removed = append(removed, name)
		case errdefs.IsNotFound(err), errdefs.IsConflict(err): // gone, or still mounted
		default:
			return removed, fmt.Errorf("remove assets volume %s: %w", name, err)
		}
	}
	return removed, nil
}

// unusedAssets selects the role's assets volumes no container of the role
// mounts, never one the config names.
func unusedAssets(c *config.Config, role string, vols []*volume.Volume, containers []container.Summary) []string {
	used := map[string]bool{}
	for _, ct := range containers {
		for _, m := range ct.Mounts {
			used[m.Name] = true
		}
	}
	for _, v := range c.Volumes {
		used[v.Source] = true
	}
	var out []string
	for _, v := range vols {
		if v == nil || v.Labels[spec.LabelAssets] != spec.AssetsOwner(c, role) || used[v.Name] {
			continue
		}
		out = append(out, v.Name)
	}
	return out
}

func files(n int) string {
	if n == 1 {
		return "1 file"
	}
	return fmt.Sprintf("%d files", n)
}

func suffix() string {
	return strings.ToLower(rand.Text()[:8])
}
