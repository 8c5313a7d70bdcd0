package doctor

import (
	"strings"
	"testing"

	"github.com/shipdeploy/ship/database"
)

func TestDiskSpace(t *testing.T) {
	tg := target(t, "root")
	const gib = 1 << 30
	dir := "/var/lib/docker/volumes/shop_data/_data"
	big := []database.Status{
		{HostPath: dir + "/app.sqlite3", Size: 200 * gib, WALSize: 100 * gib},
		{HostPath: "/var/lib/docker/volumes/shop_data/_database", Size: 900 * gib}, // not under dir
	}
	for _, tc := range []struct {
		free int64
		dbs  []database.Status
		want State
		says string
	}{
		{700 * gib, big, OK, "700.0 GiB free of 1000.0 GiB (70.0 %) on the filesystem of " + dir + "; its databases take 300.0 GiB"},
		{90 * gib, nil, Warn, "below 10 %"},
		{500 * gib, big, Warn, "less than twice their size"},
		{80 * gib, big, Fail, "restore point, a copy of each database, would not fit"},
		{40 * gib, nil, Fail, "below the 5 % ship doctor fails at (--min-free)"},
	} {
		c := diskSpace(tg, "volume shop_data", dirInfo{Path: dir, Size: 1000 * gib, Free: tc.free}, tc.dbs)
		if c.State != tc.want || !strings.Contains(c.Message, tc.says) {
			t.Errorf("%d GiB free: %s, want %s saying %q", tc.free/gib, c, tc.want, tc.says)
		}
	}
	tg.MinFree = 60
	c := diskSpace(tg, "volume shop_data", dirInfo{Path: dir, Size: 100 * gib, Free: 50 * gib}, nil)
	if c.State != Fail || !strings.Contains(c.Message, "below the 60 % ship doctor fails at (--min-free)") || !strings.Contains(c.Fix, "du -xsh "+dir) {
		t.Errorf("--min-free 60: %s", c)
	}
	if c := diskSpace(tg, "Docker's data root", dirInfo{Path: "/gone", Missing: true}, nil); c.State != Fail {
		t.Errorf("missing: %s", c)
	}
}
