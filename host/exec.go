package host

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// Exec runs cmd in a running container and returns its exit status. With
// stdin it runs interactively on a TTY.
func Exec(ctx context.Context, h *Host, name string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	tty := stdin != nil
	exec, err := h.Docker.ContainerExecCreate(ctx, name, container.ExecOptions{
		Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: tty, Tty: tty,
	})
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", name, err)
	}
	attach, err := h.Docker.ContainerExecAttach(ctx, exec.ID, container.ExecAttachOptions{Tty: tty})
	if err != nil {
		return 0, fmt.Errorf("attach to exec: %w", err)
	}
	defer attach.Close()
	stop := context.AfterFunc(ctx, attach.Close) // a hijacked stream ignores ctx
	defer stop()
	if tty {
		go func() {
			io.Copy(attach.Conn, stdin)
			attach.CloseWrite()
		}()
		_, err = io.Copy(stdout, attach.Reader)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, attach.Reader)
	}
	if err != nil {
		return 0, fmt.Errorf("exec output: %w", err)
	}
	info, err := h.Docker.ContainerExecInspect(ctx, exec.ID)
	if err != nil {
		return 0, fmt.Errorf("exec status: %w", err)
	}
	return info.ExitCode, nil
}
