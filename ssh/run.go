package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// maxSessions stays below sshd's default MaxSessions (10), the limit of exec
// sessions per connection; beyond it channel opens fail. Forwarded sockets
// (DialContext) do not count. The remaining two are for killSessions.
const (
	maxSessions  = 8
	killSessions = 2
)

// Cmd is a command to run on the server.
type Cmd struct {
	Args   []string // argv; each word is quoted with Quote
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// ExitError is a remote command that exited with a non-zero status.
type ExitError struct {
	Status int    // 128+n when killed by signal n
	Stderr string // the end of its stderr
}

func (e *ExitError) Error() string {
	if e.Stderr == "" {
		return fmt.Sprintf("exit status %d", e.Status)
	}
	return fmt.Sprintf("exit status %d: %s", e.Status, e.Stderr)
}

// Run runs cmd on the server and waits for it. A non-zero exit is an
// *ExitError (wrapped with the host). If ctx ends first the remote process
// is killed and Run returns ctx.Err().
func (c *Conn) Run(ctx context.Context, cmd Cmd) error {
	if len(cmd.Args) == 0 {
		return errors.New("ssh: run: empty command")
	}
	return c.run(ctx, cmd, "run "+cmd.Args[0])
}

// run is Run with errors saying "ssh HOST: WHAT: ...".
func (c *Conn) run(ctx context.Context, cmd Cmd, what string) error {
	select {
	case c.sessions <- struct{}{}:
		defer func() { <-c.sessions }()
	case <-ctx.Done():
		return ctx.Err()
	}
	sess, err := withClient(ctx, c, what, newSession)
	if err != nil {
		return err
	}
	defer sess.Close()

	stderr := &tail{}
	var w io.Writer = stderr
	if cmd.Stderr != nil {
		w = io.MultiWriter(cmd.Stderr, stderr)
	}
	pid := newPidWriter(w)
	sess.Stdin, sess.Stdout, sess.Stderr = cmd.Stdin, cmd.Stdout, pid
	// The shell sshd starts leads the session's process group; its pid
	// comes first on stderr so that a cancel can kill the whole group.
	if err := sess.Start(`echo "$$" >&2; ` + Quote(cmd.Args...)); err != nil {
		return fmt.Errorf("ssh %s: %s: %w", c.host, what, err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// sshd refuses signal requests for root logins ("session signalling
		// requires privilege separation"), hence the kill from another session.
		sess.Signal(gossh.SIGKILL)
		if err := c.killGroup(pid, done); err != nil {
			return fmt.Errorf("%w; the remote command may still be running: %w", ctx.Err(), err)
		}
		return ctx.Err()
	}
	var exit *gossh.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit):
		err = &ExitError{Status: exit.ExitStatus(), Stderr: stderr.String()}
	}
	return fmt.Errorf("ssh %s: %s: %w", c.host, what, err)
}

// newSession opens a session, retrying briefly when sshd refuses it: sshd
// frees a closed session's slot only on a later pass of its main loop, so
// opens right behind closes can hit MaxSessions even below maxSessions.
func newSession(client *gossh.Client) (*gossh.Session, error) {
	for delay := time.Millisecond; ; delay *= 2 {
		sess, err := client.NewSession()
		var refused *gossh.OpenChannelError
		if !errors.As(err, &refused) || delay > 100*time.Millisecond {
			return sess, err
		}
		time.Sleep(delay)
	}
}

// Output runs args and returns its stdout; stderr ends up in the error.
func (c *Conn) Output(ctx context.Context, args ...string) ([]byte, error) {
	var stdout bytes.Buffer
	err := c.Run(ctx, Cmd{Args: args, Stdout: &stdout})
	return stdout.Bytes(), err
}

// killGroup kills the process group of a cancelled command. Its pid comes
// on stderr, which the session copies apart from stdout, so it can arrive
// just after the cancel: wait for it, unless the command ends first.
func (c *Conn) killGroup(pid *pidWriter, done <-chan error) error {
	timeout := time.NewTimer(c.pool.cfg.ConnectTimeout)
	defer timeout.Stop()
	select {
	case <-pid.read:
	case <-done:
		return nil
	case <-timeout.C:
		return errors.New("its process id never arrived")
	}
	pgid := pid.pid.Load()
	if pgid <= 0 {
		return errors.New("its process id was not the first line of its stderr")
	}
	return c.kill(pgid)
}

// kill sends SIGKILL to the remote process group pgid from a new session.
// sshd may refuse new sessions for a moment when it is busy, so the kill
// is tried again until the connect timeout: a kill given up on leaves a
// process running on the server.
func (c *Conn) kill(pgid int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.pool.cfg.ConnectTimeout)
	defer cancel()
	select {
	case c.killers <- struct{}{}:
		defer func() { <-c.killers }()
	case <-ctx.Done():
		return fmt.Errorf("kill process group %d: %w", pgid, ctx.Err())
	}
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		err := c.killOnce(ctx, pgid)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kill process group %d: %w", pgid, err)
		case <-time.After(delay):
		}
	}
}

// killOnce is one attempt of kill. kill(1) failing because the group is
// already gone is success.
func (c *Conn) killOnce(ctx context.Context, pgid int64) error {
	sess, err := withClient(ctx, c, "kill", newSession)
	if err != nil {
		return err
	}
	defer sess.Close()
	err = sess.Run(Quote("kill", "-s", "KILL", "--", "-"+strconv.FormatInt(pgid, 10)))
	var exit *gossh.ExitError
	if errors.As(err, &exit) {
		return nil
	}
	return err
}

// pidWriter takes the first line written to it as a pid and passes the
// rest on. Only the session's stderr copier writes to it.
type pidWriter struct {
	w    io.Writer
	line []byte // the first line, until its newline arrives
	done bool
	pid  atomic.Int64
	read chan struct{} // closed once the first line is in
}

func newPidWriter(w io.Writer) *pidWriter {
	return &pidWriter{w: w, read: make(chan struct{})}
}

func (p *pidWriter) Write(b []byte) (int, error) {
	if p.done {
		return p.w.Write(b)
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		p.line = append(p.line, b...)
		return len(b), nil
	}
	p.done = true
	defer close(p.read)
	line, rest := append(p.line, b[:i+1]...), b[i+1:]
	if pid, err := strconv.ParseInt(string(line[:len(line)-1]), 10, 64); err == nil {
		p.pid.Store(pid)
	} else {
		// Not ours: something (a noisy ~/.bashrc) wrote first. Keep it.
		rest = append(line, rest...)
	}
	if _, err := p.w.Write(rest); err != nil {
		return 0, err
	}
	return len(b), nil
}

// tailSize is how much of a command's stderr an error keeps.
const tailSize = 4096

// tail keeps the last tailSize bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > tailSize {
		b = b[len(b)-tailSize:]
	}
	return strings.TrimSpace(string(b))
}
