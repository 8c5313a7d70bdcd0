// Package build builds the app's image with the local Docker Engine, from
// the project's Dockerfile and the builder section of config/deploy.yml.
package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	dockerbuild "github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/spec"
)

// Build builds the app's image with the local Docker Engine from
// builder.dockerfile (default: Dockerfile), builder.target and
// builder.args, tags it IMAGE:VERSION and, as Kamal does, IMAGE:latest
// (spec.LatestRef), labels it service=SERVICE, and returns the image ID.
// Base images in the configured registry are pulled with its login. The context is the project as committed in the
// commit VERSION names, or HEAD's for any other version; with
// builder.context, that directory of the working tree as it is. The
// build's output goes to out, and warn is told what the image leaves out
// of the working tree. A failed build returns the engine's error with the
// failing step.
func Build(ctx context.Context, local client.APIClient, c *config.Config, version string, out io.Writer, warn func(string)) (string, error) {
	if err := spec.CheckVersion(version); err != nil {
		return "", err
	}
	if err := checkBuilder(ctx, local, c.Builder); err != nil {
		return "", err
	}
	if warn == nil {
		warn = func(string) {}
	}
	ref := spec.ImageRef(c, version)
	root, cleanup, err := source(ctx, c, version, warn)
	if err != nil {
		return "", fmt.Errorf("build %s: %w", ref, err)
	}
	// Deferred first, so it runs after the tar below is closed.
	defer cleanup()
	tarball, dockerfile, err := buildContext(root, c.Builder.Context, c.Builder.Dockerfile)
	if err != nil {
		return "", fmt.Errorf("build %s: %w", ref, err)
	}
	// Closing the tar stops the goroutine writing it if the engine never
	// reads it to the end.
	defer tarball.Close()

	args := make(map[string]*string, len(c.Builder.Args))
	for k, v := range c.Builder.Args {
		args[k] = &v
	}
	resp, err := local.ImageBuild(ctx, tarball, dockerbuild.ImageBuildOptions{
		Tags:       []string{ref, spec.LatestRef(c)},
		Dockerfile: dockerfile,
		Target:     c.Builder.Target,
		BuildArgs:  args,
		Labels:     map[string]string{spec.LabelService: c.Service},
		// The engine pulls a FROM image in the app's registry with this
		// login; it travels in the X-Registry-Config header only.
		AuthConfigs: registryAuth(c.Registry),
		// Intermediate containers go, even a failed step's, which docker
		// build would leave behind on the machine.
		Remove:      true,
		ForceRemove: true,
		// The classic builder needs nothing but the tar context, where
		// BuildKit needs a session that ship does not provide.
		Version: dockerbuild.BuilderV1,
	})
	if err != nil {
		return "", fmt.Errorf("build %s: %w", ref, err)
	}
	defer resp.Body.Close()
	id, err := readBuild(resp.Body, out)
	if err != nil {
		return "", fmt.Errorf("build %s: %w", ref, err)
	}
	return id, nil
}

// dockerHub is the name Docker Engines file Docker Hub's login under.
const dockerHub = "https://index.docker.io/v1/"

// registryAuth is the login the engine may use to pull base images: the
// app's registry, or Docker Hub's when the registry has only a username.
func registryAuth(r config.Registry) map[string]registry.AuthConfig {
	if r.Username == "" {
		return nil
	}
	server := r.Server
	if server == "" {
		server = dockerHub
	}
	return map[string]registry.AuthConfig{server: {
		Username: r.Username, Password: r.Password.Reveal(), ServerAddress: server,
	}}
}

// checkBuilder refuses the builder settings that need BuildKit or buildx
// (config.Builder.Refusals, which ship config reports as warnings), and
// arches other than the local engine's.
func checkBuilder(ctx context.Context, local client.APIClient, b config.Builder) error {
	if refused := b.Refusals(); len(refused) > 0 {
		return refused[0]
	}
	if len(b.Arch) == 0 {
		return nil
	}
	v, err := local.ServerVersion(ctx)
	if err != nil {
		return fmt.Errorf("builder.arch: ask the local Docker Engine its architecture: %w", err)
	}
	for _, arch := range b.Arch {
		if arch != v.Arch {
			return fmt.Errorf("builder.arch: the local Docker Engine builds %s images, not %s, and multi-platform builds are not supported yet; build on a %s machine and deploy with --skip-build", v.Arch, arch, arch)
		}
	}
	return nil
}

// readBuild copies the build's output to out and returns the image ID the
// engine reports at the end. An error in the stream comes back with the
// step it happened at. A stream that ends without an ID was cut short.
func readBuild(r io.Reader, out io.Writer) (string, error) {
	var id string
	var steps stepLines
	dec := json.NewDecoder(r)
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("read build output: %w", err)
		}
		if m.Error != nil {
			if s := steps.current(); s != "" {
				return "", fmt.Errorf("%s: %s", s, m.Error.Message)
			}
			return "", errors.New(m.Error.Message)
		}
		if m.Aux != nil {
			var aux struct{ ID string }
			if err := json.Unmarshal(*m.Aux, &aux); err != nil {
				return "", fmt.Errorf("read build output: %w", err)
			}
			id = aux.ID
			continue
		}
		steps.add(m.Stream)
		if err := m.Display(out, false); err != nil {
			return "", err
		}
	}
	if id == "" {
		return "", errors.New("the build output ended without an image ID")
	}
	return id, nil
}

// stepLines follows the classic builder's output, which comes in pieces,
// to remember the last "Step N/M : INSTRUCTION" line.
type stepLines struct {
	partial string // the line being received
	last    string // the last complete step line
}

func (s *stepLines) add(text string) {
	for {
		line, rest, ok := strings.Cut(text, "\n")
		s.partial += line
		if !ok {
			return
		}
		if strings.HasPrefix(s.partial, "Step ") {
			s.last = s.partial
		}
		s.partial, text = "", rest
	}
}

func (s *stepLines) current() string {
	if strings.HasPrefix(s.partial, "Step ") {
		return s.partial
	}
	return s.last
}
