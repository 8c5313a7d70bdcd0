package testhost

import (
	"context"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SSHD is a throwaway sshd in front of the main engine, for tests that stop,
// restart or freeze an SSH server. It dies with the test.
type SSHD struct {
	Host Host

	t    testing.TB
	srv  sshd
	mu   sync.Mutex
	proc *process // nil while stopped
}

// NewSSHD starts an sshd with a host key of its own on a fresh loopback port.
// It accepts the shared client key (Host.KeyPath) and is killed by t.Cleanup.
func NewSSHD(t testing.TB) *SSHD {
	t.Helper()
	h1, _ := Hosts(t)
	dir := t.TempDir()
	s := &SSHD{t: t}
	var err error
	// Another process may take the free port before sshd binds it: try another.
	for range 3 {
		var port int
		if port, err = freePort(); err != nil {
			break
		}
		s.srv = sshd{dir: dir, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), authorizedKeys: authorizedKeys(Dir())}
		if _, err = s.srv.prepare(context.Background()); err != nil {
			break
		}
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("testhost: new sshd: %v", err)
	}
	t.Cleanup(s.Stop)
	_, port, _ := net.SplitHostPort(s.srv.addr)
	s.Host = Host{
		Name:           "sshd-" + port,
		Addr:           s.srv.addr,
		User:           "root",
		KeyPath:        h1.KeyPath,
		KnownHostsPath: s.srv.knownHosts(),
		DockerHost:     h1.DockerHost,
	}
	return s
}

// Start starts sshd again on the same port with the same keys, unless it runs.
func (s *SSHD) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && !s.proc.exited() {
		return
	}
	if err := s.start(); err != nil {
		s.t.Fatalf("testhost: start sshd on %s: %v", s.srv.addr, err)
	}
}

func (s *SSHD) start() error {
	bin, err := lookBin("sshd")
	if err != nil {
		return err
	}
	// Pdeathsig: should the test binary die without cleanup, sshd goes too.
	p, err := spawn(s.srv.argv(bin), s.srv.log(), &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL})
	if err != nil {
		return err
	}
	if err := p.waitReady(context.Background(), 10*time.Second, func(ctx context.Context) error { return answers(ctx, s.srv.addr) }); err != nil {
		p.stop(time.Second)
		return withLog(err, s.srv.log())
	}
	s.proc = p
	return nil
}

// Stop kills sshd, the listener and every session it has forked, and
// returns once the listener is gone and its port free. A stopped sshd is
// left as it is.
func (s *SSHD) Stop() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	// Once reaped, its pid may belong to someone else: do not signal it.
	if !s.proc.exited() {
		killTree(s.proc.pid)
		select {
		case <-s.proc.done:
		case <-time.After(10 * time.Second):
			s.t.Errorf("testhost: sshd pid %d still running 10s after SIGKILL", s.proc.pid)
		}
	}
	s.proc = nil
}

// Pid is the listener's pid, or 0 while stopped.
func (s *SSHD) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.pid
}
