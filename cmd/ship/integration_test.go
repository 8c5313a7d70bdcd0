package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/internal/testhost"
)

// hostConfig writes a project whose servers are the given test hosts.
func hostConfig(t *testing.T, service string, hosts ...*testhost.Host) string {
	t.Helper()
	var servers, known strings.Builder
	for _, h := range hosts {
		servers.WriteString("  - " + h.Addr + "\n")
		known.WriteString("    - " + h.KnownHostsPath + "\n")
	}
	return project(t, map[string]string{"config/deploy.yml": "service: " + service + `
image: acme/` + service + `
servers:
` + servers.String() + `ssh:
  keys_only: true
  keys: [` + hosts[0].KeyPath + `]
  known_hosts:
` + known.String()})
}

// emptyImage imports an image with an empty filesystem into an engine, so a
// test can create (not start) containers on a host that can pull nothing.
func emptyImage(t *testing.T, cli *client.Client, ref string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.Close()
	rc, err := cli.ImageImport(context.Background(), image.ImportSource{Source: &buf, SourceName: "-"}, ref, image.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
}

func TestDetailsOnTwoHosts(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	ctx := context.Background()
	// A container of the service on h2 only, made directly on h2's engine.
	direct, err := client.NewClientWithOpts(client.WithHost(h2.DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	emptyImage(t, direct, "ship-test/empty:latest")
	name := "details-test-web-abc123"
	direct.ContainerRemove(ctx, name, container.RemoveOptions{Force: true})
	_, err = direct.ContainerCreate(ctx, &container.Config{Image: "ship-test/empty:latest", Cmd: []string{"/nothing"},
		Labels: map[string]string{"service": "details-test", "role": "web"}}, nil, nil, nil, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.ContainerRemove(ctx, name, container.RemoveOptions{Force: true}) })
	engineVersion, err := direct.ServerVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}

	dir := hostConfig(t, "details-test", h1, h2)
	cfg, _ := os.ReadFile(filepath.Join(dir, "config/deploy.yml"))
	os.WriteFile(filepath.Join(dir, "config/deploy.yml"), append(cfg, []byte("accessories:\n  litestream:\n    image: litestream/litestream\n    host: "+h1.Addr+"\n")...), 0o644)
	out, errOut, code := ship(t, dir, "details")
	if code != 0 {
		t.Fatalf("details exit %d:\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		h1.Addr + ": Docker Engine " + engineVersion.Version,
		h1.Addr + ": Docker Engine",
		"no containers of details-test",
		h2.Addr + ": Docker Engine " + engineVersion.Version,
		name, "created",
		"accessory litestream is not booted (no container details-test-litestream)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("details lacks %q:\n%s", want, out)
		}
	}
	// --hosts narrows the command to one host.
	out, _, code = ship(t, dir, "details", "--hosts", h2.Addr)
	if code != 0 || strings.Contains(out, h1.Addr) || !strings.Contains(out, name) {
		t.Errorf("details --hosts %s: %d\n%s", h2.Addr, code, out)
	}

	// --json: one document on stdout. A third host that refuses
	// connections still appears, with its error, and makes ship exit 1.
	down := "127.0.0.1:" + strconv.Itoa(closedPort(t))
	cfg, _ = os.ReadFile(filepath.Join(dir, "config/deploy.yml"))
	os.WriteFile(filepath.Join(dir, "config/deploy.yml"), bytes.Replace(cfg, []byte("  - "+h2.Addr+"\n"), []byte("  - "+h2.Addr+"\n  - "+down+"\n"), 1), 0o644)
	out, errOut, code = ship(t, dir, "details", "--json")
	if code != exitFailed || !strings.Contains(errOut, down) {
		t.Errorf("details --json with an unreachable host: exit %d, want %d, naming it on stderr:\n%s", code, exitFailed, errOut)
	}
	var doc struct {
		Service     string  `json:"service"`
		Destination *string `json:"destination"`
		Hosts       []struct {
			Host   string `json:"host"`
			Engine *struct {
				Version    string `json:"version"`
				APIVersion string `json:"api_version"`
				OS         string `json:"os"`
				Arch       string `json:"arch"`
			} `json:"engine"`
			Containers []struct {
				Name    string    `json:"name"`
				Image   string    `json:"image"`
				Role    string    `json:"role"`
				State   string    `json:"state"`
				Status  string    `json:"status"`
				Created time.Time `json:"created"`
			} `json:"containers"`
			AccessoriesMissing []string `json:"accessories_missing"`
			Error              *string  `json:"error"`
		} `json:"hosts"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("details --json is not the documented document: %v\n%s", err, out)
	}
	if dec.More() {
		t.Errorf("details --json printed more than one document:\n%s", out)
	}
	if doc.Service != "details-test" || doc.Destination == nil || *doc.Destination != "" || len(doc.Hosts) != 3 {
		t.Fatalf("details --json:\n%s", out)
	}
	one, two, three := doc.Hosts[0], doc.Hosts[1], doc.Hosts[2]
	for _, h := range []struct {
		addr string
		got  string
	}{{h1.Addr, one.Host}, {h2.Addr, two.Host}, {down, three.Host}} {
		if h.got != h.addr {
			t.Errorf("details --json hosts out of config order: %q, want %q", h.got, h.addr)
		}
	}
	for _, h := range doc.Hosts[:2] {
		if h.Error != nil || h.Engine == nil || h.Engine.Version != engineVersion.Version || h.Engine.APIVersion == "" || h.Engine.OS != "linux" || h.Engine.Arch == "" {
			t.Errorf("details --json, reachable host %s: error %v, engine %+v", h.Host, h.Error, h.Engine)
		}
	}
	if len(one.Containers) != 0 || !slices.Equal(one.AccessoriesMissing, []string{"litestream"}) {
		t.Errorf("details --json, h1: containers %+v, accessories_missing %q; want none and [litestream]", one.Containers, one.AccessoriesMissing)
	}
	if len(two.Containers) != 1 || len(two.AccessoriesMissing) != 0 {
		t.Fatalf("details --json, h2: containers %+v, accessories_missing %q", two.Containers, two.AccessoriesMissing)
	}
	ct := two.Containers[0]
	if ct.Name != name || ct.Image != "ship-test/empty:latest" || ct.Role != "web" || ct.State != "created" || ct.Status != "Created" ||
		ct.Created.Location() != time.UTC || time.Since(ct.Created) > time.Hour || time.Since(ct.Created) < -time.Minute {
		t.Errorf("details --json, h2's container: %+v", ct)
	}
	if three.Error == nil || *three.Error == "" || three.Engine != nil || three.Containers == nil || len(three.Containers) != 0 || three.AccessoriesMissing == nil {
		t.Errorf("details --json, the unreachable host: %+v", three)
	}
}

// closedPort is a local TCP port nothing listens on: connections to it are
// refused at once.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func TestServerExecPrefixesEachHost(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	dir := hostConfig(t, "exec-test", h1, h2)
	out, errOut, code := ship(t, dir, "server", "exec", "echo hello from $(cat /proc/sys/kernel/hostname) && ip -o -4 addr show | grep -c 10.99.0.2 || true")
	if code != 0 {
		t.Fatalf("exec %d: %s%s", code, out, errOut)
	}
	// h2 lives in its own network namespace: only it has 10.99.0.2.
	if !strings.Contains(out, "["+h1.Addr+"] hello from") || !strings.Contains(out, "["+h1.Addr+"] 0") ||
		!strings.Contains(out, "["+h2.Addr+"] 1") {
		t.Errorf("exec output:\n%s", out)
	}
	out, errOut, code = ship(t, dir, "server", "exec", "exit 7")
	if code != exitFailed || !strings.Contains(errOut, "2 of 2 hosts failed") {
		t.Errorf("failing exec: %d %s%s", code, out, errOut)
	}
}

func TestServerBootstrapLeavesInstalledDockerAlone(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	out, errOut, code := ship(t, hostConfig(t, "bootstrap-test", h1), "server", "bootstrap")
	if code != 0 || !strings.Contains(out, "["+h1.Addr+"] Docker Engine") || !strings.Contains(out, "is already installed") {
		t.Errorf("bootstrap %d:\n%s%s", code, out, errOut)
	}
}

func TestHostKeyTrustAndChange(t *testing.T) {
	s := testhost.NewSSHD(t)
	h := s.Host
	known := filepath.Join(t.TempDir(), "known_hosts")
	t.Setenv("HOME", t.TempDir()) // keep ~/.ssh/known_hosts out of it
	dir := project(t, map[string]string{"config/deploy.yml": `service: trust-test
image: acme/trust-test
servers: [` + h.Addr + `]
ssh:
  keys_only: true
  keys: [` + h.KeyPath + `]
  known_hosts: ` + known + `
`})
	// Unknown host: refused, with the fingerprint and the way to trust it.
	pub, err := os.ReadFile(filepath.Join(filepath.Dir(h.KnownHostsPath), "ssh_host_ed25519_key.pub"))
	if err != nil {
		t.Fatalf("host key: %v", err)
	}
	fp := fingerprintOf(t, pub)
	_, errOut, code := ship(t, dir, "details")
	if code != exitFailed || !strings.Contains(errOut, "unknown") || !strings.Contains(errOut, fp) || !strings.Contains(errOut, "ship server trust") {
		t.Fatalf("unknown host: %d\n%s", code, errOut)
	}
	// Without a terminal, trust needs --yes or --fingerprint.
	if _, errOut, code := ship(t, dir, "server", "trust", h.Addr); code == 0 {
		t.Errorf("trust without confirmation succeeded: %s", errOut)
	}
	if _, errOut, code := ship(t, dir, "server", "trust", "--fingerprint", "SHA256:wrong", h.Addr); code == 0 || !strings.Contains(errOut, "not trusted") {
		t.Errorf("trust with a wrong fingerprint: %d %s", code, errOut)
	}
	out, errOut, code := ship(t, dir, "server", "trust", "--fingerprint", fp, h.Addr)
	if code != 0 || !strings.Contains(out, fp) {
		t.Fatalf("trust: %d %s%s", code, out, errOut)
	}
	if out, errOut, code := ship(t, dir, "details"); code != 0 {
		t.Fatalf("details after trust: %d %s%s", code, out, errOut)
	}
	if out, _, _ := ship(t, dir, "server", "trust", "--yes", h.Addr); !strings.Contains(out, "already trusted") {
		t.Errorf("second trust: %s", out)
	}

	// The server's key changes (a reinstall, or an attacker): refused loudly,
	// and trust will not paper over it.
	other := testhost.NewSSHD(t)
	otherPub, _ := os.ReadFile(filepath.Join(filepath.Dir(other.Host.KnownHostsPath), "ssh_host_ed25519_key.pub"))
	line := "[127.0.0.1]:" + strings.Split(h.Addr, ":")[1] + " " + strings.Join(strings.Fields(string(otherPub))[:2], " ") + "\n"
	os.WriteFile(known, []byte(line), 0o600)
	_, errOut, code = ship(t, dir, "details")
	if code != exitFailed || !strings.Contains(errOut, "HOST KEY CHANGED") || !strings.Contains(errOut, fp) {
		t.Errorf("changed key: %d\n%s", code, errOut)
	}
	if _, errOut, code := ship(t, dir, "server", "trust", "--yes", h.Addr); code == 0 || !strings.Contains(errOut, "HOST KEY CHANGED") {
		t.Errorf("trust replaced a changed key: %d %s", code, errOut)
	}
}
