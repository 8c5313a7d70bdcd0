// Package testhost brings up real Docker hosts reachable over real OpenSSH,
// for ship's integration tests and for make demo.
//
// h1 is an sshd on 127.0.0.1 in front of the machine's main Docker engine.
// h2 is a second host in the network namespace shiptest-h2, at 10.99.0.2:22,
// with its own dockerd. The processes outlive the test binary that started
// them, so every package and every later run reuses them; state lives in Dir.
package testhost

import (
	"context"
	"errors"
	"fmt"
	"github.com/shipdeploy/ship/internal/testproc"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Host is a real, SSH-reachable Docker host for integration tests.
type Host struct {
	Name           string // "h1" or "h2"
	Addr           string // SSH address host:port, e.g. "127.0.0.1:2222" or "10.99.0.2:22"
	User           string // "root"
	KeyPath        string // client private key (ed25519, no passphrase) authorized on this host
	KnownHostsPath string // known_hosts holding exactly this host's key, as OpenSSH writes it
	DockerHost     string // the same engine reachable locally, for assertions that bypass ship
}

const defaultDir = "/tmp/ship-testhosts"

// Dir is the state directory: $SHIP_TESTHOSTS_DIR, or /tmp/ship-testhosts.
// Dir()/known_hosts holds the keys of both hosts.
func Dir() string {
	if d := os.Getenv("SHIP_TESTHOSTS_DIR"); d != "" {
		return d
	}
	return defaultDir
}

func clientKey(dir string) string      { return filepath.Join(dir, "id_ed25519") }
func authorizedKeys(dir string) string { return filepath.Join(dir, "authorized_keys") }

// Hosts returns the two shared test hosts, starting whatever is not running.
// It skips the test if SHIP_SKIP_INTEGRATION=1; failing to start is fatal.
func Hosts(t testing.TB) (h1, h2 *Host) {
	t.Helper()
	if os.Getenv("SHIP_SKIP_INTEGRATION") == "1" {
		t.Skip("SHIP_SKIP_INTEGRATION=1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h1, h2, err := Up(ctx)
	if err != nil {
		t.Fatalf("testhost: %v\n(state and logs in %s; SHIP_SKIP_INTEGRATION=1 skips integration tests)", err, Dir())
	}
	return h1, h2
}

// Up is Hosts without testing.TB, for the testhost command and make demo.
// It reuses whatever is healthy and (re)starts the rest.
func Up(ctx context.Context) (h1, h2 *Host, err error) {
	if os.Geteuid() != 0 {
		return nil, nil, errors.New("testhost needs root: it starts dockerd and sshd and creates a network namespace")
	}
	if err := checkBins(); err != nil {
		return nil, nil, err
	}
	dir := Dir()
	for _, d := range []string{filepath.Join(dir, "h1"), filepath.Join(dir, "h2")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, nil, err
		}
	}
	unlock, err := testproc.Lock(ctx, filepath.Join(dir, "lock"))
	if err != nil {
		return nil, nil, err
	}
	defer unlock()

	if err := ensureKey(ctx, clientKey(dir), "ship testhost client"); err != nil {
		return nil, nil, err
	}
	pub, err := publicKey(clientKey(dir) + ".pub")
	if err != nil {
		return nil, nil, err
	}
	if _, err := writeIfChanged(authorizedKeys(dir), pub+"\n", 0o644); err != nil {
		return nil, nil, err
	}
	// sshd's privilege separation directory; Debian's tmpfiles would make it.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, nil, err
	}
	// The main engine comes first: h2's sshd binds over its socket.
	if err := ensureMainEngine(ctx, dir); err != nil {
		return nil, nil, err
	}
	s1, err := ensureH1(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	s2, err := ensureH2(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	if err := writeCombinedKnownHosts(dir, s1, s2); err != nil {
		return nil, nil, err
	}
	h1 = &Host{Name: "h1", Addr: s1.addr, User: "root", KeyPath: clientKey(dir), KnownHostsPath: s1.knownHosts(), DockerHost: "unix://" + mainSocket}
	h2 = &Host{Name: "h2", Addr: s2.addr, User: "root", KeyPath: clientKey(dir), KnownHostsPath: s2.knownHosts(), DockerHost: "unix://" + h2Socket(dir)}
	return h1, h2, nil
}

func writeCombinedKnownHosts(dir string, servers ...sshd) error {
	var all string
	for _, s := range servers {
		b, err := os.ReadFile(s.knownHosts())
		if err != nil {
			return err
		}
		all += string(b)
	}
	_, err := writeIfChanged(filepath.Join(dir, "known_hosts"), all, 0o644)
	return err
}

// Down stops everything Up started, found by the pids in its pid files,
// removes h2's containers and its network namespace. Keys, the h1 port and
// h2's images stay, so the next Up is quicker and h1 keeps its address. An
// engine Up did not start is left alone.
func Down(ctx context.Context) error {
	dir := Dir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	unlock, err := testproc.Lock(ctx, filepath.Join(dir, "lock"))
	if err != nil {
		return err
	}
	defer unlock()

	var errs []error
	engine := h2Dockerd(dir)
	if engine.pid() != 0 && ping(ctx, h2Socket(dir)) == nil {
		if err := removeContainers(ctx, h2Socket(dir)); err != nil {
			errs = append(errs, fmt.Errorf("remove h2 containers: %w", err))
		}
	}
	errs = append(errs,
		h2SSHD(dir).daemon("h2 sshd", nil).stop(0),
		engine.stop(30*time.Second),
		deleteNetns(ctx),
		h1SSHD(dir, 0).daemon("h1 sshd", nil).stop(0),
		mainDockerd(dir).stop(30*time.Second),
	)
	return errors.Join(errs...)
}
