package ssh

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/shipdeploy/ship/internal/testhost"
)

func newEd25519(t testing.TB) gossh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newECDSA(t testing.TB) gossh.PublicKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := gossh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newRSA(t testing.TB) gossh.PublicKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := gossh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// isolateHome points ~ at an empty directory, so the developer's own
// known_hosts, keys and agent play no part.
func isolateHome(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	return home
}

func writeFile(t *testing.T, name, content string) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHostKeyAlgorithms(t *testing.T) {
	isolateHome(t)
	ed, rsaKey, ec := newEd25519(t), newRSA(t), newECDSA(t)
	file := writeFile(t, "known_hosts", strings.Join([]string{
		"# comment",
		knownhosts.Line([]string{"web1"}, ed),
		knownhosts.Line([]string{"web1"}, rsaKey),
		knownhosts.Line([]string{knownhosts.HashHostname("web2")}, ec),
		knownhosts.Line([]string{"[web3]:2222"}, rsaKey),
		knownhosts.Line([]string{"web4,10.0.0.4"}, ec),
		"",
	}, "\n"))
	keys, err := loadHostKeys([]string{file})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addr string
		want []string
	}{
		{"web1:22", []string{"ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}},
		{"web2:22", []string{"ecdsa-sha2-nistp256"}}, // hashed entry
		{"web3:2222", []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}},
		{"web3:22", nil}, // the entry is for port 2222 only
		{"10.0.0.4:22", []string{"ecdsa-sha2-nistp256"}},
		{"unknown:22", nil},
	} {
		if got := hostKeyAlgorithms(keys.known(tt.addr)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestHostKeyCallback(t *testing.T) {
	isolateHome(t)
	known, other := newEd25519(t), newEd25519(t)
	file := writeFile(t, "known_hosts", "\n\n"+knownhosts.Line([]string{"[127.0.0.1]:2222"}, known)+"\n")
	keys, err := loadHostKeys([]string{file, filepath.Join(t.TempDir(), "missing")})
	if err != nil {
		t.Fatal(err)
	}
	check := keys.callback("127.0.0.1:2222")
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}
	if err := check("127.0.0.1:2222", remote, known); err != nil {
		t.Fatalf("known key refused: %v", err)
	}

	var hke *HostKeyError
	err = check("127.0.0.1:2222", remote, other)
	if !errors.As(err, &hke) || !hke.Changed() {
		t.Fatalf("changed key: got %v", err)
	}
	for _, want := range []string{
		"HOST KEY CHANGED for 127.0.0.1:2222", "man-in-the-middle",
		"offered:  ssh-ed25519 " + Fingerprint(other),
		"expects: ssh-ed25519 " + Fingerprint(known) + " (" + file + ":3)",
		"ssh-keygen -R '[127.0.0.1]:2222'", "ship server trust 127.0.0.1:2222",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("changed key error lacks %q:\n%v", want, err)
		}
	}

	err = keys.callback("web9")("web9:22", remote, other)
	if !errors.As(err, &hke) || hke.Changed() {
		t.Fatalf("unknown host: got %v", err)
	}
	for _, want := range []string{
		"host key for web9 is unknown", file, "ssh-ed25519 " + Fingerprint(other),
		"ship server trust web9", "ssh-keyscan -p 22 web9",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("unknown host error lacks %q:\n%v", want, err)
		}
	}
}

