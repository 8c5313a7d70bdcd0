package drill

import (
	"strings"
	"testing"

	"github.com/shipdeploy/ship/onhost"
)

// The drill container chroots into the host's root and runs drill.sh,
// after the link-safe primitives, with the config file as its argument:
// no value is pasted into the script.
func TestContainerSpec(t *testing.T) {
	c := testConfig()
	p := prepared{chroot: "/usr/sbin/chroot", conf: "/root/.ship/apps/shop/drill/now.conf"}
	cc, hc := containerSpec(c, p, map[string]string{LabelSchedule: "daily"}, "once")
	if cc.Image != onhost.Image || len(cc.Cmd) != 8 || strings.Join(cc.Cmd[:4], " ") != "/usr/sbin/chroot /host bash -c" ||
		strings.Join(cc.Cmd[5:], " ") != "ship-drill /root/.ship/apps/shop/drill/now.conf once" {
		t.Errorf("cmd = %q", cc.Cmd)
	}
	if !strings.HasPrefix(cc.Cmd[4], "#!/bin/sh\n# Link-safe primitives") || !strings.Contains(cc.Cmd[4], "# ship's fire drill, run by the host itself") {
		t.Errorf("the script is not safe.sh then drill.sh:\n%.200s", cc.Cmd[4])
	}
	if strings.Contains(cc.Cmd[4], "secret-token") || strings.Contains(cc.Cmd[4], "/data/app.sqlite3") {
		t.Error("a value of the config was pasted into the script")
	}
	if cc.Labels[Label] != "shop" || cc.Labels[LabelSchedule] != "daily" {
		t.Errorf("labels = %v", cc.Labels)
	}
	if strings.Join(hc.Binds, " ") != "/:/host" || hc.NetworkMode != "host" || hc.RestartPolicy.Name != "" {
		t.Errorf("host config = %+v", hc)
	}
}

func TestReadOnly(t *testing.T) {
	for in, want := range map[string]string{
		"shop_data:/data":          "shop_data:/data:ro",
		"/etc/x.yml:/etc/x.yml:ro": "/etc/x.yml:/etc/x.yml:ro",
		"/srv:/srv:z":              "/srv:/srv:z,ro",
	} {
		if got := readOnly(in); got != want {
			t.Errorf("readOnly(%q) = %q, want %q", in, got, want)
		}
	}
}
