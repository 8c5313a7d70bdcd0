package testlitestream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// process is the versitygw we started; done is closed once it has exited
// and been reaped.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, valid after done
}

// startVersitygw serves the buckets under root on addr to one user, with its
// output appended to log.
func startVersitygw(bin, addr, root, accessKey, secretKey, log string) (*process, error) {
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open versitygw log: %w", err)
	}
	defer f.Close()
	cmd := exec.Command(bin, "--port", addr, "posix", root)
	// Credentials through the environment keep them off ps. Nothing else:
	// its VGW_* variables would override flags, and AWS_CA_BUNDLE, which
	// this sandbox exports, has no business here.
	cmd.Env = []string{"ROOT_ACCESS_KEY_ID=" + accessKey, "ROOT_SECRET_ACCESS_KEY=" + secretKey}
	cmd.Stdout = f
	cmd.Stderr = f
	// Should the test binary die without running its cleanups, the server
	// goes with it rather than linger on the test network.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop ends versitygw with SIGTERM, then SIGKILL after grace. It signals
// only the process it started: os.Process holds a pidfd, so a recycled PID
// cannot be hit.
func (p *process) stop(grace time.Duration) error {
	pid := p.cmd.Process.Pid
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop versitygw (pid %d): %w", pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill versitygw (pid %d): %w", pid, err)
	}
	<-p.done
	return fmt.Errorf("versitygw (pid %d) outlived SIGTERM by %s and was killed", pid, grace)
}

// waitReady polls GET endpoint/ until versitygw answers 403: it is up and
// demands a signature. Any other answer is a wrong configuration, not a
// server still starting.
func (p *process) waitReady(ctx context.Context, endpoint string) error {
	// No proxy: the server is on the test network, whatever the
	// environment says.
	tr := &http.Transport{Proxy: nil}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(endpoint + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusForbidden {
				return nil
			}
			return fmt.Errorf("GET %s/ answered %s, want 403 Forbidden", endpoint, resp.Status)
		}
		select {
		case <-p.done:
			return fmt.Errorf("versitygw exited (%v) before it answered", p.err)
		case <-ctx.Done():
			return fmt.Errorf("versitygw did not answer: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// logTail is the last n lines of the log at path, for error messages.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no versitygw log: %v)", err)
	}
	return tailLines(string(b), n)
}
