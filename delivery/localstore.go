package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// LocalCredentials is this machine's Docker CLI login store: the
// config.json in $DOCKER_CONFIG, else in ~/.docker.
type LocalCredentials struct{ Dir string }

// NewLocalCredentials finds the directory the Docker CLI here reads.
func NewLocalCredentials() (LocalCredentials, error) {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return LocalCredentials{Dir: d}, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return LocalCredentials{}, fmt.Errorf("the Docker CLI's config directory: %w", err)
	}
	return LocalCredentials{Dir: filepath.Join(home, ".docker")}, nil
}

func (l LocalCredentials) file() string { return filepath.Join(l.Dir, "config.json") }

// Where is the config file's path.
func (l LocalCredentials) Where() string { return l.file() }

// ReadConfig reads config.json; nil when there is none.
func (l LocalCredentials) ReadConfig(context.Context) ([]byte, error) {
	b, err := os.ReadFile(l.file())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// WriteConfig replaces config.json whole, mode 0600.
func (l LocalCredentials) WriteConfig(_ context.Context, content []byte) error {
	if err := os.MkdirAll(l.Dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(l.Dir, ".config.json.ship-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), l.file())
}

// RunHelper runs docker-credential-HELPER ACTION here, input on stdin.
func (l LocalCredentials) RunHelper(ctx context.Context, helper, action string, input []byte) ([]byte, error) {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker-credential-"+helper, action)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(input), &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(errOut.String()))
	}
	return out.Bytes(), nil
}
