package doctor

import (
	"os/exec"
	"strings"
	"testing"
)

func TestToolFindings(t *testing.T) {
	tg := target(t, "deploy")
	if cs := toolFindings(tg, ""); len(cs) != 1 || cs[0].State != OK {
		t.Errorf("all there: %v", cs)
	}
	cs := toolFindings(tg, "missing sqlite3\n")
	if len(cs) != 1 || cs[0].State != Fail || cs[0].Fix != "ship server bootstrap -h h1" {
		t.Errorf("no sqlite3: %v", cs)
	}
	cs = toolFindings(tg, "missing flock\nmissing bash\nmissing sqlite3\nnosudo\n")
	if len(cs) != 2 || cs[0].State != Fail || !strings.Contains(cs[0].Message, "flock, bash, sqlite3") ||
		!strings.Contains(cs[0].Fix, "sudo apt-get install -y util-linux bash sqlite3") {
		t.Errorf("several missing: %v", cs)
	}
	if len(cs) == 2 && (cs[1].Name != "sudo" || cs[1].State != Fail || !strings.Contains(cs[1].Message, "deploy is not root")) {
		t.Errorf("no sudo: %v", cs[1])
	}
}

// tools.sh finds what this machine has (the test hosts' tools), and names
// what is not on the PATH.
func TestToolsScript(t *testing.T) {
	out, err := exec.Command("sh", "-c", toolsScript).Output()
	if err != nil || string(out) != "" {
		t.Errorf("tools.sh here: %q, %v", out, err)
	}
	cmd := exec.Command("/bin/sh", "-c", toolsScript)
	cmd.Env = []string{"PATH=/nonexistent"}
	out, _ = cmd.Output()
	if !strings.Contains(string(out), "missing flock\n") || !strings.Contains(string(out), "missing sqlite3\n") {
		t.Errorf("tools.sh without a PATH: %q", out)
	}
}
