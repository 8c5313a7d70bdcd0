package doctor

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/shipdeploy/ship/ssh"
)

func TestConnection(t *testing.T) {
	if c := Connection("h1", nil); c.State != OK {
		t.Errorf("connected: %s", c)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := gossh.NewPublicKey(pub)
	unknown := &ssh.HostKeyError{Host: "h1", Addr: "h1:22", Key: key, Files: []string{"/k"}}
	if c := Connection("h1", fmt.Errorf("connect: %w", unknown)); c.State != Fail || c.Message != "the host key is unknown" || !strings.HasPrefix(c.Fix, "ship server trust h1") {
		t.Errorf("unknown key: %s", c)
	}
	changed := &ssh.HostKeyError{Host: "h1", Addr: "h1:22", Key: key, Files: []string{"/k"}, Known: []knownhosts.KnownKey{{Key: key}}}
	if c := Connection("h1", changed); c.State != Fail || !strings.Contains(c.Message, "CHANGED") || !strings.Contains(c.Fix, "ssh-keygen -R") {
		t.Errorf("changed key: %s", c)
	}
	if c := Connection("h1", errors.New("dial tcp: connection refused")); c.State != Fail || !strings.Contains(c.Message, "connection refused") {
		t.Errorf("refused: %s", c)
	}
}
