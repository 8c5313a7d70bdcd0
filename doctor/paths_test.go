package doctor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
)

func TestParseDirs(t *testing.T) {
	got, err := parseDirs("/var/lib/docker\t0 0 710 directory\t263174212 64367876\n/srv/x\tmissing\n/srv/l\t0 0 777 symbolic_link\t10 5\n")
	if err != nil {
		t.Fatal(err)
	}
	d := got["/var/lib/docker"]
	if d.UID != 0 || d.Mode != 0o710 || d.Type != "directory" || d.Size != 263174212*1024 || d.Free != 64367876*1024 {
		t.Errorf("docker root: %+v", d)
	}
	if !got["/srv/x"].Missing || got["/srv/l"].Type != "symbolic link" {
		t.Errorf("missing and link: %+v", got)
	}
	for _, bad := range []string{"/a\t0 0 7x9 directory\t1 1\n", "/a\t0 0\t1 1\n", "/a\n"} {
		if _, err := parseDirs(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// paths.sh, run here, reads a directory's owner and mode, says a link is
// one without following it, and names what is missing.
func TestPathsScript(t *testing.T) {
	dir := t.TempDir()
	vol := filepath.Join(dir, "vol")
	os.Mkdir(vol, 0o750)
	owner := os.Getuid()
	if os.Chown(vol, 1000, 1001) == nil {
		owner = 1000
	}
	link := filepath.Join(dir, "link")
	os.Symlink(vol, link)
	out, err := exec.Command("sh", "-c", pathsScript, "sh", vol, link, filepath.Join(dir, "gone")).Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseDirs(string(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if v := got[vol]; v.UID != owner || v.Mode != 0o750 || v.Type != "directory" || v.Size == 0 {
		t.Errorf("the volume: %+v", v)
	}
	if l := got[link]; l.Type != "symbolic link" || l.Mode != 0o777 {
		t.Errorf("the link was followed: %+v", l)
	}
	if !got[filepath.Join(dir, "gone")].Missing {
		t.Errorf("nothing is not missing:\n%s", out)
	}
	if strings.Count(string(out), "\n") != 3 {
		t.Errorf("one line per path:\n%s", out)
	}
}

// volumesAt answers VolumeInspect with the mount points it knows.
type volumesAt struct {
	client.APIClient
	at map[string]string
}

func (v volumesAt) VolumeInspect(_ context.Context, name string) (volume.Volume, error) {
	if p, found := v.at[name]; found {
		return volume.Volume{Name: name, Mountpoint: p}, nil
	}
	return volume.Volume{}, errdefs.NotFound(fmt.Errorf("no such volume: %s", name))
}

// On a replica host the volumes of copies are looked at too, marked so
// that no role's user is asked to write them.
func TestVolumeDirsOfAReplicaHost(t *testing.T) {
	tg := replicaTarget(t)
	tg.Config.Litestream = &config.Litestream{Databases: []string{"/data/app.db"}}
	tg.Host.Docker = volumesAt{at: map[string]string{"shop-replica-shop_data": "/v/copies"}}
	got, err := tg.volumeDirs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range got {
		lines = append(lines, fmt.Sprintf("%s=%q copy=%v", d.Mount.Source, d.Dir, d.Copy))
	}
	want := []string{`shop_data="" copy=false`, `/srv/files="/srv/files" copy=false`, `shop-replica-shop_data="/v/copies" copy=true`}
	if !slices.Equal(lines, want) {
		t.Errorf("volumeDirs = %v, want %v", lines, want)
	}
}
