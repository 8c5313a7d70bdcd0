package doctor

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"

	"github.com/shipdeploy/ship/host"
)

// appUser is who a role's app runs as.
type appUser struct {
	Name     string // as the image (or the role's options) says it: "app", "1000:1000"; "" is root
	UID, GID int
}

func (u appUser) String() string {
	if u.Name == "" {
		return "root"
	}
	return fmt.Sprintf("%s (uid %d, gid %d)", u.Name, u.UID, u.GID)
}

// roleUser finds the user a role's container runs as: its configured
// User, which is the image's unless the role's options set one. A name is
// looked up in the image's /etc/passwd (and /etc/group), read through a
// container of the image that is created, never started, and removed: the
// running container's files are the app's to change. ok is false when the
// role has no container on the host.
func roleUser(ctx context.Context, t *Target, role string) (u appUser, ok bool, err error) {
	list, err := host.RoleContainers(ctx, t.Host, t.Config, role)
	if err != nil || len(list) == 0 {
		return appUser{}, false, err
	}
	pick := list[0]
	for _, c := range list {
		if c.State == "running" {
			pick = c
			break
		}
	}
	info, err := t.Host.Docker.ContainerInspect(ctx, pick.ID)
	if err != nil {
		return appUser{}, false, fmt.Errorf("inspect %s: %w", host.Name(pick), err)
	}
	u, err = resolveUser(ctx, t, info.Config.User, info.Image)
	return u, true, err
}

// resolveUser turns a User setting, "name[:group]" or numbers, into ids.
func resolveUser(ctx context.Context, t *Target, user, image string) (appUser, error) {
	u := appUser{Name: user}
	if user == "" {
		return u, nil
	}
	name, group, _ := strings.Cut(user, ":")
	var passwd, groups string
	read := func(file string, into *string) error {
		if *into != "" {
			return nil
		}
		s, err := imageFile(ctx, t, image, file)
		*into = s
		return err
	}
	if n, err := strconv.Atoi(name); err == nil {
		u.UID, u.GID = n, n
	} else {
		if err := read("/etc/passwd", &passwd); err != nil {
			return u, err
		}
		if u.UID, u.GID, err = lookupID(passwd, name); err != nil {
			return u, fmt.Errorf("user %s in the image's /etc/passwd: %w", name, err)
		}
	}
	if group == "" {
		return u, nil
	}
	if n, err := strconv.Atoi(group); err == nil {
		u.GID = n
		return u, nil
	}
	if err := read("/etc/group", &groups); err != nil {
		return u, err
	}
	gid, _, err := lookupID(groups, group)
	if err != nil {
		return u, fmt.Errorf("group %s in the image's /etc/group: %w", group, err)
	}
	u.GID = gid
	return u, nil
}

// imageFile reads a file of image through a container created from it,
// never started, and removed.
func imageFile(ctx context.Context, t *Target, image, file string) (string, error) {
	never := []string{"/ship-doctor-never-runs"}
	created, err := t.Host.Docker.ContainerCreate(ctx,
		&container.Config{Image: image, Entrypoint: never, Cmd: never, NetworkDisabled: true, Labels: map[string]string{"ship.doctor": "read"}},
		&container.HostConfig{NetworkMode: "none"}, nil, nil, "")
	if err != nil {
		return "", fmt.Errorf("read %s of the image: %w", file, err)
	}
	defer t.Host.Docker.ContainerRemove(context.WithoutCancel(ctx), created.ID, container.RemoveOptions{Force: true})
	rc, _, err := t.Host.Docker.CopyFromContainer(ctx, created.ID, file)
	if err != nil {
		return "", fmt.Errorf("read %s of the image: %w", file, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	if err != nil {
		return "", fmt.Errorf("read %s of the image: %w", file, err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return "", fmt.Errorf("%s of the image is not a regular file", file)
	}
	b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read %s of the image: %w", file, err)
	}
	return string(b), nil
}

// lookupID finds name in a passwd or group file: its id (field 3) and,
// for passwd, its group (field 4).
func lookupID(data, name string) (id, group int, err error) {
	for _, line := range strings.Split(data, "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 || f[0] != name {
			continue
		}
		if id, err = strconv.Atoi(f[2]); err != nil {
			return 0, 0, fmt.Errorf("its id %q is not a number", f[2])
		}
		group = id
		if len(f) > 3 {
			if g, err := strconv.Atoi(f[3]); err == nil {
				group = g
			}
		}
		return id, group, nil
	}
	return 0, 0, fmt.Errorf("not found")
}
