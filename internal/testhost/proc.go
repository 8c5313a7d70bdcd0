package testhost

import (
	"bytes"
	"context"
	"fmt"
	"github.com/shipdeploy/ship/internal/testproc"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stdPath is the PATH every child gets and binaries are looked up in, so the
// result does not depend on how go test or make was started.
const stdPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// aptPackage names the Debian package that provides each binary we run.
var aptPackage = map[string]string{
	"dockerd":    "docker.io",
	"sshd":       "openssh-server",
	"ssh-keygen": "openssh-client",
	"ip":         "iproute2",
	"nsenter":    "util-linux",
	"unshare":    "util-linux",
	"mount":      "mount",
	"hostname":   "hostname",
	"sh":         "dash",
}

// lookBin finds a binary in stdPath; sshd insists on an absolute path.
func lookBin(name string) (string, error) {
	if filepath.IsAbs(name) {
		return name, nil
	}
	for _, dir := range filepath.SplitList(stdPath) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s (apt-get install %s)", name, stdPath, aptPackage[name])
}

// checkBins fails early, naming the missing package, rather than midway.
func checkBins() error {
	for name := range aptPackage {
		if _, err := lookBin(name); err != nil {
			return err
		}
	}
	return nil
}

func childEnv() []string {
	home := os.Getenv("HOME")
	if home == "" {
		home = "/root"
	}
	return []string{"PATH=" + stdPath, "HOME=" + home}
}

// run runs a short command and returns its output, or an error that holds it.
func run(ctx context.Context, name string, args ...string) (string, error) {
	bin, err := lookBin(name)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// process is a child we started; done is closed once it has exited and been reaped.
type process struct {
	pid  int
	done chan struct{}
	err  error // exit status, valid after done
}

// spawn starts args with stdin from /dev/null and stdout and stderr appended
// to log, so nothing ties it to the caller's terminal or pipes.
func spawn(args []string, log string, attr *syscall.SysProcAttr) (*process, error) {
	bin, err := lookBin(args[0])
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fmt.Fprintf(f, "--- %s testhost: %s\n", time.Now().Format(time.RFC3339), strings.Join(args, " "))
	cmd := exec.Command(bin, args[1:]...)
	cmd.Env = childEnv()
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitReady polls ready until it succeeds, the process exits or timeout passes.
func (p *process) waitReady(ctx context.Context, timeout time.Duration, ready func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("pid %d exited (%v) before it was ready", p.pid, p.err)
		case <-ctx.Done():
			return fmt.Errorf("waiting for pid %d: %w", p.pid, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d not ready after %s: %w", p.pid, timeout, err)
		}
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, and SIGKILL if the process is still there after grace.
func (p *process) stop(grace time.Duration) {
	syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		syscall.Kill(p.pid, syscall.SIGKILL)
		<-p.done
	}
}

// daemon is a long-running process that Up starts in its own session so it
// outlives the test binary; later runs find it again through its pid file.
type daemon struct {
	name    string // for messages, e.g. "h2 dockerd"
	args    []string
	pidFile string
	log     string
	// marker is a substring of the process's command line. Checking it before
	// trusting or signalling a pid guards against pid reuse, and when it holds
	// the daemon's full flags, a changed command line means a restart.
	marker string
	// ownPidFile is set when the daemon writes pidFile itself (dockerd
	// --pidfile); dockerd refuses to start if we wrote it first.
	ownPidFile bool
}

// pid returns the daemon's pid, or 0 if it is not running.
func (d daemon) pid() int {
	b, err := os.ReadFile(d.pidFile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || !running(pid, d.marker) {
		return 0
	}
	return pid
}

func (d daemon) start() (*process, error) {
	if err := os.Remove(d.pidFile); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	p, err := spawn(d.args, d.log, &syscall.SysProcAttr{Setsid: true})
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", d.name, err)
	}
	if !d.ownPidFile {
		if err := writeFile(d.pidFile, strconv.Itoa(p.pid)+"\n", 0o644); err != nil {
			syscall.Kill(p.pid, syscall.SIGKILL)
			return nil, fmt.Errorf("start %s: %w", d.name, err)
		}
	}
	return p, nil
}

// stop ends the daemon if it runs. A grace of 0 SIGKILLs it with all its
// descendants at once, which suits sshd: listener and sessions. Otherwise it
// gets SIGTERM and grace to finish, which dockerd needs to stop its
// containers and containerd, then SIGKILL.
func (d daemon) stop(grace time.Duration) error {
	pid := d.pid()
	if pid != 0 {
		if grace == 0 {
			killTree(pid)
		} else {
			syscall.Kill(pid, syscall.SIGTERM)
			if !waitGone(pid, d.marker, grace) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if !waitGone(pid, d.marker, 10*time.Second) {
			return fmt.Errorf("stop %s: pid %d still running after SIGKILL", d.name, pid)
		}
	}
	if err := os.Remove(d.pidFile); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("stop %s: %w", d.name, err)
	}
	return nil
}

func waitGone(pid int, marker string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for running(pid, marker) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// running reports whether pid is alive (not a zombie) and its command line
// contains marker.
func running(pid int, marker string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if state, _, ok := parseStat(stat); !ok || state == "Z" || state == "X" {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	return strings.Contains(strings.ReplaceAll(string(cmdline), "\x00", " "), marker)
}

// parseStat returns the state and parent pid from /proc/PID/stat. The command
// name may hold spaces and parentheses, so fields are counted from the last ')'.
func parseStat(stat []byte) (state string, ppid int, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return "", 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 {
		return "", 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return f[0], ppid, err == nil
}

// killTree SIGKILLs pid and all its descendants. sshd puts every connection
// in a session of its own, so signalling a process group would miss them.
// Each process is stopped before its children are looked for, so none can
// fork or be reparented away while the tree is collected.
func killTree(pid int) {
	tree := []int{pid}
	seen := map[int]bool{pid: true}
	syscall.Kill(pid, syscall.SIGSTOP)
	for added := true; added; {
		added = false
		for child, parent := range parents() {
			if seen[parent] && !seen[child] {
				seen[child] = true
				tree = append(tree, child)
				syscall.Kill(child, syscall.SIGSTOP)
				added = true
			}
		}
	}
	for _, p := range tree {
		syscall.Kill(p, syscall.SIGKILL)
	}
}

// parents maps every pid on the machine to its parent pid.
func parents() map[int]int {
	m := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		if _, ppid, ok := parseStat(stat); ok {
			m[pid] = ppid
		}
	}
	return m
}

// withLog adds the last lines of a log file to err, since that is where
// daemons say why they failed.
func withLog(err error, log string) error {
	return fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, log, testproc.Tail(log, 15))
}

// writeFile replaces path atomically, so that tests reading known_hosts
// without the lock never see half a file.
func writeFile(path, data string, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeIfChanged writes path unless it already holds data and reports whether it wrote.
func writeIfChanged(path, data string, perm os.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && string(old) == data {
		return false, nil
	}
	return true, writeFile(path, data, perm)
}
