// Package engine reaches a host's Docker Engine API through its SSH
// connection: ship dials the remote /var/run/docker.sock as an SSH
// streamlocal channel, so no Docker port is ever opened on a host and no
// `docker` command line is built for what the API can do.
package engine

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/docker/docker/client"
)

// Socket is where Docker Engine listens on a host.
const Socket = "/var/run/docker.sock"

// Dialer opens a connection to an address on the host, such as an
// *ssh.Conn does through its SSH connection.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns a Docker API client for the engine behind d. The client
// negotiates the API version, so Engine 20.10 (API 1.41) and newer work.
func New(d Dialer) (*client.Client, error) {
	cli, err := client.NewClientWithOpts(
		client.WithHost("unix://"+Socket),
		client.WithDialContext(func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", Socket)
		}),
		client.WithAPIVersionNegotiation(),
		withWriteBuffer(writeBuffer),
	)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return cli, nil
}

// writeBuffer is each API connection's write buffer. The client flushes a
// chunked request body (an image load) after every chunk: with the
// default 4 KB one a 32 KB chunk left in three writes, so three SSH
// packets, one of them 2 bytes; with room for a whole chunk it leaves in
// one (see delivery's bodyChunk).
const writeBuffer = 64 << 10

// withWriteBuffer sets the write buffer of the client's HTTP transport.
func withWriteBuffer(size int) client.Opt {
	return func(c *client.Client) error {
		// HTTPClient copies the http.Client, not its transport.
		tr, ok := c.HTTPClient().Transport.(*http.Transport)
		if !ok {
			return fmt.Errorf("docker client: transport is %T, not *http.Transport", c.HTTPClient().Transport)
		}
		tr.WriteBufferSize = size
		return nil
	}
}
