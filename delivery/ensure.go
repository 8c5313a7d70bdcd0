package delivery

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/client"
)

// Ensure puts ref on the remote engine unless it is there already: sent
// from the local engine when that has it, else pulled with creds. It is
// for images ship does not build (accessories, kamal-proxy).
func Ensure(ctx context.Context, remote, local client.APIClient, ref string, creds Credentials, out io.Writer) error {
	if _, err := remote.ImageInspect(ctx, ref); err == nil {
		return nil
	}
	if local != nil {
		if img, err := Open(ctx, local, ref); err == nil {
			defer img.Close()
			fmt.Fprintf(out, "sending image %s over SSH\n", ref)
			_, err := img.Send(ctx, remote, nil)
			return err
		}
	}
	fmt.Fprintf(out, "pulling image %s\n", ref)
	return Pull(ctx, remote, ref, creds)
}
