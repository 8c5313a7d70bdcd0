package ssh

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testhost"
)

// freeze SIGSTOPs pid and its descendants, as a hung host looks from the
// outside, and returns a func that resumes them, also run when the test
// ends. Each process is stopped before its children are listed, so none can
// fork unseen.
func freeze(t *testing.T, pid int) (resume func()) {
	var stopped []int
	resume = func() {
		for _, p := range stopped {
			syscall.Kill(p, syscall.SIGCONT)
		}
		stopped = nil
	}
	t.Cleanup(resume)
	for queue := []int{pid}; len(queue) > 0; queue = queue[1:] {
		p := queue[0]
		if err := syscall.Kill(p, syscall.SIGSTOP); err != nil {
			continue // exited meanwhile
		}
		stopped = append(stopped, p)
		files, _ := filepath.Glob("/proc/" + strconv.Itoa(p) + "/task/*/children")
		for _, f := range files {
			data, _ := os.ReadFile(f)
			for _, child := range strings.Fields(string(data)) {
				n, _ := strconv.Atoi(child)
				queue = append(queue, n)
			}
		}
	}
	return resume
}

// TestKeepaliveDetectsFrozenServer freezes sshd under a running command: the
// command must fail after a few keepalive intervals instead of hanging, and
// once the server is back the next command must work.
func TestKeepaliveDetectsFrozenServer(t *testing.T) {
	s := testhost.NewSSHD(t)
	ctx := testContext(t)
	cfg := hostConfig(t, &s.Host)
	cfg.KeepaliveInterval = 200 * time.Millisecond
	c := newPool(t, cfg).Conn(s.Host.Addr)
	if _, err := c.Output(ctx, "true"); err != nil {
		t.Fatal(err)
	}
	// Idle keepalives must not close a healthy connection.
	done := waitDone(c)
	time.Sleep(5 * cfg.KeepaliveInterval)
	select {
	case <-done:
		t.Fatal("healthy connection closed")
	default:
	}

	running := make(chan error, 1)
	go func() { _, err := c.Output(ctx, "sleep", "30"); running <- err }()
	time.Sleep(100 * time.Millisecond) // let the command start
	start := time.Now()
	resume := freeze(t, s.Pid())
	select {
	case <-done:
		t.Logf("frozen server noticed after %v", time.Since(start))
	case <-time.After(10 * cfg.KeepaliveInterval):
		t.Fatal("frozen server not noticed")
	}
	if err := <-running; err == nil {
		t.Error("command on the frozen server succeeded")
	}

	resume()
	if out, err := c.Output(ctx, "echo", "back"); err != nil || string(out) != "back\n" {
		t.Errorf("after resume: %q, %v", out, err)
	}
}
