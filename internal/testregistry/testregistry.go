// Package testregistry runs a real container registry for ship's integration
// tests: Debian's docker-registry (distribution 2.8) with TLS and a password,
// on the test network, where the engines of both test hosts can push to it
// and pull from it.
package testregistry

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"crypto/tls"
	"crypto/x509"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testproc"
	"net/http"
)

const (
	// hostIP is the root namespace's end of h2's veth pair: h1's engine
	// reaches it as a local address, h2's engine through the veth.
	hostIP = "10.99.0.1"
	// certsDir is where Docker engines look, at every push and pull, for
	// the CA of a registry at HOST:PORT: trusting one needs no restart.
	certsDir = "/etc/docker/certs.d"
	username = "ship"
)

// Registry is a running registry that demands Username and Password.
type Registry struct {
	Server             string // "10.99.0.1:PORT", for image references and AuthConfig.ServerAddress
	Username, Password string
}

// Start runs a registry for the test, trusted by both test hosts' engines,
// and stops it when the test ends. Its storage is empty and its password
// random, so every call gets a registry of its own.
func Start(t testing.TB) *Registry {
	t.Helper()
	// The hosts come first: h2's network namespace brings up 10.99.0.1.
	testhost.Hosts(t)
	began := time.Now()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Fatalf("testregistry: %v (apt-get install docker-registry)", err)
	}
	dir := t.TempDir()
	addr, err := freeAddr()
	if err != nil {
		t.Fatalf("testregistry: %v", err)
	}
	certs, err := writeCerts(dir, net.ParseIP(hostIP))
	if err != nil {
		t.Fatalf("testregistry: %v", err)
	}
	password := rand.Text()
	config, err := writeConfig(dir, addr, certs, username, password)
	if err != nil {
		t.Fatalf("testregistry: %v", err)
	}
	caPEM, err := trust(addr, certs.caCert)
	// Registered even if trust failed halfway, and before the registry's
	// own cleanup, so that it runs after the registry has stopped.
	t.Cleanup(func() {
		if err := os.RemoveAll(filepath.Join(certsDir, addr)); err != nil {
			t.Errorf("testregistry: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("testregistry: %v", err)
	}

	log := filepath.Join(dir, "registry.log")
	cmd := exec.Command(bin, "serve", config)
	cmd.Env = []string{} // REGISTRY_* variables would override the config file
	p := testproc.StartForTest(t, cmd, log)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Trusting only our CA, up is 401: it serves TLS with our certificate
	// and demands a password.
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("testregistry: the registry's CA certificate does not parse")
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 2 * time.Second}
	if err := p.WaitHTTP(ctx, client, "https://"+addr+"/v2/", http.StatusUnauthorized); err != nil {
		t.Fatalf("testregistry: %v\n%s", err, testproc.Tail(log, 30))
	}
	t.Logf("testregistry: %s (pid %d) up in %s", addr, p.Pid(), time.Since(began).Round(time.Millisecond))
	return &Registry{Server: addr, Username: username, Password: password}
}

// freeAddr picks a free port on hostIP. docker-registry cannot be handed a
// listening socket, so the port is free only until it binds it: a small
// race with whatever else binds a kernel-chosen port there meanwhile.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(hostIP, "0"))
	if err != nil {
		return "", fmt.Errorf("find a free port on %s: %w", hostIP, err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// trust makes the Docker engines on this machine trust the CA in caFile for
// the registry at addr, and returns the CA.
func trust(addr, caFile string) ([]byte, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	dir := filepath.Join(certsDir, addr)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("trust registry CA: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), caPEM, 0o644); err != nil {
		return nil, fmt.Errorf("trust registry CA: %w", err)
	}
	return caPEM, nil
}
