package config

import (
	"path/filepath"
	"testing"
)

// minimum_version and builder settings that only ship build refuses are
// warnings: the config still deploys an image built elsewhere.
func TestRefusedConfigsWarn(t *testing.T) {
	const head = "service: shop\nimage: acme/shop\nservers: [10.0.0.1]\n"
	for name, tc := range map[string]struct{ yml, want string }{
		"minimum_version": {head + "minimum_version: 2.4.0\n",
			"4:18: minimum_version: ship does not check Kamal's minimum_version: it names a Kamal version, not a ship one"},
		"remote builder": {head + "builder:\n  remote: ssh://docker@builder\n",
			"5:11: builder.remote: remote builders are not supported yet; build on a machine with Docker and deploy with --skip-build (ship build refuses it)"},
		"cloud builder": {head + "builder:\n  driver: cloud acme/builder\n",
			`5:11: builder.driver: "cloud acme/builder" needs buildx, which ship does not drive yet; build the image with docker and deploy with --skip-build (ship build refuses it)`},
		"both arches": {head + "builder:\n  arch: [amd64, arm64]\n",
			"5:9: builder.arch: multi-platform builds are not supported yet: ship build builds only the local Docker Engine's architecture; build the image with docker and deploy with --skip-build"},
		"build secrets": {head + "builder:\n  secrets: [GITHUB_TOKEN]\n",
			"5:12: builder.secrets: build secrets need BuildKit, which ship does not drive yet; build the image with docker and deploy with --skip-build (ship build refuses it)"},
		"cache": {head + "builder:\n  cache:\n    type: gha\n",
			"6:5: builder.cache: cache export needs buildx, which ship does not drive yet; build the image with docker and deploy with --skip-build (ship build refuses it)"},
		"buildpacks": {head + "builder:\n  pack:\n    builder: heroku/builder:24\n",
			"6:5: builder.pack: buildpacks builds need pack, which ship does not drive; build with pack and deploy with --skip-build (ship build refuses it)"},
		"no local build": {head + "builder:\n  local: false\n",
			"5:10: builder.local: false asks for no local build, and ship builds only with the local Docker Engine; build the image with docker and deploy with --skip-build (ship build refuses it)"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := write(t, map[string]string{"config/deploy.yml": tc.yml})
			c, err := load(t, dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(dir, "config/deploy.yml") + ":" + tc.want
			if len(c.Warnings) != 1 || c.Warnings[0].String() != want {
				t.Errorf("warnings = %v\nwant %s", c.Warnings, want)
			}
		})
	}
}
