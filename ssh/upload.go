package ssh

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path"
	"time"
)

// receiveScript writes stdin to a new file $1 that only its owner can read.
// noclobber (set -C) refuses to follow anything already at that name.
const receiveScript = `umask 077 && set -C && cat > "$1"`

// installScript gives $1 its owner ($4, if set) and mode ($3), then renames
// it over $2. chown comes first because it may clear setuid bits.
const installScript = `if [ -n "$4" ]; then chown -- "$4" "$1" || exit; fi; chmod -- "$3" "$1" && mv -f -- "$1" "$2"`

// Upload atomically replaces the file at dst with content: it is written to a
// temporary file in the same directory, given its mode and owner ("" leaves
// the owner as is), then renamed. Content goes through stdin only, never the
// command line. On failure the temporary file is removed.
func (c *Conn) Upload(ctx context.Context, dst string, content io.Reader, mode os.FileMode, owner string) error {
	tmp := path.Join(path.Dir(dst), "."+path.Base(dst)+".ship-"+rand.Text()[:16])
	what := "upload " + dst
	err := c.run(ctx, Cmd{Args: []string{"sh", "-c", receiveScript, "sh", tmp}, Stdin: content}, what)
	if err == nil {
		err = c.run(ctx, Cmd{Args: []string{"sh", "-c", installScript, "sh", tmp, dst, fmt.Sprintf("%o", mode.Perm()), owner}}, what)
	}
	if err != nil {
		// ctx may be what failed; the cleanup still needs a moment.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		c.Run(cleanup, Cmd{Args: []string{"rm", "-f", "--", tmp}})
	}
	return err
}
