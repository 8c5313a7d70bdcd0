// Package testapp supports ship's integration tests with the example SQLite
// app: it builds the app's image on a test host's engine, writes to a running
// app and checks that every acknowledged write survived, watches an engine's
// event stream for two app containers running at once, and scans this
// machine's command lines for a secret.
package testapp

import (
	"testing"

	"github.com/docker/docker/client"
)

// dockerClient returns an Engine API client for dockerHost, such as
// testhost.Host.DockerHost, closed when the test ends.
func dockerClient(t testing.TB, dockerHost string) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(dockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("testapp: docker client for %s: %v", dockerHost, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}
