package testhost

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// sshd is one OpenSSH server with a private config; its files live in dir
// and /etc/ssh is never touched.
type sshd struct {
	dir            string
	addr           string // listen address, host:port
	authorizedKeys string
}

func (s sshd) configPath() string { return filepath.Join(s.dir, "sshd_config") }
func (s sshd) hostKey() string    { return filepath.Join(s.dir, "ssh_host_ed25519_key") }
func (s sshd) log() string        { return filepath.Join(s.dir, "sshd.log") }
func (s sshd) knownHosts() string { return filepath.Join(s.dir, "known_hosts") }

// home is HOME for SSH sessions: see config.
func (s sshd) home() string { return filepath.Join(s.dir, "home") }

// argv is sshd's own command line; sshd wants an absolute path to re-exec.
func (s sshd) argv(bin string) []string {
	return []string{bin, "-f", s.configPath(), "-D", "-E", s.log()}
}

// daemon describes this sshd started by args, which end with argv.
func (s sshd) daemon(name string, args []string) daemon {
	return daemon{
		name:    name,
		args:    args,
		pidFile: filepath.Join(s.dir, "sshd.pid"),
		log:     s.log(),
		marker:  "-f " + s.configPath(),
	}
}

// config renders sshd_config. The host key goes into a comment so that a new
// key changes the file, which is what makes Up restart sshd.
func (s sshd) config(hostKey string) (string, error) {
	host, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		return "", err
	}
	lines := []string{
		"# Written by ship's testhost package. Host key: " + hostKey,
		"Port " + port, // must precede ListenAddress
		"ListenAddress " + host,
		"HostKey " + s.hostKey(),
		"PidFile none", // testhost keeps its own; the default would clobber the system sshd's
		"AuthorizedKeysFile " + s.authorizedKeys,
		"UsePAM no",
		"StrictModes no",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		// Dead clients are dropped after about 6 s, so locks they held are freed.
		"ClientAliveInterval 2",
		"ClientAliveCountMax 3",
		"MaxSessions 10",
		// Parallel test binaries connect at once; the default 10:30:100
		// starts dropping handshakes at 10.
		"MaxStartups 100",
		"AllowTcpForwarding yes",
		// ship reaches /var/run/docker.sock through streamlocal forwarding.
		"AllowStreamLocalForwarding yes",
		"X11Forwarding no",
		"PrintMotd no",
		// Sessions get an empty home of their own instead of /root: bash run
		// by sshd sources ~/.bashrc, and this machine's runs pyenv init,
		// which costs 300 ms a command and, when a session is killed midway,
		// leaves a lock that stalls every later session for 60 s. It also
		// keeps h1's and h2's ~ apart, as on two real hosts.
		"SetEnv HOME=" + s.home(),
		"Subsystem sftp /usr/lib/openssh/sftp-server",
	}
	return strings.Join(lines, "\n") + "\n", nil
}

// prepare creates the host key, writes sshd_config and known_hosts, and
// reports whether sshd_config changed.
func (s sshd) prepare(ctx context.Context) (changed bool, err error) {
	if err := os.MkdirAll(s.home(), 0o700); err != nil {
		return false, err
	}
	if err := ensureKey(ctx, s.hostKey(), "ship testhost "+s.addr); err != nil {
		return false, err
	}
	key, err := publicKey(s.hostKey() + ".pub")
	if err != nil {
		return false, err
	}
	cfg, err := s.config(key)
	if err != nil {
		return false, err
	}
	known, err := knownHostsLine(s.addr, key)
	if err != nil {
		return false, err
	}
	if _, err := writeIfChanged(s.knownHosts(), known, 0o644); err != nil {
		return false, err
	}
	return writeIfChanged(s.configPath(), cfg, 0o644)
}

// answers checks that an SSH server greets on addr.
func answers(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read SSH banner from %s: %w", addr, err)
	}
	if !strings.HasPrefix(line, "SSH-2.0-") {
		return fmt.Errorf("%s answers %q, not SSH", addr, line)
	}
	return nil
}

// freePort asks the kernel for a loopback port nobody listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}
