package host

import (
	"bytes"
	"context"
	"fmt"
	"path"

	"github.com/shipdeploy/ship/ssh"
)

// WriteEnvFile puts an env file on the host, 0600 in a 0700 directory:
// the secrets travel over SSH stdin, never on a command line.
func WriteEnvFile(ctx context.Context, h *Host, file string, content []byte) error {
	if err := h.Shell.Run(ctx, ssh.Cmd{Args: []string{"mkdir", "-p", "-m", "700", path.Dir(file)}}); err != nil {
		return fmt.Errorf("create %s: %w", path.Dir(file), err)
	}
	if err := h.Shell.Upload(ctx, file, bytes.NewReader(content), 0o600, ""); err != nil {
		return fmt.Errorf("write env file: %w", err)
	}
	return nil
}

// RemoveEnvFiles deletes env files from the host, and only them: they
// hold the config's secrets, which should not outlive the app there.
func RemoveEnvFiles(ctx context.Context, h *Host, files []string) error {
	if len(files) == 0 {
		return nil
	}
	if err := h.Shell.Run(ctx, ssh.Cmd{Args: append([]string{"rm", "-f", "--"}, files...)}); err != nil {
		return fmt.Errorf("remove env files: %w", err)
	}
	return nil
}
