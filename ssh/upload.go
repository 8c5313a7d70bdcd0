package ssh

import (
	"context"
	"crypto/rand"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path"
	"time"
)

var (
	//go:embed receive.sh
	receiveScript string
	//go:embed install.sh
	installScript string
)

// Upload atomically replaces the file at dst with content: it is written to a
// temporary file in the same directory, given its mode and owner ("" leaves
// the owner as is), then renamed. Content goes through stdin only, never the
// command line. On failure the temporary file is removed.
func (c *Conn) Upload(ctx context.Context, dst string, content io.Reader, mode os.FileMode, owner string) error {
	tmp := path.Join(path.Dir(dst), "."+path.Base(dst)+".ship-"+rand.Text()[:16])
	what := "upload " + dst
	receive := Script(receiveScript, tmp)
	receive.Stdin = content
	err := c.run(ctx, receive, what)
	if err == nil {
		err = c.run(ctx, Script(installScript, tmp, dst, fmt.Sprintf("%o", mode.Perm()), owner), what)
	}
	if err != nil {
		// ctx may be what failed; the cleanup still needs a moment.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		c.Run(cleanup, Cmd{Args: []string{"rm", "-f", "--", tmp}})
	}
	return err
}
