package ssh

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/shipdeploy/ship/internal/testhost"
)

// hostConfig is a Config that reaches hosts with their test key and
// known_hosts only, whatever the developer's ~/.ssh holds.
func hostConfig(t *testing.T, hosts ...*testhost.Host) Config {
	isolateHome(t)
	cfg := Config{User: hosts[0].User, KeysOnly: true}
	for _, h := range hosts {
		cfg.Keys = append(cfg.Keys, h.KeyPath)
		cfg.KnownHosts = append(cfg.KnownHosts, h.KnownHostsPath)
	}
	return cfg
}

func newPool(t *testing.T, cfg Config) *Pool {
	p := NewPool(cfg)
	t.Cleanup(func() { p.Close() })
	return p
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestConfigDefaults(t *testing.T) {
	cfg := Config{}.withDefaults()
	if cfg.User != "root" || cfg.Port != 22 || cfg.ConnectTimeout != 10*time.Second || cfg.KeepaliveInterval != 5*time.Second {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestPoolConnPerHost(t *testing.T) {
	p := NewPool(Config{})
	defer p.Close()
	if p.Conn("web1") != p.Conn("web1:22") || p.Conn("web1") == p.Conn("web2") {
		t.Error("one Conn per host:port expected")
	}
	if p.Conn("web1").Host() != "web1" {
		t.Errorf("Host() = %q", p.Conn("web1").Host())
	}
	if _, err := p.Conn("web1:x").Client(context.Background()); err == nil || !strings.Contains(err.Error(), `invalid host "web1:x"`) {
		t.Errorf("bad host: %v", err)
	}
}

// TestDockerSocket talks to each host's own Docker engine through the SSH
// connection, as ship's Docker client does.
func TestDockerSocket(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	ctx := testContext(t)
	p := newPool(t, hostConfig(t, h1, h2))
	for _, h := range []*testhost.Host{h1, h2} {
		conn, err := p.Conn(h.Addr).DialContext(ctx, "unix", "/var/run/docker.sock")
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", "http://docker/_ping", nil)
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		body := make([]byte, 2)
		resp.Body.Read(body)
		conn.Close()
		if resp.StatusCode != 200 || string(body) != "OK" {
			t.Errorf("%s: /_ping answered %s %q", h.Name, resp.Status, body)
		}
	}
	if _, err := p.Conn(h1.Addr).DialContext(ctx, "unix", "/nonexistent.sock"); err == nil {
		t.Error("dial to a missing socket succeeded")
	}
	// A refused channel says nothing about the connection: it is kept.
	if _, err := p.Conn(h1.Addr).Output(ctx, "true"); err != nil {
		t.Error(err)
	}
}

func TestAuthFailure(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	cfg := hostConfig(t, h1)
	cfg.Keys = nil
	cfg.KeyData = []string{newKeyPEM(t, "")}
	_, err := newPool(t, cfg).Conn(h1.Addr).Output(testContext(t), "true")
	if err == nil || !strings.Contains(err.Error(), "ssh root@"+h1.Addr+": authentication failed; tried key_data[0] (ssh-ed25519 SHA256:") {
		t.Errorf("got %v", err)
	}
}

// TestRedial restarts sshd under an open connection: the next Run must work
// on a new connection, without the caller doing anything.
func TestRedial(t *testing.T) {
	s := testhost.NewSSHD(t)
	ctx := testContext(t)
	c := newPool(t, hostConfig(t, &s.Host)).Conn(s.Host.Addr)
	first, err := c.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s.Start()
	if out, err := c.Output(ctx, "echo", "hi"); err != nil || string(out) != "hi\n" {
		t.Fatalf("after restart: %q, %v", out, err)
	}
	if second, _ := c.Client(ctx); second == first {
		t.Error("still on the old connection")
	}
}

// TestSharedRedial checks that concurrent callers share one dial.
func TestSharedRedial(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	c := newPool(t, hostConfig(t, h1)).Conn(h1.Addr)
	for round := range 2 {
		clients := make([]*gossh.Client, 20)
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				var err error
				if clients[i], err = c.Client(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, cl := range clients {
			if cl != clients[0] {
				t.Fatalf("round %d: concurrent callers got different connections", round)
			}
		}
		clients[0].Close() // the second round redials
		<-waitDone(c)
	}
}

// waitDone returns a channel closed when c's current connection has ended.
func waitDone(c *Conn) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live.done
}

func TestPoolClose(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	p := NewPool(hostConfig(t, h1))
	c := p.Conn(h1.Addr)
	if _, err := c.Output(ctx, "true"); err != nil {
		t.Fatal(err)
	}
	done := waitDone(c)
	p.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("connection still open after Close")
	}
	if _, err := c.Output(ctx, "true"); !errors.Is(err, errPoolClosed) {
		t.Errorf("after Close: %v", err)
	}
}
