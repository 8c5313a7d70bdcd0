package ssh

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testhost"
)

// TestJumpHost reaches h2 through h1, as Kamal's ssh.proxy does.
func TestJumpHost(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	ctx := testContext(t)
	cfg := hostConfig(t, h1, h2)
	cfg.Proxy = "root@" + h1.Addr
	c := newPool(t, cfg).Conn(h2.Addr)
	out, err := c.Output(ctx, "sh", "-c", "echo $SSH_CONNECTION")
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(out)); len(f) != 4 || f[2] != "10.99.0.2" {
		t.Errorf("SSH_CONNECTION on h2: %q", out)
	}
	conn, err := c.DialContext(ctx, "unix", "/var/run/docker.sock")
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

// TestJumpHostCarriesTraffic checks that the connection really goes through
// the jump host: when it dies, so does the connection to the target.
func TestJumpHostCarriesTraffic(t *testing.T) {
	_, h2 := testhost.Hosts(t)
	jump := testhost.NewSSHD(t)
	ctx := testContext(t)
	cfg := hostConfig(t, &jump.Host, h2)
	cfg.Proxy = jump.Host.Addr
	c := newPool(t, cfg).Conn(h2.Addr)
	if _, err := c.Output(ctx, "true"); err != nil {
		t.Fatal(err)
	}
	done := waitDone(c)
	jump.Stop()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("connection to h2 survived its jump host")
	}
	if _, err := c.Output(ctx, "true"); err == nil || !strings.Contains(err.Error(), "jump host") {
		t.Errorf("with the jump host down: %v", err)
	}
}

func TestJumpHostKeyVerified(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	cfg := hostConfig(t, h1, h2)
	cfg.KnownHosts = []string{h2.KnownHostsPath}
	cfg.Proxy = h1.Addr
	_, err := newPool(t, cfg).Conn(h2.Addr).Output(testContext(t), "true")
	var hke *HostKeyError
	if !errors.As(err, &hke) || hke.Host != h1.Addr || !strings.Contains(err.Error(), ": jump host: ssh: host key for "+h1.Addr+" is unknown") {
		t.Errorf("got %v", err)
	}
}

// TestProxyCommand reaches h2 through `ssh -W`, the usual ProxyCommand.
func TestProxyCommand(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	ctx := testContext(t)
	cfg := hostConfig(t, h1, h2)
	host, port, _ := net.SplitHostPort(h1.Addr)
	cfg.ProxyCommand = Quote("ssh", "-W", "%h:%p", "-i", h1.KeyPath, "-p", port,
		"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile="+h1.KnownHostsPath, "-o", "GlobalKnownHostsFile=/dev/null",
		"root@"+host)
	out, err := newPool(t, cfg).Conn(h2.Addr).Output(ctx, "sh", "-c", "echo $SSH_CONNECTION")
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(out)); len(f) != 4 || f[2] != "10.99.0.2" {
		t.Errorf("SSH_CONNECTION on h2: %q", out)
	}

	cfg.ProxyCommand = "echo no route to %h port %p >&2; exit 1"
	_, err = newPool(t, cfg).Conn(h2.Addr).Output(ctx, "true")
	if err == nil || !strings.Contains(err.Error(), "no route to 10.99.0.2 port 22") {
		t.Errorf("failing proxy command: %v", err)
	}
}
