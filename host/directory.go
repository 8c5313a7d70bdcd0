package host

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/shipdeploy/ship/ssh"
)

// hostDirectoryScript creates a directory and gives it an owner and mode,
// changing only what differs. It prints what it changed.
const hostDirectoryScript = `set -e
dir=$1 owner=$2 mode=$3
if [ ! -d "$dir" ]; then mkdir -p "$dir"; echo "created directory $dir"; fi
if [ -n "$owner" ]; then
	case "$owner" in *:*) want=$owner ;; *) want="$owner:$(stat -c %g "$dir")" ;; esac
	now_ids="$(stat -c %u:%g "$dir")" now_names="$(stat -c %U:%G "$dir")"
	if [ "$want" != "$now_ids" ] && [ "$want" != "$now_names" ]; then chown "$owner" "$dir"; echo "chown $owner $dir"; fi
fi
if [ -n "$mode" ] && [ "$(stat -c %a "$dir")" != "${mode#0}" ]; then chmod "$mode" "$dir"; echo "chmod $mode $dir"; fi
`

// Directory creates dir on the host if missing and gives it owner and
// mode where they differ, writing what it changed to out.
func Directory(ctx context.Context, h *Host, dir, owner, mode string, out io.Writer) error {
	var stdout strings.Builder
	err := h.Shell.Run(ctx, ssh.Cmd{Args: []string{"sh", "-c", hostDirectoryScript, "sh", dir, owner, mode}, Stdout: &stdout})
	if err != nil {
		return fmt.Errorf("prepare directory %s: %w", dir, err)
	}
	io.WriteString(out, stdout.String())
	return nil
}
