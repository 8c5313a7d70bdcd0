package host

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"strings"

	"github.com/shipdeploy/ship/ssh"
)

//go:embed directory.sh
var directoryScript string

// Directory creates dir on the host if missing and gives it owner and
// mode where they differ, writing what it changed to out.
func Directory(ctx context.Context, h *Host, dir, owner, mode string, out io.Writer) error {
	var stdout strings.Builder
	cmd := ssh.Script(directoryScript, dir, owner, mode)
	cmd.Stdout = &stdout
	err := h.Shell.Run(ctx, cmd)
	if err != nil {
		return fmt.Errorf("prepare directory %s: %w", dir, err)
	}
	io.WriteString(out, stdout.String())
	return nil
}
