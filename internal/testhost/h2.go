package testhost

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// h2 lives in a network namespace of its own, with its own dockerd and sshd.
// The namespace name and addresses are machine-wide, so one state directory
// per machine can own h2 at a time.
const (
	netnsName  = "shiptest-h2"
	vethName   = "shiptest-h2" // host end; the namespace end is eth0
	h2Gateway  = "10.99.0.1/24"
	h2CIDR     = "10.99.0.2/24"
	h2SSHAddr  = "10.99.0.2:22"
	h2Bridge   = "172.30.99.1/24"
	h2Hostname = "h2"
)

func h2Socket(dir string) string { return filepath.Join(dir, "h2", "docker.sock") }

func h2Dockerd(dir string) daemon {
	d := filepath.Join(dir, "h2")
	flags := []string{
		"--data-root", filepath.Join(d, "data"),
		"--exec-root", filepath.Join(d, "exec"),
		"-H", "unix://" + h2Socket(dir),
		"--pidfile", filepath.Join(d, "dockerd.pid"),
		"--bip", h2Bridge,
		"--containerd-namespace", "h2",
		"--containerd-plugins-namespace", "h2p",
		"--config-file", h2DaemonJSON(dir),
		// Last, so that an older testhost's marker (the flags above)
		// still matches: in h2's own /run, see below.
		"-H", "unix:///var/run/docker.sock",
	}
	// nsenter enters only the network namespace: ip netns exec would remount
	// /sys and dockerd then fails ("Devices cgroup isn't mounted"). A UTS
	// namespace of its own names the engine h2 in docker info. A mount
	// namespace of its own, with a fresh /run, gives h2 what a real second
	// host has: its engine at /var/run/docker.sock for containers that
	// reach the host's root (the fire drill's, the replica gate's), and a
	// containerd of its own, started by dockerd, which then resolves h2's
	// bind mounts in that namespace. The main engine's /run is untouched.
	args := append([]string{
		"nsenter", "--net=/run/netns/" + netnsName,
		"unshare", "--uts", "--mount", "--propagation", "private",
		"sh", "-c", `hostname "$0" && mount -t tmpfs -o mode=0755 h2run /run && exec dockerd "$@"`, h2Hostname,
	}, flags...)
	return daemon{
		name:       "h2 dockerd",
		args:       args,
		pidFile:    filepath.Join(d, "dockerd.pid"),
		log:        filepath.Join(d, "dockerd.log"),
		marker:     strings.Join(flags, " "),
		ownPidFile: true,
	}
}

func h2DaemonJSON(dir string) string { return filepath.Join(dir, "h2", "daemon.json") }

// writeH2DaemonJSON points h2's engine at a key of its own. Engine 20.10
// derives its ID from that key, /etc/docker/key.json by default, so both
// engines would otherwise report the same ID; it has no flag for it.
func writeH2DaemonJSON(dir string) error {
	key := filepath.Join(dir, "h2", "key.json")
	_, err := writeIfChanged(h2DaemonJSON(dir), fmt.Sprintf("{\"deprecated-key-path\": %q}\n", key), 0o644)
	return err
}

func h2SSHD(dir string) sshd {
	return sshd{dir: filepath.Join(dir, "h2"), addr: h2SSHAddr, authorizedKeys: authorizedKeys(dir)}
}

// h2SSHDaemon runs sshd in the namespace and in a private mount namespace
// where h2's engine socket is bound over the main one, so that SSH sessions
// on h2 find h2's engine at /var/run/docker.sock.
func h2SSHDaemon(dir string, s sshd) (daemon, error) {
	bin, err := lookBin("sshd")
	if err != nil {
		return daemon{}, err
	}
	target, err := bindTarget()
	if err != nil {
		return daemon{}, err
	}
	args := append([]string{
		"ip", "netns", "exec", netnsName,
		"unshare", "--mount", "--propagation", "private", "--uts",
		"sh", "-c", `mount --bind "$1" "$2" && hostname "$0" && shift 2 && exec "$@"`,
		h2Hostname, h2Socket(dir), target,
	}, s.argv(bin)...)
	return s.daemon("h2 sshd", args), nil
}

// bindTarget is mainSocket with symlinks resolved (/var/run is /run on
// Debian), for mounting over it and for finding it through /proc/PID/root.
func bindTarget() (string, error) {
	d, err := filepath.EvalSymlinks(filepath.Dir(mainSocket))
	if err != nil {
		return "", err
	}
	return filepath.Join(d, filepath.Base(mainSocket)), nil
}

// bindsSocket reports whether sessions of sshd pid see sock at
// /var/run/docker.sock. The bind mount pins the socket's inode: when h2's
// dockerd restarts it makes a new socket, and when the main dockerd restarts,
// removing /run/docker.sock detaches the mount; sshd must then restart too.
func bindsSocket(pid int, sock string) bool {
	target, err := bindTarget()
	if err != nil {
		return false
	}
	var seen, want syscall.Stat_t
	if syscall.Stat(fmt.Sprintf("/proc/%d/root%s", pid, target), &seen) != nil || syscall.Stat(sock, &want) != nil {
		return false
	}
	return seen.Dev == want.Dev && seen.Ino == want.Ino
}

