package engine

import (
	"context"
	"testing"

	"github.com/docker/docker/api"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/ssh"
)

// Through real sshd to two real engines: the API answers over the SSH
// connection, with the version negotiated down to what the engine speaks.
func TestEngineOverSSH(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	ctx := context.Background()
	ids := map[string]string{}
	for _, h := range []*testhost.Host{h1, h2} {
		pool := ssh.NewPool(ssh.Config{User: h.User, Keys: []string{h.KeyPath}, KeysOnly: true, KnownHosts: []string{h.KnownHostsPath}})
		defer pool.Close()
		cli, err := New(pool.Conn(h.Addr))
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		info, err := cli.Info(ctx)
		if err != nil {
			t.Fatalf("%s: docker info over ssh: %v", h.Name, err)
		}
		ids[h.Name] = info.ID

		// What the engine says directly must match what ship sees over SSH.
		local, err := client.NewClientWithOpts(client.WithHost(h.DockerHost), client.WithAPIVersionNegotiation())
		if err != nil {
			t.Fatal(err)
		}
		direct, err := local.ServerVersion(ctx)
		local.Close()
		if err != nil {
			t.Fatal(err)
		}
		host, err := Describe(ctx, cli, "ship-engine-test")
		if err != nil {
			t.Fatalf("%s: describe: %v", h.Name, err)
		}
		if host.Version != direct.Version || host.Version == "" {
			t.Errorf("%s: engine version over ssh %q, direct %q", h.Name, host.Version, direct.Version)
		}
		want := direct.APIVersion
		if versions.LessThan(api.DefaultVersion, want) {
			want = api.DefaultVersion
		}
		if cli.ClientVersion() != want {
			t.Errorf("%s: negotiated API %s, want %s (engine speaks %s)", h.Name, cli.ClientVersion(), want, direct.APIVersion)
		}
	}
	if ids["h1"] == ids["h2"] {
		t.Errorf("h1 and h2 reached the same engine %s", ids["h1"])
	}
}
