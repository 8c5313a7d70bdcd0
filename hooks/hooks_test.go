package hooks

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// project makes a project root with one hook in .ship/hooks.
func project(t *testing.T, name, script string, mode os.FileMode) string {
	root := t.TempDir()
	dir := filepath.Join(root, ".ship", "hooks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), mode); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestRunEnv(t *testing.T) {
	root := project(t, PostDeploy, `#!/bin/sh
echo "$KAMAL_PERFORMER deployed $SHIP_VERSION to $KAMAL_DESTINATION in $KAMAL_RUNTIME seconds"
echo "$SHIP_SERVICE $KAMAL_SERVICE_VERSION [$SHIP_HOSTS] $KAMAL_COMMAND [$SHIP_SUBCOMMAND] $SHIP_RECORDED_AT"
echo "$INHERITED $DB_PASSWORD $(pwd)"
echo oops >&2
`, 0o755)
	t.Setenv("INHERITED", "inherited")
	t.Setenv("SHIP_SUBCOMMAND", "stale")
	env := Env{
		Service: "shop", Version: "abc123", Destination: "production", Command: "deploy",
		Performer: "alice", Hosts: []string{"h1", "h2"}, Runtime: 12 * time.Second,
		RecordedAt: time.Date(2026, 11, 21, 6, 30, 0, 0, time.UTC),
		Secrets:    map[string]string{"DB_PASSWORD": "pw"},
	}
	var stdout, stderr bytes.Buffer
	ran, err := Run(context.Background(), root, ".ship/hooks", PostDeploy, env, &stdout, &stderr)
	if !ran || err != nil {
		t.Fatalf("ran %v, err %v, stderr %q", ran, err, stderr.String())
	}
	want := "alice deployed abc123 to production in 12 seconds\n" +
		"shop shop@abc123 [h1,h2] deploy [] 2026-11-21T06:30:00Z\n" +
		"inherited pw " + root + "\n"
	if stdout.String() != want || stderr.String() != "oops\n" {
		t.Errorf("stdout %q, want %q; stderr %q", stdout.String(), want, stderr.String())
	}
}

func TestRunAbsoluteDir(t *testing.T) {
	root := project(t, PreBuild, "#!/bin/sh\npwd\n", 0o755)
	var stdout bytes.Buffer
	ran, err := Run(context.Background(), root, filepath.Join(root, ".ship/hooks"), PreBuild, Env{}, &stdout, nil)
	if !ran || err != nil || stdout.String() != root+"\n" {
		t.Errorf("ran %v, err %v, stdout %q", ran, err, stdout.String())
	}
}

func TestFile(t *testing.T) {
	if got := File("/app", ".ship/hooks", PreDeploy); got != "/app/.ship/hooks/pre-deploy" {
		t.Errorf("relative hooks dir: %s", got)
	}
	if got := File("/app", "/etc/hooks", PreDeploy); got != "/etc/hooks/pre-deploy" {
		t.Errorf("absolute hooks dir: %s", got)
	}
}

func TestRunExitStatus(t *testing.T) {
	root := project(t, PreDeploy, "#!/bin/sh\necho 'build is red' >&2\nexit 3\n", 0o755)
	var stderr bytes.Buffer
	ran, err := Run(context.Background(), root, ".ship/hooks", PreDeploy, Env{}, nil, &stderr)
	var exit *exec.ExitError
	if !ran || !errors.As(err, &exit) || exit.ExitCode() != 3 ||
		err.Error() != "hook .ship/hooks/pre-deploy failed: exit status 3" {
		t.Errorf("ran %v, err %v", ran, err)
	}
	if stderr.String() != "build is red\n" {
		t.Errorf("stderr %q", stderr.String())
	}
}

func TestRunNotExecutable(t *testing.T) {
	root := project(t, PreDeploy, "#!/bin/sh\nexit 0\n", 0o644)
	ran, err := Run(context.Background(), root, ".ship/hooks", PreDeploy, Env{}, nil, nil)
	if ran || err == nil || err.Error() != "hook .ship/hooks/pre-deploy is not executable: chmod +x it" {
		t.Errorf("ran %v, err %v", ran, err)
	}
}

func TestRunNoShebang(t *testing.T) {
	root := project(t, PreDeploy, "exit 0\n", 0o755)
	ran, err := Run(context.Background(), root, ".ship/hooks", PreDeploy, Env{}, nil, nil)
	if ran || err == nil || !strings.Contains(err.Error(), "#!/bin/sh") {
		t.Errorf("ran %v, err %v", ran, err)
	}
}

func TestRunMissing(t *testing.T) {
	root := project(t, PreDeploy, "#!/bin/sh\nexit 1\n", 0o755)
	for _, dir := range []string{".ship/hooks", ".kamal/hooks"} {
		ran, err := Run(context.Background(), root, dir, PostDeploy, Env{}, nil, nil)
		if ran || err != nil {
			t.Errorf("%s: ran %v, err %v", dir, ran, err)
		}
	}
}

// readPID waits for the hook to write a pid to file.
func readPID(t *testing.T, file string) int {
	for range 500 {
		if b, err := os.ReadFile(file); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the hook never wrote its pid")
	return 0
}

// alive says whether pid is a process that has not exited.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(after, "Z")
}

// TestRunCancel cancels a hook that waits on a child; both must die.
func TestRunCancel(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	root := project(t, PreDeploy, "#!/bin/sh\nsleep 60 &\necho $! > "+pidFile+"\nwait\n", 0o755)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, root, ".ship/hooks", PreDeploy, Env{}, &bytes.Buffer{}, nil)
		done <- err
	}()
	sleep := readPID(t, pidFile)
	t.Cleanup(func() { syscall.Kill(sleep, syscall.SIGKILL) })
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %v to return after cancel", d)
	}
	for i := 0; alive(sleep); i++ {
		if i == 100 {
			t.Fatalf("the hook's child %d outlived the cancel", sleep)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunBackgroundChild lets a hook leave a process behind that holds its
// output open: Run returns once the hook exits, with its output.
func TestRunBackgroundChild(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	root := project(t, PreConnect, "#!/bin/sh\necho tunnel up\nsleep 60 &\necho $! > "+pidFile+"\n", 0o755)
	var stdout bytes.Buffer
	start := time.Now()
	ran, err := Run(context.Background(), root, ".ship/hooks", PreConnect, Env{}, &stdout, nil)
	sleep := readPID(t, pidFile)
	t.Cleanup(func() { syscall.Kill(sleep, syscall.SIGKILL) })
	if !ran || err != nil || stdout.String() != "tunnel up\n" {
		t.Errorf("ran %v, err %v, stdout %q", ran, err, stdout.String())
	}
	if d := time.Since(start); d > waitDelay+5*time.Second {
		t.Errorf("Run took %v", d)
	}
}
