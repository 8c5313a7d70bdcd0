// Package ssh runs commands and opens sockets on servers over SSH, with
// strict host key checking and one shared connection per host.
package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Config is how to reach and authenticate to servers (Kamal's ssh: section).
type Config struct {
	User              string        // default "root"
	Port              int           // default 22; used when a host has no ":port"
	Keys              []string      // private key file paths (~ expanded)
	KeyData           []string      // PEM private keys given inline (from secrets)
	KeysOnly          bool          // only Keys/KeyData: no agent, no default ~/.ssh/id_* keys
	KnownHosts        []string      // extra known_hosts files; ~/.ssh/known_hosts is always consulted too
	Proxy             string        // jump host "[user@]host[:port]"; User and port 22 by default
	ProxyCommand      string        // run with sh -c locally, %h %n %p %r (quoted) and %% substituted; its stdio is the transport
	ConnectTimeout    time.Duration // default 10s
	KeepaliveInterval time.Duration // default 5s; the connection is closed after 3 unanswered keepalives
}

func (cfg Config) withDefaults() Config {
	if cfg.User == "" {
		cfg.User = "root"
	}
	if cfg.Port == 0 {
		cfg.Port = 22
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.KeepaliveInterval == 0 {
		cfg.KeepaliveInterval = 5 * time.Second
	}
	return cfg
}

var errPoolClosed = errors.New("ssh: pool closed")

// Pool holds one connection per host, shared by everything a command does.
type Pool struct {
	cfg    Config
	ctx    context.Context // cancelled by Close; bounds dials
	cancel context.CancelFunc

	mu    sync.Mutex
	conns map[string]*Conn
}

func NewPool(cfg Config) *Pool {
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{cfg: cfg.withDefaults(), ctx: ctx, cancel: cancel, conns: make(map[string]*Conn)}
}

// Conn returns the connection for host ("name", "name:port", "1.2.3.4",
// "[::1]:22"). Nothing is dialled until it is used.
func (p *Pool) Conn(host string) *Conn {
	addr, err := hostPort(host, p.cfg.Port)
	key := addr
	if err != nil {
		key = host
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.conns[key]
	if c == nil {
		c = &Conn{pool: p, host: host, addr: addr, addrErr: err, sessions: make(chan struct{}, maxSessions), killers: make(chan struct{}, killSessions)}
		p.conns[key] = c
	}
	return c
}

// Close closes every connection; later use of the pool's Conns fails.
func (p *Pool) Close() error {
	p.cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.close()
	}
	return nil
}

// Conn is the shared connection to one host. It dials lazily and redials
// when the connection has dropped.
type Conn struct {
	pool     *Pool
	host     string // as given, for messages
	addr     string // "host:port"
	addrErr  error
	sessions chan struct{} // bounds concurrent exec sessions, see maxSessions
	killers  chan struct{} // bounds sessions that kill cancelled commands

	mu      sync.Mutex
	live    *live     // current connection; nil before the first dial or after a drop
	dialing *dialCall // dial in progress, shared by concurrent callers
}

type live struct {
	client *gossh.Client
	done   chan struct{} // closed when the connection has ended
}

type dialCall struct {
	done   chan struct{}
	client *gossh.Client
	err    error
}

func (c *Conn) Host() string { return c.host }

// Client returns a live client, dialling or redialling as needed.
// Concurrent callers share one dial; ctx only bounds the caller's wait.
func (c *Conn) Client(ctx context.Context) (*gossh.Client, error) {
	if c.addrErr != nil {
		return nil, fmt.Errorf("ssh: %w", c.addrErr)
	}
	c.mu.Lock()
	if l := c.live; l != nil {
		select {
		case <-l.done:
		default:
			c.mu.Unlock()
			return l.client, nil
		}
	}
	if c.pool.ctx.Err() != nil {
		c.mu.Unlock()
		return nil, errPoolClosed
	}
	call := c.dialing
	if call == nil {
		call = &dialCall{done: make(chan struct{})}
		c.dialing = call
		go c.dial(call)
	}
	c.mu.Unlock()

	select {
	case <-call.done:
		return call.client, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dial runs detached from any caller's context, so one impatient caller
// does not fail the dial for the others waiting on it.
func (c *Conn) dial(call *dialCall) {
	cfg := c.pool.cfg
	ctx, cancel := context.WithTimeout(c.pool.ctx, cfg.ConnectTimeout)
	defer cancel()
	client, err := dial(ctx, cfg, c.host, c.addr)

	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && c.pool.ctx.Err() != nil {
		client.Close()
		client, err = nil, errPoolClosed
	}
	if err == nil {
		l := &live{client: client, done: make(chan struct{})}
		go func() {
			client.Wait()
			close(l.done)
		}()
		go keepalive(client, cfg.KeepaliveInterval, l.done)
		c.live = l
	}
	call.client, call.err = client, err
	c.dialing = nil
	close(call.done)
}

// drop forgets client after it turned out to be dead, so the next use redials.
func (c *Conn) drop(client *gossh.Client) {
	c.mu.Lock()
	if c.live != nil && c.live.client == client {
		c.live = nil
	}
	c.mu.Unlock()
	client.Close()
}

func (c *Conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live != nil {
		c.live.client.Close()
		c.live = nil
	}
}

// withClient runs fn on a live client. A dropped connection is often only
// noticed when used, so if fn failed and the connection is dead, it redials
// once and tries again. Dial errors already name the host; fn's errors get
// the host and what it was doing.
func withClient[T any](ctx context.Context, c *Conn, what string, fn func(*gossh.Client) (T, error)) (T, error) {
	var zero T
	client, err := c.Client(ctx)
	if err != nil {
		return zero, err
	}
	v, err := fn(client)
	if err != nil && c.dead(ctx, client, err) {
		c.drop(client)
		if client, err = c.Client(ctx); err != nil {
			return zero, err
		}
		v, err = fn(client)
	}
	if err != nil {
		return zero, fmt.Errorf("ssh %s: %s: %w", c.host, what, err)
	}
	return v, nil
}

// dead reports whether err from client means the connection is gone,
// rather than, say, the server refusing one channel.
func (c *Conn) dead(ctx context.Context, client *gossh.Client, err error) bool {
	var refused *gossh.OpenChannelError
	if errors.As(err, &refused) || ctx.Err() != nil {
		return false
	}
	return !ping(client, c.pool.cfg.KeepaliveInterval)
}

// DialContext opens a socket on the server through the SSH connection,
// e.g. ("unix", "/var/run/docker.sock") or ("tcp", "127.0.0.1:5432").
func (c *Conn) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return withClient(ctx, c, "dial "+network+" "+addr, func(client *gossh.Client) (net.Conn, error) {
		return client.DialContext(ctx, network, addr)
	})
}

// dial opens an authenticated client for addr, verifying its host key.
// host is the name as configured, for messages.
func dial(ctx context.Context, cfg Config, host, addr string) (*gossh.Client, error) {
	keys, err := loadHostKeys(cfg.KnownHosts)
	if err != nil {
		return nil, err
	}
	a := newAuth(cfg)
	defer a.close()
	if len(a.signers) == 0 {
		return nil, a.noKeyError(cfg.User, host)
	}
	conn, err := transport(ctx, cfg, addr)
	if err != nil {
		return nil, fmt.Errorf("ssh %s@%s: %w", cfg.User, host, err)
	}
	known := keys.known(addr)
	client, err := handshake(ctx, conn, addr, &gossh.ClientConfig{
		User:              cfg.User,
		Auth:              []gossh.AuthMethod{gossh.PublicKeys(a.signers...)},
		HostKeyCallback:   keys.callback(host),
		HostKeyAlgorithms: hostKeyAlgorithms(known),
	})
	var hke *HostKeyError
	var ane *gossh.AlgorithmNegotiationError
	switch {
	case err == nil:
		// Closing the transport also closes a jump host client or proxy command.
		go func() {
			client.Wait()
			conn.Close()
		}()
		return client, nil
	case errors.As(err, &hke):
		return nil, hke
	case errors.As(err, &ane) && ane.What == "host key" && len(known) > 0:
		return nil, &HostKeyError{Host: host, Addr: addr, Known: known, Files: keys.files}
	case strings.Contains(err.Error(), "ssh: unable to authenticate"): // x/crypto has no error type for it
		return nil, a.failedError(cfg.User, host)
	}
	return nil, fmt.Errorf("ssh %s@%s: %w%s", cfg.User, host, err, proxyStderr(conn))
}

// handshake runs the SSH handshake on conn, aborting it when ctx ends.
func handshake(ctx context.Context, conn net.Conn, addr string, cc *gossh.ClientConfig) (*gossh.Client, error) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, chans, reqs, err := gossh.NewClientConn(conn, addr, cc)
	if !stop() {
		if err == nil {
			c.Close()
		}
		return nil, fmt.Errorf("handshake with %s: %w", addr, ctx.Err())
	}
	if err != nil {
		return nil, err
	}
	return gossh.NewClient(c, chans, reqs), nil
}
