package testhost

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
)

// ensureKey creates an ed25519 key pair without passphrase at path unless
// both halves exist.
func ensureKey(ctx context.Context, path, comment string) error {
	_, errPriv := os.Stat(path)
	_, errPub := os.Stat(path + ".pub")
	if errPriv == nil && errPub == nil {
		return nil
	}
	os.Remove(path)
	os.Remove(path + ".pub")
	if _, err := run(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path); err != nil {
		return fmt.Errorf("generate key %s: %w", path, err)
	}
	return nil
}

// publicKey returns the "type base64" part of an OpenSSH .pub file.
func publicKey(pubPath string) (string, error) {
	b, err := os.ReadFile(pubPath)
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return "", fmt.Errorf("%s: not an OpenSSH public key", pubPath)
	}
	return f[0] + " " + f[1], nil
}

// knownHostsLine formats a host key the way OpenSSH records it: the bare
// address for port 22, [address]:port otherwise.
func knownHostsLine(addr, key string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port != "22" {
		host = "[" + host + "]:" + port
	}
	return host + " " + key + "\n", nil
}
