package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"time"
	"unicode"

	gossh "golang.org/x/crypto/ssh"
)

// transport opens the byte stream the SSH connection to addr runs over:
// plain TCP, a channel through the jump host, or a proxy command's stdio.
func transport(ctx context.Context, cfg Config, addr string) (net.Conn, error) {
	switch {
	case cfg.Proxy != "" && cfg.ProxyCommand != "":
		return nil, errors.New("ssh proxy and proxy_command cannot both be set")
	case cfg.ProxyCommand != "":
		return proxyCommand(cfg, addr)
	case cfg.Proxy != "":
		return jump(ctx, cfg, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// jump connects to addr through the jump host cfg.Proxy, whose host key is
// verified like any other.
func jump(ctx context.Context, cfg Config, addr string) (net.Conn, error) {
	user, jumpAddr, err := userHostPort(cfg.Proxy, cfg.User, 22)
	if err != nil {
		return nil, fmt.Errorf("ssh proxy: %w", err)
	}
	jumpCfg := cfg
	jumpCfg.User, jumpCfg.Proxy = user, ""
	jumpHost := cfg.Proxy[strings.LastIndex(cfg.Proxy, "@")+1:] // without the user
	client, err := dial(ctx, jumpCfg, jumpHost, jumpAddr)
	if err != nil {
		return nil, fmt.Errorf("jump host: %w", err)
	}
	conn, err := client.DialContext(ctx, "tcp", addr)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("jump host %s: connect to %s: %w", jumpHost, addr, err)
	}
	return &jumpConn{Conn: conn, jump: client}, nil
}

// jumpConn is a tunnelled connection that owns the jump host client.
type jumpConn struct {
	net.Conn
	jump *gossh.Client
}

func (c *jumpConn) Close() error {
	err := c.Conn.Close()
	c.jump.Close()
	return err
}

// proxyCommand runs cfg.ProxyCommand and uses its stdin and stdout as the
// connection to addr, like OpenSSH's ProxyCommand.
func proxyCommand(cfg Config, addr string) (net.Conn, error) {
	host, port, _ := net.SplitHostPort(addr)
	if err := CheckUser(cfg.User); err != nil {
		return nil, fmt.Errorf("proxy command: %w", err)
	}
	line, err := expandProxyCommand(cfg.ProxyCommand, host, port, cfg.User)
	if err != nil {
		return nil, fmt.Errorf("proxy command: %w", err)
	}
	cmd := exec.Command("sh", "-c", line)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := &tail{}
	cmd.Stderr = stderr
	// A child that keeps stderr open must not make Close hang.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("proxy command: %w", err)
	}
	return &cmdConn{cmd: cmd, stdin: stdin, stdout: stdout, stderr: stderr, addr: proxyAddr(addr)}, nil
}

// expandProxyCommand puts the host (%h, and %n: ship has no host aliases,
// so the name as given is the host), port (%p) and user (%r) into a proxy
// command, each quoted for sh where it needs it, so that no value runs as
// code (the pattern of OpenSSH's CVE-2023-51385). ssh_config(5) gives
// ProxyCommand these tokens and %%; any other is an error, as in OpenSSH.
// A token inside double quotes ("%r") is not protected by the quoting:
// CheckUser refuses the characters that would matter there.
func expandProxyCommand(command, host, port, user string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(command); i++ {
		c := command[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(command) {
			return "", errors.New("it ends in a lone %: write %% for a literal %")
		}
		i++
		switch command[i] {
		case '%':
			b.WriteByte('%')
		case 'h', 'n':
			b.WriteString(quoteWord(host))
		case 'p':
			b.WriteString(quoteWord(port))
		case 'r':
			b.WriteString(quoteWord(user))
		default:
			return "", fmt.Errorf("%%%c is not a token ship expands: use %%h, %%n, %%p, %%r, or %%%% for a literal %%", command[i])
		}
	}
	return b.String(), nil
}

// CheckProxyCommand reports a % token in an ssh proxy_command that ship
// would not expand, before any host is contacted.
func CheckProxyCommand(command string) error {
	_, err := expandProxyCommand(command, "host", "22", "user")
	return err
}

// CheckUser applies OpenSSH's rule for user names (ssh.c valid_ruser),
// stricter still: none of ' " ` ; & | $ ( ) < > { } \, no blank or
// control character, no leading -. A user name reaches a local shell
// through a proxy command's %r; these keep it from doing anything there.
func CheckUser(user string) error {
	switch {
	case user == "":
		return errors.New("user name is empty")
	case strings.HasPrefix(user, "-"):
		return fmt.Errorf("user %q may not start with - (OpenSSH refuses that too)", user)
	}
	for _, r := range user {
		if strings.ContainsRune("'\"`;&|$()<>{}\\", r) || unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("user %q may not contain ' \" ` ; & | $ ( ) < > { } \\, blanks or control characters (OpenSSH refuses most of these too)", user)
		}
	}
	return nil
}

// cmdConn is a proxy command's stdio as a net.Conn.
type cmdConn struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.Reader
	stderr *tail
	addr   proxyAddr
	closed sync.Once
}

func (c *cmdConn) Read(p []byte) (int, error)  { return c.stdout.Read(p) }
func (c *cmdConn) Write(p []byte) (int, error) { return c.stdin.Write(p) }

func (c *cmdConn) Close() error {
	c.closed.Do(func() {
		c.stdin.Close()
		c.cmd.Process.Kill()
		c.cmd.Wait()
	})
	return nil
}

// The addresses matter: knownhosts parses RemoteAddr as host:port.
func (c *cmdConn) LocalAddr() net.Addr  { return c.addr }
func (c *cmdConn) RemoteAddr() net.Addr { return c.addr }

func (c *cmdConn) SetDeadline(time.Time) error      { return errors.ErrUnsupported }
func (c *cmdConn) SetReadDeadline(time.Time) error  { return errors.ErrUnsupported }
func (c *cmdConn) SetWriteDeadline(time.Time) error { return errors.ErrUnsupported }

type proxyAddr string

func (a proxyAddr) Network() string { return "proxycommand" }
func (a proxyAddr) String() string  { return string(a) }

// proxyStderr returns what a failed proxy command printed, which is usually
// the real reason the handshake failed.
func proxyStderr(conn net.Conn) string {
	if c, ok := conn.(*cmdConn); ok {
		if s := c.stderr.String(); s != "" {
			return " (proxy command: " + s + ")"
		}
	}
	return ""
}
