package doctor

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/guard"
	"github.com/shipdeploy/ship/ssh"
	"github.com/shipdeploy/ship/volumes"
)

var (
	//go:embed as-root.sh
	asRootScript string
	//go:embed paths.sh
	pathsScript string
)

// dirInfo is what paths.sh says of a directory on the host.
type dirInfo struct {
	Path     string
	Missing  bool
	UID, GID int
	Mode     uint32 // permission bits
	Type     string // stat's word: "directory", "symbolic link", ...
	// Size and Free are the filesystem's, in bytes; Free is what a
	// process that is not root may use.
	Size, Free int64
}

// volumeDir is one of the app's volumes, or of the copies a replica host
// keeps, and its directory on the host.
type volumeDir struct {
	Mount volumes.Mount
	Dir   string // "" when the named volume does not exist
	// Copy marks a volume of copies of the writer's databases
	// (spec.ReplicaVolume), which only its followers write.
	Copy bool
}

// volumeDirs finds the host directory of each of the app's volumes and,
// on a replica host, of each volume of copies.
func (t *Target) volumeDirs(ctx context.Context) ([]volumeDir, error) {
	var out []volumeDir
	for _, v := range t.Config.Volumes {
		d, err := t.volumeDir(ctx, v)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if !t.replicaHost() {
		return out, nil
	}
	copies, _, err := guard.Copies(t.Config)
	if err != nil {
		return nil, err
	}
	for _, v := range copies {
		d, err := t.volumeDir(ctx, v)
		if err != nil {
			return nil, err
		}
		d.Copy = true
		out = append(out, d)
	}
	return out, nil
}

// volumeDir finds the host directory of the volume v.
func (t *Target) volumeDir(ctx context.Context, v volumes.Mount) (volumeDir, error) {
	if v.IsHostPath() {
		return volumeDir{Mount: v, Dir: v.Source}, nil
	}
	info, err := t.Host.Docker.VolumeInspect(ctx, v.Source)
	if errdefs.IsNotFound(err) {
		return volumeDir{Mount: v}, nil
	}
	if err != nil {
		return volumeDir{}, fmt.Errorf("inspect volume %s: %w", v.Source, err)
	}
	return volumeDir{Mount: v, Dir: info.Mountpoint}, nil
}

// readDirs runs paths.sh as root on dirs.
func (t *Target) readDirs(ctx context.Context, dirs []string) (map[string]dirInfo, error) {
	var out, errOut strings.Builder
	cmd := ssh.Script(asRootScript, ssh.Script(pathsScript, dirs...).Args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := t.Host.Shell.Run(ctx, cmd); err != nil {
		if msg := strings.TrimSpace(errOut.String()); msg != "" {
			err = fmt.Errorf("%s", msg)
		}
		return nil, fmt.Errorf("read %s: %w", strings.Join(dirs, ", "), err)
	}
	return parseDirs(out.String())
}

// parseDirs reads paths.sh's lines.
func parseDirs(out string) (map[string]dirInfo, error) {
	infos := map[string]dirInfo{}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) == 2 && f[1] == "missing" {
			infos[f[0]] = dirInfo{Path: f[0], Missing: true}
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("unexpected line %q", line)
		}
		owner, space := strings.SplitN(f[1], " ", 4), strings.Fields(f[2])
		if len(owner) != 4 || len(space) != 2 {
			return nil, fmt.Errorf("unexpected line %q", line)
		}
		d := dirInfo{Path: f[0], Type: strings.ReplaceAll(owner[3], "_", " ")}
		uid, err1 := strconv.Atoi(owner[0])
		gid, err2 := strconv.Atoi(owner[1])
		mode, err3 := strconv.ParseUint(owner[2], 8, 32)
		kb, err4 := strconv.ParseInt(space[0], 10, 64)
		avail, err5 := strconv.ParseInt(space[1], 10, 64)
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			return nil, fmt.Errorf("unexpected line %q: %w", line, err)
		}
		d.UID, d.GID, d.Mode, d.Size, d.Free = uid, gid, uint32(mode), kb*1024, avail*1024
		infos[d.Path] = d
	}
	return infos, nil
}
