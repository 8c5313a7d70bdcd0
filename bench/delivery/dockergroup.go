package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/ssh"
)

// childFlag runs this program as the docker-group user's pusher: it pushes
// the refs given after it to h2 and prints each result as a JSON line.
const childFlag = "-push-as-docker-group-user"

// childRequest is what the parent tells the child pusher.
type childRequest struct {
	Refs                        []string
	DockerHost                  string
	Addr, User, Key, KnownHosts string
}

// childResult is one push, as the child reports it.
type childResult struct {
	Scenario string
	Bytes    int64
	Took     time.Duration
}

// dockerGroupPushes pushes refs to h2 as nobody with the local socket's
// group, who may use the engine but not read its data directory: what
// ship does on a GitHub Actions runner. This program runs again as that
// user, with copies of h2's key and known_hosts it may read.
func dockerGroupPushes(ctx context.Context, h1, h2 *testhost.Host, refs []string) ([]result, error) {
	nobody, err := user.Lookup("nobody")
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	var sock syscall.Stat_t
	if err := syscall.Stat(strings.TrimPrefix(h1.DockerHost, "unix://"), &sock); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bench-delivery-user-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	req := childRequest{Refs: refs, DockerHost: h1.DockerHost, Addr: h2.Addr, User: h2.User,
		Key: filepath.Join(dir, "key"), KnownHosts: filepath.Join(dir, "known_hosts")}
	for from, to := range map[string]string{self: filepath.Join(dir, "bench"), h2.KeyPath: req.Key, h2.KnownHostsPath: req.KnownHosts} {
		b, err := os.ReadFile(from)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(to, b, 0o700); err != nil {
			return nil, err
		}
		if err := os.Chown(to, uid, gid); err != nil {
			return nil, err
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	in, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "bench"), childFlag)
	cmd.Stdin = strings.NewReader(string(in))
	cmd.Stderr = os.Stderr
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{sock.Gid}}}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("push as nobody: %w", err)
	}
	var results []result
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var r childResult
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		results = append(results, result{scenario: r.Scenario, bytes: r.Bytes, took: r.Took})
	}
	if len(results) != len(refs) {
		return nil, fmt.Errorf("push as nobody: %d results for %d images", len(results), len(refs))
	}
	return results, nil
}

// pushChild is the child's side of dockerGroupPushes.
func pushChild(ctx context.Context) error {
	var req childRequest
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		return err
	}
	local, err := client.NewClientWithOpts(client.WithHost(req.DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer local.Close()
	info, err := local.Info(ctx)
	if err != nil {
		return err
	}
	if _, err := os.ReadDir(filepath.Join(info.DockerRootDir, "image")); err == nil {
		return errors.New("the docker-group user can read the engine's data directory: the figures would be root's")
	}
	w, remote, _, err := dialWire(ctx, ssh.Config{User: req.User, Keys: []string{req.Key}, KeysOnly: true, KnownHosts: []string{req.KnownHosts}}, req.Addr)
	if err != nil {
		return err
	}
	defer w.close()
	defer remote.Close()
	enc := json.NewEncoder(os.Stdout)
	for _, ref := range req.Refs {
		r, err := shipPush(ctx, local, remote, w, ref)
		if err != nil {
			return err
		}
		if err := enc.Encode(childResult{Scenario: r.scenario, Bytes: r.bytes, Took: r.took}); err != nil {
			return err
		}
	}
	return nil
}
