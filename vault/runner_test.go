package vault

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestExecRunsTheCLIWithItsEnvironment(t *testing.T) {
	var stderr strings.Builder
	e := Exec{Env: []string{"PATH=/usr/bin:/bin"}, Stderr: &stderr}
	out, err := e.Run(context.Background(), Command{Name: "sh", Args: []string{"-c", `echo "out $BW_SESSION"; echo err >&2`}, Env: []string{"BW_SESSION=tok"}})
	if err != nil || string(out) != "out tok\n" || stderr.String() != "err\n" {
		t.Errorf("got %q, %q, %v", out, stderr.String(), err)
	}
	stderr.Reset()
	if _, err := e.Run(context.Background(), Command{Name: "sh", Args: []string{"-c", "echo probe >&2; exit 3"}, Quiet: true}); err == nil || stderr.Len() > 0 {
		t.Errorf("quiet probe: %v, stderr %q", err, stderr.String())
	}
	if _, err := e.Run(context.Background(), Command{Name: "no-such-vault-cli"}); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("missing CLI: %v", err)
	}
}
