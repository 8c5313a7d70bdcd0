// Package hooks runs the project's hooks: executables in its hooks
// directory that ship runs on this machine at fixed points of a command, as
// Kamal does, so that a project's .kamal/hooks work unchanged.
package hooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// The hooks, by Kamal's names. A rollback runs pre-deploy and post-deploy
// with the command "rollback"; there is no post-rollback hook.
const (
	PreConnect      = "pre-connect"
	PreBuild        = "pre-build"
	PreDeploy       = "pre-deploy"
	PostDeploy      = "post-deploy"
	PreAppBoot      = "pre-app-boot"
	PostAppBoot     = "post-app-boot"
	PreProxyReboot  = "pre-proxy-reboot"
	PostProxyReboot = "post-proxy-reboot"
	DockerSetup     = "docker-setup"
)

// waitDelay is how long Run waits, once a hook has exited, for processes it
// left running in the background (a tunnel a pre-connect hook opened) to let
// go of its output.
const waitDelay = time.Second

// File is the hook's file: dir, relative to root unless absolute.
func File(root, dir, name string) string {
	file := filepath.Join(dir, name)
	if !filepath.IsAbs(file) {
		file = filepath.Join(root, file)
	}
	return file
}

// Run runs the hook name from dir, the hooks directory (config.HooksPath,
// relative to root unless absolute), in root, the project root. The hook
// gets this process's environment plus env's variables; its output goes to
// stdout and stderr. A missing hook is not an error: ran is false. A hook
// that fails is, and callers abort the command on it.
//
// The hook runs in a process group of its own, so that a cancelled ctx
// kills whatever it started too. Its stdin is empty.
func Run(ctx context.Context, root, dir, name string, env Env, stdout, stderr io.Writer) (ran bool, err error) {
	hook := filepath.Join(dir, name) // as the user knows it
	file := File(root, dir, name)
	info, err := os.Stat(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("hook %s: %w", hook, err)
	case info.IsDir():
		return false, fmt.Errorf("hook %s is a directory, not an executable", hook)
	case info.Mode()&0o111 == 0:
		return false, fmt.Errorf("hook %s is not executable: chmod +x it", hook)
	}

	cmd := exec.CommandContext(ctx, file)
	cmd.Dir = root
	cmd.Env = env.environ(os.Environ())
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = waitDelay
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return true, fmt.Errorf("hook %s: %w", hook, ctx.Err())
	case errors.Is(err, exec.ErrWaitDelay):
		// The hook succeeded; what it left behind keeps running.
		return true, nil
	case errors.Is(err, syscall.ENOEXEC):
		return false, fmt.Errorf("hook %s cannot be run: it needs a first line such as #!/bin/sh", hook)
	case err != nil:
		return true, fmt.Errorf("hook %s failed: %w", hook, err)
	}
	return true, nil
}