func TestHostKeyErrorNoCommonType(t *testing.T) {
	known := newRSA(t)
	err := &HostKeyError{Host: "web1", Addr: "web1:22", Known: []knownhosts.KnownKey{{Key: known, Filename: "kh", Line: 1}}}
	for _, want := range []string{"HOST KEY CHANGED", "offered no key of the types", "ssh-rsa " + Fingerprint(known) + " (kh:1)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestFingerprintMatchesSSHKeygen(t *testing.T) {
	key := newEd25519(t)
	pub := writeFile(t, "key.pub", string(gossh.MarshalAuthorizedKey(key)))
	out, err := exec.Command("ssh-keygen", "-lf", pub).Output()
	if err != nil {
		t.Skipf("ssh-keygen: %v", err)
	}
	if got := strings.Fields(string(out))[1]; got != Fingerprint(key) {
		t.Errorf("ssh-keygen says %s, Fingerprint says %s", got, Fingerprint(key))
	}
}

func TestTrustHostKey(t *testing.T) {
	isolateHome(t)
	dir := filepath.Join(t.TempDir(), "ssh")
	file := filepath.Join(dir, "known_hosts")
	k1, k2 := newEd25519(t), newECDSA(t)
	if err := TrustHostKey(file, "127.0.0.1", 2222, k1); err != nil {
		t.Fatal(err)
	}
	// A file whose last line lacks its newline must not get glued lines.
	f, _ := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("# no newline")
	f.Close()
	if err := TrustHostKey(file, "web1", 22, k2); err != nil {
		t.Fatal(err)
	}

	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, file: 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode(), err, want)
		}
	}
	data, _ := os.ReadFile(file)
	lines := strings.Split(string(data), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "[127.0.0.1]:2222 ssh-ed25519 ") ||
		lines[1] != "# no newline" || !strings.HasPrefix(lines[2], "web1 ecdsa-sha2-nistp256 ") {
		t.Errorf("known_hosts:\n%s", data)
	}

	keys, err := loadHostKeys([]string{file})
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.callback("x")("127.0.0.1:2222", &net.TCPAddr{}, k1); err != nil {
		t.Error(err)
	}
	if err := keys.callback("x")("web1:22", &net.TCPAddr{}, k2); err != nil {
		t.Error(err)
	}
}

// hostFingerprint is what `ssh-keygen -lf` prints for the host key
// recorded in h's known_hosts, the fingerprint an admin compares.
func hostFingerprint(t *testing.T, h *testhost.Host) string {
	out, err := exec.Command("ssh-keygen", "-lf", h.KnownHostsPath).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -lf %s: %v", h.KnownHostsPath, err)
	}
	return strings.Fields(string(out))[1]
}

func TestUnknownHostRefused(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	cfg := hostConfig(t, h1)
	cfg.KnownHosts = []string{writeFile(t, "known_hosts", "")}
	_, err := newPool(t, cfg).Conn(h1.Addr).Output(testContext(t), "true")
	var hke *HostKeyError
	if !errors.As(err, &hke) || hke.Changed() {
		t.Fatalf("got %v", err)
	}
	fp := hostFingerprint(t, h1)
	for _, want := range []string{"host key for " + h1.Addr + " is unknown", "ssh-ed25519 " + fp, "ship server trust " + h1.Addr} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestChangedHostKeyRefused(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	cfg := hostConfig(t, h1)
	host, port, _ := net.SplitHostPort(h1.Addr)
	old := newEd25519(t)
	cfg.KnownHosts = []string{writeFile(t, "known_hosts", knownhosts.Line([]string{"[" + host + "]:" + port}, old)+"\n")}
	_, err := newPool(t, cfg).Conn(h1.Addr).Output(testContext(t), "true")
	var hke *HostKeyError
	if !errors.As(err, &hke) || !hke.Changed() {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"HOST KEY CHANGED", "man-in-the-middle", hostFingerprint(t, h1), Fingerprint(old) + " (" + cfg.KnownHosts[0] + ":1)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestTrustThenConnect is `ship server trust` followed by a deploy.
func TestTrustThenConnect(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	cfg := hostConfig(t, h1)
	cfg.KnownHosts = nil // only ~/.ssh/known_hosts, which does not exist yet
	key, err := FetchHostKey(ctx, cfg, h1.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(key) != hostFingerprint(t, h1) {
		t.Fatalf("fetched %s, host has %s", Fingerprint(key), hostFingerprint(t, h1))
	}
	host, port, _ := net.SplitHostPort(h1.Addr)
	p, _ := strconv.Atoi(port)
	if err := TrustHostKey("~/.ssh/known_hosts", host, p, key); err != nil {
		t.Fatal(err)
	}
	if out, err := newPool(t, cfg).Conn(h1.Addr).Output(ctx, "echo", "hi"); err != nil || string(out) != "hi\n" {
		t.Errorf("after trust: %q, %v", out, err)
	}
}

// TestHashedKnownHosts uses known_hosts as `ssh-keygen -H` leaves it.
func TestHashedKnownHosts(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	cfg := hostConfig(t, h1)
	data, err := os.ReadFile(h1.KnownHostsPath)
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "known_hosts", string(data))
	if out, err := exec.Command("ssh-keygen", "-H", "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -H: %v: %s", err, out)
	}
	if hashed, _ := os.ReadFile(file); !strings.HasPrefix(string(hashed), "|1|") {
		t.Fatalf("not hashed: %s", hashed)
	}
	cfg.KnownHosts = []string{file}
	if _, err := newPool(t, cfg).Conn(h1.Addr).Output(testContext(t), "true"); err != nil {
		t.Error(err)
	}
}

// serveHostKeys runs an in-process SSH server that offers hostKeys and lets
// anyone in; it is only for host key negotiation, which testhost's sshd
// (ed25519 only) cannot show.
func serveHostKeys(t *testing.T, hostKeys ...gossh.Signer) string {
	cfg := &gossh.ServerConfig{NoClientAuth: true}
	for _, k := range hostKeys {
		cfg.AddHostKey(k)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				conn, chans, reqs, err := gossh.NewServerConn(c, cfg)
				if err != nil {
					return
				}
				defer conn.Close()
				go gossh.DiscardRequests(reqs)
				for ch := range chans {
					ch.Reject(gossh.Prohibited, "test server")
				}
			}()
		}
	}()
	return l.Addr().String()
}

