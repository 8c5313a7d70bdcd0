package spec

import (
	"testing"

	"github.com/shipdeploy/ship/config"
)

// Kamal's names: the version's tag, and the latest tag beside it, under
// the registry server, per destination.
func TestImageRefAndLatestRef(t *testing.T) {
	for _, tc := range []struct {
		cfg             config.Config
		version, latest string
	}{
		{config.Config{Image: "acme/shop"}, "acme/shop:v1", "acme/shop:latest"},
		{config.Config{Image: "acme/shop", Destination: "staging"}, "acme/shop:v1", "acme/shop:latest-staging"},
		{config.Config{Image: "acme/shop", Registry: config.Registry{Server: "ghcr.io"}}, "ghcr.io/acme/shop:v1", "ghcr.io/acme/shop:latest"},
	} {
		if got := ImageRef(&tc.cfg, "v1"); got != tc.version {
			t.Errorf("ImageRef = %s, want %s", got, tc.version)
		}
		if got := LatestRef(&tc.cfg); got != tc.latest {
			t.Errorf("LatestRef = %s, want %s", got, tc.latest)
		}
	}
}
