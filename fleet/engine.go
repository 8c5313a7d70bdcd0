package fleet

import (
	"context"

	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/engine"
	"github.com/shipdeploy/ship/ssh"
)

// Engine opens the SSH connection to a host, then its Docker Engine client.
// Connecting first keeps SSH failures (an unknown host key, a refused key)
// in plain sight: the Docker client would report any of them as "Cannot
// connect to the Docker daemon".
func Engine(ctx context.Context, conn *ssh.Conn) (*client.Client, error) {
	if _, err := conn.Client(ctx); err != nil {
		return nil, err
	}
	return engine.New(conn)
}
