package proxy

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/rpc"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
)

// Dialer reaches a Unix socket on the host: the SSH connection's
// DialContext.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// The arguments of kamal-proxy's pause and resume commands, as its CLI
// sends them on the control socket (net/rpc, gob: matched by field name).
type (
	pauseArgs struct {
		Service      string
		DrainTimeout time.Duration
		PauseTimeout time.Duration
	}
	resumeArgs struct {
		Service string
	}
)

// listReply is kamal-proxy's answer to list on the control socket.
type listReply struct {
	Targets map[string]struct {
		Host, Path    string
		TLS           bool
		Target, State string
	}
}

// ServicesVia is Services with the control socket reached through dial,
// if it can be, else through docker exec.
func ServicesVia(ctx context.Context, docker client.APIClient, dial Dialer) ([]Service, error) {
	var reply listReply
	reached, err := call(ctx, docker, dial, "List", true, &reply)
	if !reached {
		return Services(ctx, docker)
	}
	if err != nil {
		return nil, err
	}
	var services []Service
	for _, name := range slices.Sorted(maps.Keys(reply.Targets)) {
		t := reply.Targets[name]
		tls := "no"
		if t.TLS {
			tls = "yes"
		}
		services = append(services, Service{Name: name, Host: t.Host, Path: t.Path, Target: t.Target, State: t.State, TLS: tls})
	}
	return services, nil
}

// call sends kamal-proxy the command method with args on its control
// socket (reply nil for a command that answers only an error), as its own CLI does, but through dial instead of a docker exec:
// that is a process started in the container and three Docker API calls,
// tens of milliseconds each time, and a swap holds requests over two of
// them. reached is false when the socket cannot be dialled (the SSH user
// is not root, or sshd forbids forwarding): then exec it.
func call(ctx context.Context, docker client.APIClient, dial Dialer, method string, args, reply any) (reached bool, err error) {
	if dial == nil {
		return false, nil
	}
	info, err := docker.ContainerInspect(ctx, ContainerName)
	if errdefs.IsNotFound(err) {
		return true, ErrNotRunning
	}
	if err != nil {
		return false, nil
	}
	if !info.State.Running || info.State.Pid == 0 {
		return true, ErrNotRunning
	}
	conn, err := dial(ctx, "unix", hostSocket(info.State.Pid, info.Config.Env))
	if err != nil {
		return false, nil
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c := rpc.NewClient(conn)
	defer c.Close()
	if reply == nil {
		reply = new(bool)
	}
	if err := c.Call("kamal-proxy."+method, args, reply); err != nil {
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		return true, fmt.Errorf("kamal-proxy %s: %w", strings.ToLower(method), err)
	}
	return true, nil
}

// hostSocket is the control socket of the kamal-proxy process pid, seen
// from the host through the process's root: where kamal-proxy puts it,
// in $XDG_RUNTIME_DIR, else $TMPDIR, else /tmp, by its environment.
func hostSocket(pid int, env []string) string {
	dir := "/tmp"
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	for _, k := range []string{"XDG_RUNTIME_DIR", "TMPDIR"} {
		if v := vars[k]; v != "" {
			dir = v
			break
		}
	}
	return path.Join(fmt.Sprintf("/proc/%d/root", pid), dir, "kamal-proxy.sock")
}
