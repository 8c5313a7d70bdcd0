package proxy

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"
)

// Exec runs a kamal-proxy command in the proxy container, as
// `docker exec kamal-proxy ...` does, and returns its output. A failed
// command's error carries what it printed.
func Exec(ctx context.Context, docker client.APIClient, args []string) (string, error) {
	what := strings.Join(args[:min(2, len(args))], " ")
	ex, err := docker.ContainerExecCreate(ctx, ContainerName, container.ExecOptions{Cmd: args, AttachStdout: true, AttachStderr: true})
	if errdefs.IsNotFound(err) || errdefs.IsConflict(err) {
		return "", ErrNotRunning
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	att, err := docker.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	defer att.Close()
	stop := context.AfterFunc(ctx, att.Close) // a hijacked stream ignores ctx
	defer stop()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, att.Reader); err != nil {
		return "", fmt.Errorf("%s: read output: %w", what, err)
	}
	// The stream ends with the process; the engine records the exit code
	// a moment later.
	for {
		ins, err := docker.ContainerExecInspect(ctx, ex.ID)
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		if !ins.Running {
			if ins.ExitCode != 0 {
				return out.String(), fmt.Errorf("%s: %s", what, strings.TrimSpace(out.String()))
			}
			return out.String(), nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Deploy routes the target's service to its container. kamal-proxy
// health-checks the container first and refuses one that is not healthy.
func Deploy(ctx context.Context, docker client.APIClient, t Target) error {
	_, err := Exec(ctx, docker, DeployArgs(t))
	return err
}

// Pause holds the service's new requests once the ones in flight have
// drained. It reports false, with no error, for a service kamal-proxy does
// not route yet: there is nothing to hold. dial, if not nil, reaches the
// control socket without a docker exec.
func Pause(ctx context.Context, docker client.APIClient, dial Dialer, service string, drain, maxPause time.Duration) (bool, error) {
	reached, err := call(ctx, docker, dial, "Pause", pauseArgs{Service: service, DrainTimeout: drain, PauseTimeout: maxPause}, nil)
	if !reached {
		_, err = Exec(ctx, docker, PauseArgs(service, drain, maxPause))
	}
	if err != nil && strings.Contains(err.Error(), "service not found") {
		return false, nil
	}
	return err == nil, err
}

// Resume releases the requests a pause held, or ends a maintenance. dial,
// if not nil, reaches the control socket without a docker exec.
func Resume(ctx context.Context, docker client.APIClient, dial Dialer, service string) error {
	if reached, err := call(ctx, docker, dial, "Resume", resumeArgs{Service: service}, nil); reached {
		return err
	}
	_, err := Exec(ctx, docker, LiveArgs(service))
	return err
}

// ErrNoService is a command for a service kamal-proxy does not route.
var ErrNoService = errors.New("kamal-proxy does not route the service")

// Maintenance stops a service: every request gets a 503 with message,
// served through the service's error pages, until Resume. kamal-proxy
// keeps the state across its restarts and across deploys of the service.
func Maintenance(ctx context.Context, docker client.APIClient, service string, drain time.Duration, message string) error {
	_, err := Exec(ctx, docker, MaintenanceArgs(service, drain, message))
	if err != nil && strings.Contains(err.Error(), "service not found") {
		return fmt.Errorf("%s: %w", service, ErrNoService)
	}
	return err
}

// State is a service's state in kamal-proxy.
type State int

// The states kamal-proxy list shows.
const (
	// Absent is a service kamal-proxy does not route.
	Absent State = iota
	Running
	Paused
	// Stopped is maintenance: every request gets a 503.
	Stopped
)

// String is kamal-proxy's own word for the state.
func (s State) String() string {
	return [...]string{"absent", "running", "paused", "stopped"}[s]
}

// stateOf reads the State column of kamal-proxy list.
func stateOf(word string) State {
	switch word {
	case "running":
		return Running
	case "paused":
		return Paused
	case "stopped":
		return Stopped
	}
	return Absent
}

// ServiceState is the state of one service; Absent, with no error, when
// kamal-proxy does not route it or does not run.
func ServiceState(ctx context.Context, docker client.APIClient, service string) (State, error) {
	services, err := Services(ctx, docker)
	if errors.Is(err, ErrNotRunning) {
		return Absent, nil
	}
	if err != nil {
		return Absent, err
	}
	return StateIn(services, service), nil
}

// StateIn is the state of one service in a list Services read.
func StateIn(services []Service, service string) State {
	for _, s := range services {
		if s.Name == service {
			return stateOf(s.State)
		}
	}
	return Absent
}

// RemoveService stops routing the service.
func RemoveService(ctx context.Context, docker client.APIClient, service string) error {
	_, err := Exec(ctx, docker, []string{"kamal-proxy", "remove", service})
	if err == ErrNotRunning || err != nil && strings.Contains(err.Error(), "service not found") {
		return nil
	}
	return err
}

// Service is one row of `kamal-proxy list`.
type Service struct {
	Name, Host, Path, State, TLS string
	// Target is every target, comma-separated: the writer first, then the
	// read targets (kamal-proxy lists them in that order).
	Target string
}

// Writer is the service's first target: the one that takes writes.
func (s Service) Writer() string {
	w, _, _ := strings.Cut(s.Target, ",")
	return w
}

// Readers are the service's read targets.
func (s Service) Readers() []string {
	_, rest, ok := strings.Cut(s.Target, ",")
	if !ok || rest == "" {
		return nil
	}
	return strings.Split(rest, ",")
}

// Services lists the services kamal-proxy routes.
func Services(ctx context.Context, docker client.APIClient) ([]Service, error) {
	out, err := Exec(ctx, docker, []string{"kamal-proxy", "list"})
	if err != nil {
		return nil, err
	}
	return parseList(out), nil
}

// ansi matches the colour codes list puts around every cell.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// parseList reads list's table by its header's columns, which are padded
// to the widest cell once the colour codes are gone.
func parseList(out string) []Service {
	out = ansi.ReplaceAllString(out, "")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 {
		return nil
	}
	header := lines[0]
	names := []string{"Service", "Host", "Path", "Target", "State", "TLS"}
	var starts []int
	for _, n := range names {
		i := strings.Index(header, n)
		if i < 0 {
			return nil
		}
		starts = append(starts, i)
	}
	var services []Service
	for _, line := range lines[1:] {
		cell := func(i int) string {
			end := len(line)
			if i+1 < len(starts) {
				end = min(end, starts[i+1])
			}
			if starts[i] >= end {
				return ""
			}
			return strings.TrimSpace(line[starts[i]:end])
		}
		services = append(services, Service{Name: cell(0), Host: cell(1), Path: cell(2), Target: cell(3), State: cell(4), TLS: cell(5)})
	}
	return services
}

// InstallCertificate puts a role's custom certificate and key where
// DeployArgs points kamal-proxy: in the proxy's apps volume, owned by the
// proxy's user, mode 0600. They travel in the Docker API's request body,
// never on a command line, and no other user on the host can read the key.
func InstallCertificate(ctx context.Context, docker client.APIClient, app, role string, cert, key []byte) error {
	certPath, keyPath := TLSPaths(app, role)
	dirs := []string{path.Join(appsDir, app), path.Join(appsDir, app, "tls"), path.Dir(certPath)}
	if err := install(ctx, docker, dirs, map[string][]byte{certPath: cert, keyPath: key}); err != nil {
		return fmt.Errorf("install the TLS certificate for %s in %s: %w", role, ContainerName, err)
	}
	return nil
}

// install writes dirs (mode 0700, parents first) and files (mode 0600),
// all in the apps volume, owned by the proxy's user, through the Docker
// API.
func install(ctx context.Context, docker client.APIClient, dirs []string, files map[string][]byte) error {
	uid, gid, err := containerUser(ctx, docker)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	rel := func(p string) string { return strings.TrimPrefix(p, appsDir+"/") }
	now := time.Now()
	for _, dir := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: rel(dir) + "/", Mode: 0o700, Uid: uid, Gid: gid, ModTime: now}); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		data := files[name]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel(name), Mode: 0o600, Uid: uid, Gid: gid, Size: int64(len(data)), ModTime: now}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return docker.CopyToContainer(ctx, ContainerName, appsDir, &buf, container.CopyToContainerOptions{})
}

