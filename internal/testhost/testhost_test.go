package testhost

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshArgs are the real OpenSSH client's options to reach h, trusting only
// h's own known_hosts file, then the destination.
func sshArgs(h *Host) (opts []string, dest string) {
	host, port, _ := net.SplitHostPort(h.Addr)
	return []string{
		"-F", "none",
		"-i", h.KeyPath, "-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile=" + h.KnownHostsPath,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes",
		"-o", "ConnectTimeout=5",
		"-p", port,
	}, h.User + "@" + host
}

// sshRun runs command on h with the real OpenSSH client.
func sshRun(t *testing.T, h *Host, command string) string {
	t.Helper()
	opts, dest := sshArgs(h)
	return output(t, "ssh", append(opts, dest, command)...)
}

func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

func TestH1RunsDockerOverSSH(t *testing.T) {
	h1, _ := Hosts(t)
	got := sshRun(t, h1, "docker version --format '{{.Server.Version}}'")
	want := output(t, "docker", "-H", h1.DockerHost, "version", "--format", "{{.Server.Version}}")
	if got == "" || got != want {
		t.Fatalf("server version over SSH = %q, locally = %q", got, want)
	}
}

func TestH2HasItsOwnEngine(t *testing.T) {
	h1, h2 := Hosts(t)
	const format = "docker info --format '{{.ID}} {{.Name}}'"
	id1 := sshRun(t, h1, format)
	id2 := sshRun(t, h2, format)
	if id1 == id2 {
		t.Fatalf("h1 and h2 report the same engine through SSH: %s", id1)
	}
	if !strings.HasSuffix(id2, " h2") {
		t.Errorf("h2's engine is named %q, want h2", id2)
	}
	local := output(t, "docker", "-H", h2.DockerHost, "info", "--format", "{{.ID}} {{.Name}}")
	if local != id2 {
		t.Errorf("h2 through SSH = %q, h2.DockerHost = %q", id2, local)
	}
}

func TestH1IsAJumpHostToH2(t *testing.T) {
	h1, h2 := Hosts(t)
	opts1, dest1 := sshArgs(h1)
	jump := "ssh " + strings.Join(opts1, " ") + " -W %h:%p " + dest1
	opts2, dest2 := sshArgs(h2)
	if got := output(t, "ssh", append(append(opts2, "-o", "ProxyCommand="+jump), dest2, "hostname")...); got != "h2" {
		t.Fatalf("hostname through h1 = %q, want h2", got)
	}
}

// TestEngineThroughSSHSocketForwarding reaches each engine the way ship does:
// x/crypto/ssh, known_hosts, and a forwarded unix socket.
func TestEngineThroughSSHSocketForwarding(t *testing.T) {
	h1, h2 := Hosts(t)
	for _, h := range []*Host{h1, h2} {
		t.Run(h.Name, func(t *testing.T) {
			client := dial(t, h)
			remote := engineInfo(t, func(context.Context, string, string) (net.Conn, error) {
				return client.Dial("unix", "/var/run/docker.sock")
			})
			local := engineInfo(t, func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", strings.TrimPrefix(h.DockerHost, "unix://"))
			})
			if remote.ID == "" || remote.ID != local.ID {
				t.Fatalf("engine ID over SSH = %q, locally = %q", remote.ID, local.ID)
			}
		})
	}
}

