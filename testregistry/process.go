package testregistry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is the docker-registry we started; done is closed once it has
// exited and been reaped.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, valid after done
}

// startRegistry runs bin serve config with its output appended to log.
func startRegistry(bin, config, log string) (*process, error) {
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open registry log: %w", err)
	}
	defer f.Close()
	cmd := exec.Command(bin, "serve", config)
	// REGISTRY_* variables would override the config file: pass none.
	cmd.Env = []string{}
	cmd.Stdout = f
	cmd.Stderr = f
	// Should the test binary die without running its cleanups, the
	// registry goes with it rather than linger on the test network.
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

// stop ends the registry with SIGTERM, then SIGKILL after grace. It signals
// only the process it started: os.Process holds a pidfd, so a recycled PID
// cannot be hit.
func (p *process) stop(grace time.Duration) error {
	pid := p.cmd.Process.Pid
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop docker-registry (pid %d): %w", pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill docker-registry (pid %d): %w", pid, err)
	}
	<-p.done
	return fmt.Errorf("docker-registry (pid %d) outlived SIGTERM by %s and was killed", pid, grace)
}

// waitReady polls GET https://addr/v2/, trusting only the CA in caPEM, until
// the registry answers 401: it is up, serves TLS with our certificate and
// demands a password. Any other answer is a wrong configuration, not a
// registry still starting.
func (p *process) waitReady(ctx context.Context, addr string, caPEM []byte) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return errors.New("the registry's CA certificate does not parse")
	}
	// No proxy: the registry is on the test network, whatever the
	// environment says.
	tr := &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	url := "https://" + addr + "/v2/"
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
			return fmt.Errorf("GET %s answered %s, want 401 Unauthorized", url, resp.Status)
		}
		select {
		case <-p.done:
			return fmt.Errorf("docker-registry exited (%v) before it answered", p.err)
		case <-ctx.Done():
			return fmt.Errorf("docker-registry did not answer: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// logTail is the last n lines of the registry's log, for error messages.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no registry log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
