// Package engine reaches a host's Docker Engine API through its SSH
// connection: ship dials the remote /var/run/docker.sock as an SSH
// streamlocal channel, so no Docker port is ever opened on a host and no
// `docker` command line is built for what the API can do.
package engine

import (
	"context"
	"fmt"
	"net"

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
	)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return cli, nil
}
