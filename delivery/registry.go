package delivery

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/engine"
)

// Credentials log in to a registry. The password travels only inside the
// Engine API's X-Registry-Auth header, never on a command line.
type Credentials struct {
	Server, Username, Password string
}

func (c Credentials) header() (string, error) {
	return registry.EncodeAuthConfig(registry.AuthConfig{Username: c.Username, Password: c.Password, ServerAddress: c.Server})
}

// Push sends ref from the local engine to its registry.
func Push(ctx context.Context, local client.APIClient, ref string, creds Credentials) error {
	auth, err := creds.header()
	if err != nil {
		return err
	}
	rc, err := local.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: auth})
	if err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	defer rc.Close()
	// A refused push is reported in the stream, with HTTP 200.
	if err := engine.ReadProgress(rc); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

// Pull fetches ref from its registry onto the host behind remote.
func Pull(ctx context.Context, remote client.APIClient, ref string, creds Credentials) error {
	auth, err := creds.header()
	if err != nil {
		return err
	}
	rc, err := remote.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	defer rc.Close()
	if err := engine.ReadProgress(rc); err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	return nil
}