func dial(t *testing.T, h *Host) *ssh.Client {
	t.Helper()
	key, err := os.ReadFile(h.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	hostKeys, err := knownhosts.New(h.KnownHostsPath)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ssh.Dial("tcp", h.Addr, &ssh.ClientConfig{
		User:            h.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys,
		Timeout:         5 * time.Second,
	})
	if err != nil {
		t.Fatalf("ssh to %s: %v", h.Addr, err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func engineInfo(t *testing.T, dial func(context.Context, string, string) (net.Conn, error)) (info struct{ ID, Name string }) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get("http://docker/info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	return info
}

// TestH2RunsContainers publishes a port on h2 and reaches it at h2's address.
func TestH2RunsContainers(t *testing.T) {
	_, h2 := Hosts(t)
	dir := t.TempDir()
	src := `package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		name, _ := os.Hostname()
		w.Write([]byte(name))
	})
	http.ListenAndServe(":8080", nil)
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module srv\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", "srv", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	output(t, "tar", "-C", dir, "-cf", filepath.Join(dir, "srv.tar"), "srv")
	image := "testhost-srv:" + strings.ToLower(t.Name())
	output(t, "docker", "-H", h2.DockerHost, "import", "-c", `CMD ["/srv"]`, filepath.Join(dir, "srv.tar"), image)
	id := output(t, "docker", "-H", h2.DockerHost, "run", "-d", "-p", "8080", image)
	t.Cleanup(func() {
		exec.Command("docker", "-H", h2.DockerHost, "rm", "-f", id).Run()
		exec.Command("docker", "-H", h2.DockerHost, "rmi", image).Run()
	})
	// One line per address family, e.g. 0.0.0.0:49153.
	mapped, _, _ := strings.Cut(output(t, "docker", "-H", h2.DockerHost, "port", id, "8080/tcp"), "\n")
	_, port, _ := net.SplitHostPort(mapped)
	host, _, _ := net.SplitHostPort(h2.Addr)
	url := "http://" + net.JoinHostPort(host, port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			var body bytes.Buffer
			body.ReadFrom(resp.Body)
			resp.Body.Close()
			if !strings.HasPrefix(id, body.String()) {
				t.Fatalf("%s answered %q, want container %s", url, body.String(), id)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container on h2 never answered at %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pids are the pids of the daemons Up keeps, and h1's address.
func pids(t *testing.T, h1 *Host) []string {
	t.Helper()
	dir := Dir()
	s2 := h2SSHD(dir)
	server, err := h2SSHDaemon(dir, s2)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{h1.Addr}
	for _, d := range []daemon{h1SSHD(dir, 0).daemon("h1 sshd", nil), server, h2Dockerd(dir)} {
		pid := d.pid()
		if pid == 0 {
			t.Fatalf("%s is not running", d.name)
		}
		ids = append(ids, d.name+"="+strconv.Itoa(pid))
	}
	return ids
}

func TestUpReusesRunningHosts(t *testing.T) {
	h1, _ := Hosts(t)
	before := pids(t, h1)
	start := time.Now()
	h1, _ = Hosts(t)
	if took := time.Since(start); took > time.Second {
		t.Errorf("Up with everything running took %s, want < 1s", took)
	}
	if after := pids(t, h1); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Fatalf("second Up changed the hosts:\nbefore %v\nafter  %v", before, after)
	}
}

func TestNewSSHDStopStart(t *testing.T) {
	s := NewSSHD(t)
	h := &s.Host
	if got := sshRun(t, h, "echo ok"); got != "ok" {
		t.Fatalf("echo over SSH = %q", got)
	}
	first := s.Pid()

	// A session still open when sshd stops must end with it.
	opts, dest := sshArgs(h)
	session := exec.Command("ssh", append(opts, dest, "sleep 300")...)
	if err := session.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- session.Wait() }()
	time.Sleep(300 * time.Millisecond)

	s.Stop()
	if s.Pid() != 0 {
		t.Errorf("Pid after Stop = %d, want 0", s.Pid())
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		session.Process.Kill()
		t.Fatal("an SSH session outlived Stop")
	}
	if c, err := net.DialTimeout("tcp", h.Addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after Stop", h.Addr)
	}

	s.Start()
	if s.Pid() == 0 || s.Pid() == first {
		t.Errorf("Pid after Start = %d, first was %d", s.Pid(), first)
	}
	if got := sshRun(t, h, "docker version --format '{{.Server.Version}}'"); got == "" {
		t.Fatal("no server version over the restarted sshd")
	}
}

// destructive skips the test unless SHIP_TESTHOST_DESTRUCTIVE=1: it stops
// the shared hosts, which would break other packages' tests running meanwhile.
func destructive(t *testing.T) {
	if os.Getenv("SHIP_TESTHOST_DESTRUCTIVE") != "1" {
		t.Skip("stops the shared hosts; set SHIP_TESTHOST_DESTRUCTIVE=1 when nothing else uses them")
	}
}

func TestDownThenUp(t *testing.T) {
	destructive(t)
	h1, _ := Hosts(t)
	if err := Down(context.Background()); err != nil {
		t.Fatalf("Down: %v", err)
	}
	if c, err := net.DialTimeout("tcp", h1.Addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still answers after Down", h1.Addr)
	}
	// Not dialling h2: without the veth, 10.99.0.2 routes off this machine.
	if _, err := os.Stat("/run/netns/" + netnsName); err == nil {
		t.Errorf("network namespace %s still there after Down", netnsName)
	}
	if _, err := net.InterfaceByName(vethName); err == nil {
		t.Errorf("veth %s still there after Down", vethName)
	}
	for _, d := range []daemon{h2Dockerd(Dir()), mainDockerd(Dir())} {
		if pid := d.pid(); pid != 0 {
			t.Errorf("%s (pid %d) still running after Down", d.name, pid)
		}
	}

	start := time.Now()
	again, h2 := Hosts(t)
	t.Logf("cold Up took %s", time.Since(start))
	if again.Addr != h1.Addr {
		t.Errorf("h1 moved from %s to %s", h1.Addr, again.Addr)
	}
	for _, h := range []*Host{again, h2} {
		if got := sshRun(t, h, "hostname"); got == "" {
			t.Errorf("%s: no hostname over SSH", h.Name)
		}
	}
}

func TestUpRepairsH2AfterEngineRestarts(t *testing.T) {
	destructive(t)
	_, h2 := Hosts(t)
	before := sshRun(t, h2, "docker info --format '{{.ID}}'")
	// A new h2 dockerd makes a new socket, which h2's sshd must bind again.
	if err := h2Dockerd(Dir()).stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	_, h2 = Hosts(t)
	if after := sshRun(t, h2, "docker info --format '{{.ID}}'"); after != before {
		t.Fatalf("h2's engine over SSH after restarting it = %q, want %q", after, before)
	}

	// A new main engine removes /run/docker.sock, which detaches h2's bind
	// mount; Up must notice and bind again.
	main := mainDockerd(Dir())
	if main.pid() == 0 {
		t.Skip("the main engine was not started by testhost; not stopping it")
	}
	if err := main.stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	_, h2 = Hosts(t)
	if after := sshRun(t, h2, "docker info --format '{{.ID}}'"); after != before {
		t.Fatalf("h2's engine over SSH after restarting the main engine = %q, want %q", after, before)
	}
}
