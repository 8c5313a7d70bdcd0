package host

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"path"

	"github.com/shipdeploy/ship/delivery"
	"github.com/shipdeploy/ship/ssh"
)

//go:embed read-file.sh
var readFileScript string

// DockerCredentials is the login store of the Docker CLI of the SSH user
// on a host: ~/.docker/config.json there, and the credential helpers it
// names (the host's DOCKER_CONFIG, if any, is not read).
type DockerCredentials struct{ H *Host }

var _ delivery.CredentialStore = DockerCredentials{}

func (d DockerCredentials) file(ctx context.Context) (string, error) {
	home, err := d.H.Home(ctx)
	if err != nil {
		return "", err
	}
	return path.Join(home, ".docker", "config.json"), nil
}

// Where names the file in messages.
func (d DockerCredentials) Where() string { return d.H.Name + ":~/.docker/config.json" }

// ReadConfig reads the file; nil when there is none.
func (d DockerCredentials) ReadConfig(ctx context.Context) ([]byte, error) {
	file, err := d.file(ctx)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	cmd := ssh.Script(readFileScript, file)
	cmd.Stdout = &out
	if err := d.H.Shell.Run(ctx, cmd); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// WriteConfig replaces the file whole, mode 0600.
func (d DockerCredentials) WriteConfig(ctx context.Context, content []byte) error {
	file, err := d.file(ctx)
	if err != nil {
		return err
	}
	var discard bytes.Buffer
	if err := Directory(ctx, d.H, path.Dir(file), "", "", &discard); err != nil {
		return err
	}
	return d.H.Shell.Upload(ctx, file, bytes.NewReader(content), 0o600, "")
}

// RunHelper runs docker-credential-HELPER ACTION on the host, input on its
// stdin.
func (d DockerCredentials) RunHelper(ctx context.Context, helper, action string, input []byte) ([]byte, error) {
	var out bytes.Buffer
	cmd := ssh.Cmd{Args: []string{"docker-credential-" + helper, action}, Stdin: bytes.NewReader(input), Stdout: &out}
	if err := d.H.Shell.Run(ctx, cmd); err != nil {
		return nil, fmt.Errorf("on %s: %w", d.H.Name, err)
	}
	return out.Bytes(), nil
}
