package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

// newKeyPEM returns a private key in OpenSSH PEM form, encrypted if passphrase is set.
func newKeyPEM(t *testing.T, passphrase string) string {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = gossh.MarshalPrivateKey(priv, "")
	} else {
		block, err = gossh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block))
}

func TestAuthOrder(t *testing.T) {
	home := isolateHome(t)
	os.Mkdir(filepath.Join(home, ".ssh"), 0o700)
	defaultKey := newKeyPEM(t, "")
	os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), []byte(defaultKey), 0o600)
	os.WriteFile(filepath.Join(home, ".ssh", "id_rsa"), []byte(newKeyPEM(t, "secret")), 0o600)
	fileKey := writeFile(t, "deploy", newKeyPEM(t, ""))

	a := newAuth(Config{Keys: []string{fileKey, "~/.ssh/nope"}, KeyData: []string{newKeyPEM(t, ""), defaultKey}})
	defer a.close()
	// The inline copy of the default key is offered once, under its first name.
	if len(a.tried) != 3 || !strings.HasPrefix(a.tried[0], fileKey+" (ssh-ed25519 SHA256:") ||
		!strings.HasPrefix(a.tried[1], "key_data[0] ") || !strings.HasPrefix(a.tried[2], "key_data[1] ") {
		t.Errorf("tried %q", a.tried)
	}
	wantSkipped := []string{
		"~/.ssh/nope: no such file or directory",
		"~/.ssh/id_rsa is passphrase-protected; add it to ssh-agent",
	}
	if strings.Join(a.skipped, "|") != strings.Join(wantSkipped, "|") {
		t.Errorf("skipped %q, want %q", a.skipped, wantSkipped)
	}

	only := newAuth(Config{Keys: []string{fileKey}, KeysOnly: true})
	if len(only.tried) != 1 || len(only.skipped) != 0 {
		t.Errorf("KeysOnly: tried %q, skipped %q", only.tried, only.skipped)
	}
}

func TestAuthErrors(t *testing.T) {
	home := isolateHome(t)
	a := newAuth(Config{})
	err := a.noKeyError("root", "web1")
	if !strings.Contains(err.Error(), "ssh root@web1: no usable key: no keys configured") {
		t.Errorf("got %v", err)
	}

	os.Mkdir(filepath.Join(home, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), []byte(newKeyPEM(t, "secret")), 0o600)
	secret := "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LXRva2VuLXZhbHVl\n-----END OPENSSH PRIVATE KEY-----\n"
	a = newAuth(Config{KeyData: []string{secret}})
	err = a.noKeyError("root", "web1")
	if !strings.Contains(err.Error(), "no usable key: key_data[0]: ") ||
		!strings.Contains(err.Error(), "~/.ssh/id_ed25519 is passphrase-protected; add it to ssh-agent") {
		t.Errorf("got %v", err)
	}
	if strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("error leaks key data: %v", err)
	}

	a = newAuth(Config{KeyData: []string{newKeyPEM(t, "")}})
	err = a.failedError("deploy", "web1")
	if !strings.HasPrefix(err.Error(), "ssh deploy@web1: authentication failed; tried key_data[0] (ssh-ed25519 SHA256:") ||
		!strings.Contains(err.Error(), "; skipped ~/.ssh/id_ed25519 is passphrase-protected") {
		t.Errorf("got %v", err)
	}
}
