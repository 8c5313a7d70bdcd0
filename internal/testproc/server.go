package testproc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Server is a daemon a test started, such as a registry or an S3 server.
type Server struct {
	Log  string // its stdout and stderr
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited and been reaped
	err  error         // its exit status, valid after done
}

// Start runs cmd with its output appended to log. Should the test binary
// die without running its cleanups, the daemon dies with it rather than
// linger on the test network.
func Start(cmd *exec.Cmd, log string) (*Server, error) {
	name := filepath.Base(cmd.Path)
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	s := &Server{Log: log, name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

// Pid is the daemon's process ID.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop ends the daemon with SIGTERM, then SIGKILL after grace. It signals
// only the process it started: os.Process holds a pidfd, so a recycled PID
// cannot be hit.
func (s *Server) Stop(grace time.Duration) error {
	pid := s.Pid()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s (pid %d): %w", s.name, pid, err)
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(grace):
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", s.name, pid, err)
	}
	<-s.done
	return fmt.Errorf("%s (pid %d) outlived SIGTERM by %s and was killed", s.name, pid, grace)
}

// WaitHTTP polls GET url until the daemon answers want. Any other answer
// is a wrong configuration, not a daemon still starting, and so is its
// exit. The client should not use a proxy: test daemons are on the test
// network, whatever the environment says.
func (s *Server) WaitHTTP(ctx context.Context, client *http.Client, url string, want int) error {
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
			return fmt.Errorf("GET %s answered %s, want %d %s", url, resp.Status, want, http.StatusText(want))
		}
		select {
		case <-s.done:
			return fmt.Errorf("%s exited (%v) before it answered", s.name, s.err)
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer: %w", s.name, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// StartForTest is Start for a test: it fails the test if the daemon does
// not start, and stops it when the test ends, first showing the end of its
// log if the test failed.
func StartForTest(t testing.TB, cmd *exec.Cmd, log string) *Server {
	t.Helper()
	s, err := Start(cmd, log)
	if err != nil {
		t.Fatalf("testproc: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testproc: the end of %s's log:\n%s", s.name, Tail(log, 30))
		}
		if err := s.Stop(10 * time.Second); err != nil {
			t.Errorf("testproc: %v", err)
		}
	})
	return s
}