// ensureH2 keeps h2 running, restarting only the parts that are broken, and
// those that depend on them.
func ensureH2(ctx context.Context, dir string) (sshd, error) {
	s := h2SSHD(dir)
	changed, err := s.prepare(ctx)
	if err != nil {
		return s, fmt.Errorf("prepare h2 sshd: %w", err)
	}
	server, err := h2SSHDaemon(dir, s)
	if err != nil {
		return s, err
	}
	engine := h2Dockerd(dir)
	sock := h2Socket(dir)
	engineOK := engine.pid() != 0 && ping(ctx, sock) == nil
	pid := server.pid()
	// vethOK first: without the veth, 10.99.0.2 would be dialled through the
	// default route, off this machine.
	if engineOK && !changed && pid != 0 && bindsSocket(pid, sock) && vethOK() && answers(ctx, s.addr) == nil {
		return s, nil
	}
	if err := server.stop(0); err != nil {
		return s, err
	}
	if !netnsOK(ctx) {
		if err := engine.stop(30 * time.Second); err != nil {
			return s, err
		}
		if err := createNetns(ctx); err != nil {
			return s, err
		}
		engineOK = false
	}
	if !engineOK {
		if err := writeH2DaemonJSON(dir); err != nil {
			return s, err
		}
		if err := startH2Engine(ctx, engine, sock); err != nil {
			return s, err
		}
	}
	p, err := server.start()
	if err != nil {
		return s, withLog(err, s.log())
	}
	if err := p.waitReady(ctx, 10*time.Second, func(ctx context.Context) error { return answers(ctx, s.addr) }); err != nil {
		p.stop(time.Second)
		return s, withLog(fmt.Errorf("start h2 sshd: %w", err), s.log())
	}
	if !bindsSocket(p.pid, sock) {
		p.stop(time.Second)
		return s, withLog(fmt.Errorf("start h2 sshd: its sessions do not see %s at %s", sock, mainSocket), s.log())
	}
	return s, nil
}

func startH2Engine(ctx context.Context, engine daemon, sock string) error {
	if err := engine.stop(30 * time.Second); err != nil {
		return err
	}
	p, err := engine.start()
	if err != nil {
		return withLog(err, engine.log)
	}
	if err := p.waitReady(ctx, 60*time.Second, func(ctx context.Context) error { return ping(ctx, sock) }); err != nil {
		p.stop(10 * time.Second)
		return withLog(fmt.Errorf("start h2 dockerd: %w", err), engine.log)
	}
	return nil
}

// netnsOK reports whether the namespace exists with both ends of the veth
// pair up and addressed.
func netnsOK(ctx context.Context) bool {
	if _, err := os.Stat("/run/netns/" + netnsName); err != nil || !vethOK() {
		return false
	}
	out, err := run(ctx, "ip", "-n", netnsName, "-o", "addr", "show", "dev", "eth0", "up")
	return err == nil && strings.Contains(out, h2CIDR)
}

// vethOK reports whether the host end of the veth pair is up with its
// address, which routes 10.99.0.0/24 into the namespace.
func vethOK() bool {
	ifc, err := net.InterfaceByName(vethName)
	if err != nil || ifc.Flags&net.FlagUp == 0 {
		return false
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if a.String() == h2Gateway {
			return true
		}
	}
	return false
}

func createNetns(ctx context.Context) error {
	if err := deleteNetns(ctx); err != nil {
		return err
	}
	steps := [][]string{
		{"netns", "add", netnsName},
		{"link", "add", vethName, "type", "veth", "peer", "name", "eth0", "netns", netnsName},
		{"addr", "add", h2Gateway, "dev", vethName},
		{"link", "set", vethName, "up"},
		{"-n", netnsName, "addr", "add", h2CIDR, "dev", "eth0"},
		{"-n", netnsName, "link", "set", "eth0", "up"},
		{"-n", netnsName, "link", "set", "lo", "up"},
	}
	for _, args := range steps {
		if _, err := run(ctx, "ip", args...); err != nil {
			return fmt.Errorf("create network namespace %s: %w", netnsName, err)
		}
	}
	return nil
}

func deleteNetns(ctx context.Context) error {
	// Deleting one end of a veth pair deletes both.
	if _, err := net.InterfaceByName(vethName); err == nil {
		if _, err := run(ctx, "ip", "link", "del", vethName); err != nil {
			return fmt.Errorf("delete network namespace %s: %w", netnsName, err)
		}
	}
	if _, err := os.Stat("/run/netns/" + netnsName); err == nil {
		if _, err := run(ctx, "ip", "netns", "del", netnsName); err != nil {
			return fmt.Errorf("delete network namespace %s: %w", netnsName, err)
		}
	}
	return nil
}
