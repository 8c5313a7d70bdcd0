package onhost

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/internal/testshell"
)

// The container chroots into the host's root and runs the script with
// bash, the values as its arguments; the caller picks network and restart.
func TestContainer(t *testing.T) {
	cc, hc := Container("/usr/sbin/chroot", "echo \"$1\"", "ship-x", []string{"/root/x.conf", "once"}, map[string]string{"ship.x": "shop"})
	if cc.Image != Image || strings.Join(cc.Cmd, "|") != "/usr/sbin/chroot|/host|bash|-c|echo \"$1\"|ship-x|/root/x.conf|once" {
		t.Errorf("cmd = %q", cc.Cmd)
	}
	if cc.Labels["ship.x"] != "shop" || strings.Join(hc.Binds, " ") != "/:/host" || hc.NetworkMode != "" || hc.RestartPolicy.Name != "" {
		t.Errorf("config %+v, host config %+v", cc, hc)
	}
	if hc.LogConfig.Config["max-size"] == "" {
		t.Error("the container's log is not bounded")
	}
}

// json makes any text one valid JSON string.
func TestLibJSON(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	in := "a \"quoted\"\\ line\nand\ta\x01bell\r"
	out, err := exec.Command("bash", "-c", Lib()+"\njson \"$1\"", "x", in).Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `"a \"quoted\"\\ line\nand\tabell"` {
		t.Errorf("json = %s", out)
	}
}

func TestTail(t *testing.T) {
	dir := t.TempDir()
	h := &host.Host{Name: "local", Shell: testshell.Local{Home: dir}}
	log := filepath.Join(dir, "x.jsonl")
	ctx := context.Background()
	if got, err := Tail(ctx, h, log, 2); err != nil || got != "" {
		t.Errorf("a missing log: %q %v", got, err)
	}
	os.WriteFile(log, []byte("1\n2\n3\n"), 0o600)
	if got, err := Tail(ctx, h, log, 2); err != nil || got != "2\n3\n" {
		t.Errorf("the last 2 lines: %q %v", got, err)
	}
}
