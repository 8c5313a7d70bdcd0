package ssh

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// defaultKeys are tried after the agent, like OpenSSH does.
var defaultKeys = []string{"~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"}

// auth holds the signers for one dial, in the order they are offered, and
// what was tried or skipped, so a failure can say why.
type auth struct {
	signers []gossh.Signer
	tried   []string // one description per signer
	skipped []string // keys that could not be used, with the reason
	agent   net.Conn
}

func newAuth(cfg Config) *auth {
	a := &auth{}
	for _, path := range cfg.Keys {
		data, err := os.ReadFile(expandHome(path))
		if err != nil {
			a.skipped = append(a.skipped, fmt.Sprintf("%s: %v", path, errors.Unwrap(err)))
			continue
		}
		a.addKey(path, data)
	}
	for i, data := range cfg.KeyData {
		a.addKey(fmt.Sprintf("key_data[%d]", i), []byte(data))
	}
	if cfg.KeysOnly {
		return a
	}
	a.addAgent()
	for _, path := range defaultKeys {
		if data, err := os.ReadFile(expandHome(path)); err == nil {
			a.addKey(path, data)
		}
	}
	return a
}

func (a *auth) addKey(name string, pem []byte) {
	signer, err := gossh.ParsePrivateKey(pem)
	var pme *gossh.PassphraseMissingError
	switch {
	case errors.As(err, &pme):
		a.skipped = append(a.skipped, name+" is passphrase-protected; add it to ssh-agent")
	case err != nil:
		// The parse error never quotes the key itself.
		a.skipped = append(a.skipped, fmt.Sprintf("%s: %v", name, err))
	default:
		a.add(name, signer)
	}
}

func (a *auth) addAgent() {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		a.skipped = append(a.skipped, fmt.Sprintf("ssh-agent: %v", err))
		return
	}
	a.agent = conn
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		a.skipped = append(a.skipped, fmt.Sprintf("ssh-agent: %v", err))
		return
	}
	for _, s := range signers {
		a.add("ssh-agent", s)
	}
}

// add skips keys already offered (the agent usually holds the default
// keys too): every offer counts against sshd's MaxAuthTries (6).
func (a *auth) add(name string, s gossh.Signer) {
	blob := s.PublicKey().Marshal()
	for _, have := range a.signers {
		if bytes.Equal(have.PublicKey().Marshal(), blob) {
			return
		}
	}
	a.signers = append(a.signers, s)
	a.tried = append(a.tried, fmt.Sprintf("%s (%s %s)", name, s.PublicKey().Type(), Fingerprint(s.PublicKey())))
}

// close releases the agent connection; signing happens only during the handshake.
func (a *auth) close() {
	if a.agent != nil {
		a.agent.Close()
	}
}

// noKeyError explains why there is nothing to authenticate with.
func (a *auth) noKeyError(user, host string) error {
	why := "no keys configured, no ssh-agent ($SSH_AUTH_SOCK) and no " + strings.Join(defaultKeys, ", ")
	if len(a.skipped) > 0 {
		why = strings.Join(a.skipped, "; ")
	}
	return fmt.Errorf("ssh %s@%s: no usable key: %s", user, host, why)
}

// failedError explains an authentication the server rejected.
func (a *auth) failedError(user, host string) error {
	msg := fmt.Sprintf("ssh %s@%s: authentication failed; tried %s", user, host, strings.Join(a.tried, ", "))
	if len(a.skipped) > 0 {
		msg += "; skipped " + strings.Join(a.skipped, "; ")
	}
	return errors.New(msg)
}

// expandHome expands a leading "~/" to the user's home directory.
func expandHome(path string) string {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return path
}
