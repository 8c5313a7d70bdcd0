package testhost

import (
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	state, ppid, ok := parseStat([]byte("42 (a) b (c) S 7 42 42 0 -1"))
	if !ok || state != "S" || ppid != 7 {
		t.Fatalf("parseStat = %q, %d, %v; want S, 7, true", state, ppid, ok)
	}
}

// TestKillTree kills a tree shaped like sshd's: the children put themselves
// in sessions of their own, as sshd does for every connection.
func TestKillTree(t *testing.T) {
	log := t.TempDir() + "/log"
	p, err := spawn([]string{"sh", "-c", "setsid sleep 301 & setsid sh -c 'sleep 302 & wait' & wait"}, log, &syscall.SysProcAttr{Setsid: true})
	if err != nil {
		t.Fatal(err)
	}
	var tree []int
	for deadline := time.Now().Add(5 * time.Second); len(tree) < 4; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("tree never grew to 4 processes: %v", tree)
		}
		tree = descendants(p.pid)
	}
	if !running(p.pid, "setsid sleep 301") {
		t.Fatal("running does not find the shell by its command line")
	}
	killTree(p.pid)
	<-p.done
	for _, pid := range tree {
		if !waitGone(pid, "", 5*time.Second) {
			t.Errorf("pid %d survived killTree", pid)
		}
	}
	if running(p.pid, "") {
		t.Error("running reports a reaped process")
	}
}

func descendants(root int) []int {
	tree := []int{root}
	seen := map[int]bool{root: true}
	for added := true; added; {
		added = false
		for child, parent := range parents() {
			if seen[parent] && !seen[child] {
				seen[child] = true
				tree = append(tree, child)
				added = true
			}
		}
	}
	return tree
}