// containerUser is the uid and gid kamal-proxy runs as in its container,
// which must own the key. The engine's CopyUIDGID cannot be used: it looks
// a user name up on the host, not in the container.
func containerUser(ctx context.Context, docker client.APIClient) (uid, gid int, err error) {
	info, err := docker.ContainerInspect(ctx, ContainerName)
	if err != nil {
		return 0, 0, fmt.Errorf("inspect %s: %w", ContainerName, err)
	}
	user, group, _ := strings.Cut(info.Config.User, ":")
	if user == "" {
		return 0, 0, nil
	}
	uid, gid, err = lookupID(ctx, docker, "/etc/passwd", user)
	if err != nil {
		return 0, 0, err
	}
	if group != "" {
		if gid, _, err = lookupID(ctx, docker, "/etc/group", group); err != nil {
			return 0, 0, err
		}
	}
	return uid, gid, nil
}

// lookupID finds name (or a number) in the container's passwd or group
// file and returns its id and, for passwd, its primary group.
func lookupID(ctx context.Context, docker client.APIClient, file, name string) (id, group int, err error) {
	if n, err := strconv.Atoi(name); err == nil {
		return n, n, nil
	}
	rc, _, err := docker.CopyFromContainer(ctx, ContainerName, file)
	if err != nil {
		return 0, 0, fmt.Errorf("read %s in %s: %w", file, ContainerName, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	if _, err := tr.Next(); err != nil {
		return 0, 0, fmt.Errorf("read %s in %s: %w", file, ContainerName, err)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return 0, 0, fmt.Errorf("read %s in %s: %w", file, ContainerName, err)
	}
	id, group, err = parseIDs(string(data), name)
	if err != nil {
		return 0, 0, fmt.Errorf("%s in %s: %w", file, ContainerName, err)
	}
	return id, group, nil
}

// parseIDs reads name's id (field 3) and, for passwd, its group (field 4)
// from a passwd or group file.
func parseIDs(data, name string) (id, group int, err error) {
	for _, line := range strings.Split(data, "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 || f[0] != name {
			continue
		}
		if id, err = strconv.Atoi(f[2]); err != nil {
			break
		}
		group = id
		if len(f) > 3 {
			if g, err := strconv.Atoi(f[3]); err == nil {
				group = g
			}
		}
		return id, group, nil
	}
	return 0, 0, fmt.Errorf("no entry for %q", name)
}
