package ssh

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError means the server's host key is not in known_hosts (unknown
// host) or differs from the one recorded there (changed host key).
type HostKeyError struct {
	Host  string                // host as configured, as the user would type it
	Addr  string                // "host:port" that was dialled
	Key   gossh.PublicKey       // key the server offered; nil if it offered none of the known types
	Known []knownhosts.KnownKey // keys known_hosts holds for the host; empty if unknown
	Files []string              // known_hosts files consulted
}

// Changed reports whether known_hosts holds a different key for the host,
// which is what a man-in-the-middle looks like.
func (e *HostKeyError) Changed() bool { return len(e.Known) > 0 }

func (e *HostKeyError) Error() string {
	var b strings.Builder
	trust := "ship server trust " + Quote(e.Host)
	if !e.Changed() {
		host, port, _ := net.SplitHostPort(e.Addr)
		fmt.Fprintf(&b, "ssh: host key for %s is unknown (not in %s)\n", e.Host, strings.Join(e.Files, ", "))
		fmt.Fprintf(&b, "  the server offered %s %s\n", e.Key.Type(), Fingerprint(e.Key))
		fmt.Fprintf(&b, "  check that fingerprint on the server (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then run: %s\n", trust)
		fmt.Fprintf(&b, "  (or: ssh-keyscan -p %s %s >> ~/.ssh/known_hosts)", port, Quote(host))
		return b.String()
	}
	fmt.Fprintf(&b, "ssh: HOST KEY CHANGED for %s: possible man-in-the-middle attack, refusing to connect\n", e.Host)
	if e.Key != nil {
		fmt.Fprintf(&b, "  the server offered:  %s %s\n", e.Key.Type(), Fingerprint(e.Key))
	} else {
		b.WriteString("  the server offered no key of the types known_hosts holds for it\n")
	}
	for _, k := range e.Known {
		fmt.Fprintf(&b, "  known_hosts expects: %s %s (%s:%d)\n", k.Key.Type(), Fingerprint(k.Key), k.Filename, k.Line)
	}
	fmt.Fprintf(&b, "  if the host was really reinstalled, remove the old entry (ssh-keygen -R %s -f FILE), then run: %s",
		Quote(knownhosts.Normalize(e.Addr)), trust)
	return b.String()
}

// Fingerprint formats key like `ssh-keygen -lf`: "SHA256:...".
func Fingerprint(key gossh.PublicKey) string {
	return gossh.FingerprintSHA256(key)
}

// hostKeys checks server keys against the known_hosts files.
type hostKeys struct {
	files []string
	check gossh.HostKeyCallback
}

// loadHostKeys reads ~/.ssh/known_hosts and extra. Missing files are
// skipped, as OpenSSH does: they just know no hosts.
func loadHostKeys(extra []string) (*hostKeys, error) {
	var candidates []string
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, ".ssh", "known_hosts"))
	}
	for _, f := range extra {
		candidates = append(candidates, expandHome(f))
	}
	var files []string
	for _, f := range candidates {
		if _, err := os.Stat(f); errors.Is(err, os.ErrNotExist) || slices.Contains(files, f) {
			continue
		}
		files = append(files, f)
	}
	check, err := knownhosts.New(files...)
	if err != nil {
		return nil, err
	}
	return &hostKeys{files: files, check: check}, nil
}

// probeKey matches no real host; checking it returns every known key for a host.
var probeKey, _ = gossh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))

// known returns the keys known_hosts holds for addr.
func (k *hostKeys) known(addr string) []knownhosts.KnownKey {
	var ke *knownhosts.KeyError
	if errors.As(k.check(addr, &net.TCPAddr{}, probeKey), &ke) {
		return ke.Want
	}
	return nil
}

