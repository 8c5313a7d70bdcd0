package host

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// LogOptions select what `ship app logs` (and accessory and proxy logs) shows.
type LogOptions struct {
	Follow bool
	Lines  int
	Since  string
	Grep   string
}

// Logs writes a container's logs, filtered by opts.Grep.
func Logs(ctx context.Context, h *Host, name string, opts LogOptions, out io.Writer) error {
	tail := "all"
	if opts.Lines > 0 {
		tail = fmt.Sprint(opts.Lines)
	}
	rc, err := h.Docker.ContainerLogs(ctx, name, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: opts.Follow, Tail: tail, Since: opts.Since,
	})
	if err != nil {
		return fmt.Errorf("logs of %s: %w", name, err)
	}
	defer rc.Close()
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, pw, rc)
		pw.CloseWithError(err)
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if opts.Grep == "" || strings.Contains(sc.Text(), opts.Grep) {
			fmt.Fprintln(out, sc.Text())
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// LogTail returns the last lines a container printed, for a failure report.
func LogTail(ctx context.Context, h *Host, id string, lines int) string {
	rc, err := h.Docker.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(lines)})
	if err != nil {
		return "(logs unavailable: " + err.Error() + ")"
	}
	defer rc.Close()
	var b bytes.Buffer
	stdcopy.StdCopy(&b, &b, rc)
	return strings.TrimRight(b.String(), "\n")
}