func newSigner(t *testing.T, priv any) gossh.Signer {
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHostKeyTypeNegotiation: a server with ECDSA and ed25519 keys, of which
// known_hosts holds only the ed25519 one, must be accepted. x/crypto alone
// would ask for ECDSA first and report a key mismatch.
func TestHostKeyTypeNegotiation(t *testing.T) {
	isolateHome(t)
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ed, ec := newSigner(t, edPriv), newSigner(t, ecPriv)
	both := serveHostKeys(t, ec, ed)
	ecOnly := serveHostKeys(t, ec)
	line := func(addr string) string {
		return knownhosts.Line([]string{knownhosts.Normalize(addr)}, ed.PublicKey()) + "\n"
	}
	cfg := Config{KeysOnly: true, KeyData: []string{newKeyPEM(t, "")},
		KnownHosts: []string{writeFile(t, "known_hosts", line(both)+line(ecOnly))}}
	p := newPool(t, cfg)
	ctx := testContext(t)

	if _, err := p.Conn(both).Client(ctx); err != nil {
		t.Errorf("server with a known ed25519 key: %v", err)
	}
	// A server that no longer has a key of the known type is a changed key.
	_, err := p.Conn(ecOnly).Client(ctx)
	var hke *HostKeyError
	if !errors.As(err, &hke) || !hke.Changed() || hke.Key != nil {
		t.Fatalf("server without the known key type: %v", err)
	}
	if !strings.Contains(err.Error(), "offered no key of the types known_hosts holds") {
		t.Errorf("got %v", err)
	}
}

// CheckHostKey answers from known_hosts alone: a key it holds for the
// host, none, or another one.
func TestCheckHostKey(t *testing.T) {
	isolateHome(t)
	file := filepath.Join(t.TempDir(), "known_hosts")
	known, other := newEd25519(t), newEd25519(t)
	if err := TrustHostKey(file, "web1", 22, known); err != nil {
		t.Fatal(err)
	}
	cfg := Config{KnownHosts: []string{file}}
	if err := CheckHostKey(cfg, "web1", known); err != nil {
		t.Errorf("the known key: %v", err)
	}
	var hk *HostKeyError
	if err := CheckHostKey(cfg, "web1", other); !errors.As(err, &hk) || !hk.Changed() {
		t.Errorf("another key: %v, want a changed-key error", err)
	}
	if err := CheckHostKey(cfg, "web2", known); !errors.As(err, &hk) || hk.Changed() {
		t.Errorf("an unknown host: %v, want an unknown-key error", err)
	}
	if files := KnownHostsFiles(cfg); !slices.Contains(files, file) {
		t.Errorf("KnownHostsFiles = %v, want %s in it", files, file)
	}
}