// callback verifies the server key for host and explains failures.
func (k *hostKeys) callback(host string) gossh.HostKeyCallback {
	return func(addr string, remote net.Addr, key gossh.PublicKey) error {
		err := k.check(addr, remote, key)
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case errors.As(err, &ke):
			return &HostKeyError{Host: host, Addr: addr, Key: key, Known: ke.Want, Files: k.files}
		case errors.As(err, &re):
			return fmt.Errorf("ssh: host key %s %s for %s is revoked (%s:%d)", key.Type(), Fingerprint(key), host, re.Revoked.Filename, re.Revoked.Line)
		}
		return err
	}
}

// hostKeyAlgorithms restricts negotiation to the key types known_hosts holds.
// Without it x/crypto asks for its own preference (ECDSA first) and a server
// that also has an ECDSA key fails as a key mismatch when only its ed25519
// key is known. nil means no restriction: the host is unknown.
func hostKeyAlgorithms(known []knownhosts.KnownKey) []string {
	var algos []string
	for _, k := range known {
		types := []string{k.Key.Type()}
		if types[0] == gossh.KeyAlgoRSA {
			// One RSA key signs with any of these; prefer SHA-2.
			types = []string{gossh.KeyAlgoRSASHA512, gossh.KeyAlgoRSASHA256, gossh.KeyAlgoRSA}
		}
		for _, t := range types {
			if !slices.Contains(algos, t) {
				algos = append(algos, t)
			}
		}
	}
	return algos
}

var errGotHostKey = errors.New("got host key")

// FetchHostKey connects to host (through the configured proxy, if any) only
// to read the key it offers; it does not authenticate. For `ship server trust`.
func FetchHostKey(ctx context.Context, cfg Config, host string) (gossh.PublicKey, error) {
	cfg = cfg.withDefaults()
	addr, err := hostPort(host, cfg.Port)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	conn, err := transport(ctx, cfg, addr)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", host, err)
	}
	var key gossh.PublicKey
	_, err = handshake(ctx, conn, addr, &gossh.ClientConfig{
		User: cfg.User,
		HostKeyCallback: func(_ string, _ net.Addr, k gossh.PublicKey) error {
			key = k
			return errGotHostKey
		},
	})
	if key == nil {
		return nil, fmt.Errorf("ssh %s: read host key: %w", host, err)
	}
	return key, nil
}

// CheckHostKey checks key, as host offered it, against the known_hosts
// files cfg names, without connecting: nil when they hold it for host, a
// *HostKeyError when they hold no key or another key for it. For `ship
// server trust`, which must say exactly what it verified.
func CheckHostKey(cfg Config, host string, key gossh.PublicKey) error {
	cfg = cfg.withDefaults()
	addr, err := hostPort(host, cfg.Port)
	if err != nil {
		return err
	}
	keys, err := loadHostKeys(cfg.KnownHosts)
	if err != nil {
		return fmt.Errorf("read known_hosts: %w", err)
	}
	return keys.callback(host)(addr, &net.TCPAddr{}, key)
}

// KnownHostsFiles lists the known_hosts files cfg names that exist: those
// CheckHostKey reads.
func KnownHostsFiles(cfg Config) []string {
	keys, err := loadHostKeys(cfg.withDefaults().KnownHosts)
	if err != nil {
		return nil
	}
	return keys.files
}

// TrustHostKey appends key for host to knownHostsFile in OpenSSH format,
// creating the file (0600) and its directory (0700) if needed.
func TrustHostKey(knownHostsFile, host string, port int, key gossh.PublicKey) error {
	knownHostsFile = expandHome(knownHostsFile)
	if err := os.MkdirAll(filepath.Dir(knownHostsFile), 0o700); err != nil {
		return fmt.Errorf("trust host key: %w", err)
	}
	f, err := os.OpenFile(knownHostsFile, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("trust host key: %w", err)
	}
	defer f.Close()
	line := knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort(host, strconv.Itoa(port)))}, key) + "\n"
	// Appending to a file whose last line lacks its newline would corrupt both lines.
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			line = "\n" + line
		}
	}
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("trust host key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("trust host key: %w", err)
	}
	return nil
}
