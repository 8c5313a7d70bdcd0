package doctor

import (
	"strings"
	"testing"

	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/volumes"
)

func TestCanWrite(t *testing.T) {
	app := appUser{Name: "app", UID: 1000, GID: 1000}
	for _, tc := range []struct {
		d    dirInfo
		u    appUser
		want bool
	}{
		{dirInfo{UID: 0, GID: 0, Mode: 0o755}, appUser{}, true}, // root writes anything
		{dirInfo{UID: 0, GID: 0, Mode: 0o755}, app, false},
		{dirInfo{UID: 1000, GID: 0, Mode: 0o755}, app, true},
		{dirInfo{UID: 1000, GID: 1000, Mode: 0o577}, app, false}, // the owner class applies, not group's
		{dirInfo{UID: 0, GID: 1000, Mode: 0o775}, app, true},
		{dirInfo{UID: 0, GID: 1000, Mode: 0o755}, app, false},
		{dirInfo{UID: 0, GID: 0, Mode: 0o1777}, app, true},
		{dirInfo{UID: 0, GID: 0, Mode: 0o776}, app, false}, // write without search
	} {
		if got := canWrite(tc.d, tc.u); got != tc.want {
			t.Errorf("%+v by %s: %v, want %v", tc.d, tc.u, got, tc.want)
		}
	}
}

func TestVolumeWritable(t *testing.T) {
	tg := target(t, "deploy")
	v := volumeDir{Mount: volumes.Mount{Source: "shop_data", Target: "/data"}, Dir: "/var/lib/docker/volumes/shop_data/_data"}
	app := appUser{Name: "app", UID: 1000, GID: 1000}
	c := volumeWritable(tg, "web", v, dirInfo{Path: v.Dir, UID: 0, GID: 0, Mode: 0o755, Type: "directory"}, app)
	if c.State != Fail || !strings.Contains(c.Message, "owned by 0:0 with mode 755, but web runs as app (uid 1000, gid 1000)") ||
		c.Fix != "ship server exec -h h1 'sudo chown -R -h 1000:1000 /var/lib/docker/volumes/shop_data/_data'" {
		t.Errorf("root's volume: %s", c)
	}
	if c := volumeWritable(tg, "web", v, dirInfo{Path: v.Dir, UID: 1000, GID: 1000, Mode: 0o700, Type: "directory"}, app); c.State != OK {
		t.Errorf("the app's volume: %s", c)
	}
	if c := volumeWritable(tg, "web", volumeDir{Mount: v.Mount}, dirInfo{}, app); c.State != Fail || c.Fix != "ship setup" {
		t.Errorf("no volume: %s", c)
	}
	if c := volumeWritable(tg, "web", v, dirInfo{Path: v.Dir, Type: "symbolic link", Mode: 0o777}, app); c.State != Fail || !strings.Contains(c.Message, "is a symbolic link") {
		t.Errorf("a link: %s", c)
	}
}

func TestDatabaseWritable(t *testing.T) {
	tg := target(t, "root")
	app := appUser{Name: "app", UID: 1000, GID: 1000}
	o := database.Ownership{Database: "/data/app.sqlite3",
		Dir: database.FileOwner{HostPath: "/v/_data", UID: 1000, GID: 1000, Mode: 0o755},
		Files: []database.FileOwner{
			{HostPath: "/v/_data/app.sqlite3", UID: 1000, GID: 1000, Mode: 0o644},
			{HostPath: "/v/_data/app.sqlite3-wal", UID: 1000, GID: 1000, Mode: 0o600},
		}}
	if c := databaseWritable(tg, "web", o, app); c.State != OK {
		t.Errorf("the app's: %s", c)
	}
	o.Files[1].UID, o.Files[1].GID = 0, 0 // a WAL root left behind
	c := databaseWritable(tg, "web", o, app)
	if c.State != Fail || !strings.Contains(c.Message, "cannot write /v/_data/app.sqlite3-wal (0:0, mode 600)") ||
		c.Fix != "ship server exec -h h1 'chown -h 1000:1000 /v/_data/app.sqlite3-wal'" {
		t.Errorf("root's WAL: %s", c)
	}
	o.Files[1].Mode = 0o666
	if c := databaseWritable(tg, "web", o, app); c.State != OK {
		t.Errorf("a WAL anyone may write: %s", c)
	}
	o.Dir.Mode = 0o555
	if c := databaseWritable(tg, "web", o, app); c.State != Fail || !strings.Contains(c.Message, "its directory /v/_data (1000:1000, mode 555)") {
		t.Errorf("a read-only directory: %s", c)
	}
	if c := databaseWritable(tg, "web", o, appUser{}); c.State != OK {
		t.Errorf("root: %s", c)
	}
}
