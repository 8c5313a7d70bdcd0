package testhost

import (
	"strings"
	"testing"
)

func TestConfig(t *testing.T) {
	s := sshd{dir: "/d/h1", addr: "127.0.0.1:2222", authorizedKeys: "/d/authorized_keys"}
	cfg, err := s.config("ssh-ed25519 KEY")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(cfg, "\n")
	index := map[string]int{}
	for i, l := range lines {
		index[l] = i
	}
	for _, want := range []string{
		"Port 2222",
		"ListenAddress 127.0.0.1",
		"HostKey /d/h1/ssh_host_ed25519_key",
		"AuthorizedKeysFile /d/authorized_keys",
		"UsePAM no",
		"StrictModes no",
		"PasswordAuthentication no",
		"PermitRootLogin prohibit-password",
		"ClientAliveInterval 2",
		"ClientAliveCountMax 3",
		"MaxSessions 10",
		"AllowTcpForwarding yes",
		"AllowStreamLocalForwarding yes",
		"Subsystem sftp /usr/lib/openssh/sftp-server",
		"SetEnv HOME=/d/h1/home",
	} {
		if _, ok := index[want]; !ok {
			t.Errorf("config lacks %q", want)
		}
	}
	if index["Port 2222"] > index["ListenAddress 127.0.0.1"] {
		t.Error("Port must come before ListenAddress")
	}
	other, _ := s.config("ssh-ed25519 OTHER")
	if other == cfg {
		t.Error("a new host key must change the config, or Up would not restart sshd")
	}
}
