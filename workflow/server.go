package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/server"
	"github.com/shipdeploy/ship/ssh"
)

// ServerExecRequest is ship server exec.
type ServerExecRequest struct {
	Globals
	// Args are the command's words, run as one shell command line (joined
	// by spaces) with sh -c.
	Args []string
}

// ServerExec runs a shell command on every selected host, in parallel,
// each host's output under its [HOST] prefix. It fails if the command
// fails on any host.
func ServerExec(ctx context.Context, r ServerExecRequest) error {
	if len(r.Args) == 0 {
		return usage(errors.New("server exec needs a command, e.g. ship server exec 'df -h'"))
	}
	command := strings.Join(r.Args, " ")
	s, err := open(r.Globals)
	if err != nil {
		return err
	}
	defer s.close()
	return fleet.EachPrefixed(ctx, s.output(), s.hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
		return s.pool.Conn(h).Run(ctx, ssh.Cmd{Args: []string{"sh", "-c", command}, Stdout: w, Stderr: w})
	})
}

// ServerBootstrapRequest is ship server bootstrap.
type ServerBootstrapRequest struct {
	Globals
}

// ServerBootstrap installs Docker and sqlite3 on the selected Debian and
// Ubuntu hosts that lack them, in parallel; a host that has them is left
// alone.
func ServerBootstrap(ctx context.Context, r ServerBootstrapRequest) error {
	s, err := open(r.Globals)
	if err != nil {
		return err
	}
	defer s.close()
	return fleet.EachPrefixed(ctx, s.output(), s.hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
		return server.Bootstrap(ctx, s.pool.Conn(h), w)
	})
}

// ServerTrustRequest is ship server trust.
type ServerTrustRequest struct {
	Globals
	// Host is the server, as HOST or HOST:PORT (the config's ssh port
	// when none is given); it need not be in the config.
	Host string
	// Yes trusts the key without asking.
	Yes bool
	// Fingerprint, if set, is the SHA256 fingerprint the key must have;
	// then nothing is asked.
	Fingerprint string
}

// ServerTrust records Host's SSH key in known_hosts, only after showing
// its fingerprint and the user agreeing: when asked, with Yes, or by
// giving the expected Fingerprint. A known key is left as it is, and a
// changed key is never replaced: that fails, as it does for every
// command.
func ServerTrust(ctx context.Context, r ServerTrustRequest) error {
	cfg, err := LoadConfig(r.Globals)
	if err != nil {
		return err
	}
	sshCfg := fleet.SSHConfig(cfg)
	key, err := ssh.FetchHostKey(ctx, sshCfg, r.Host)
	if err != nil {
		return err
	}
	fp := ssh.Fingerprint(key)
	fmt.Fprintf(r.UI.Out, "%s offers %s key %s\n", r.Host, key.Type(), fp)

	// Checked against the files, not by logging in: a login can fail for
	// other reasons, and the answer must be exactly what was verified.
	var hk *ssh.HostKeyError
	switch err := ssh.CheckHostKey(sshCfg, r.Host, key); {
	case err == nil:
		r.UI.Infof("%s is already trusted: %s holds this %s key for it", r.Host, strings.Join(ssh.KnownHostsFiles(sshCfg), ", "), key.Type())
		return nil
	case errors.As(err, &hk) && hk.Changed():
		return err
	case !errors.As(err, &hk):
		return err
	}

	if err := r.agree(fp); err != nil {
		return err
	}
	file := trustFile(cfg)
	name, port := trustTarget(r.Host, cfg.SSH.Port)
	if err := ssh.TrustHostKey(file, name, port, key); err != nil {
		return err
	}
	r.UI.Infof("added %s to %s", r.Host, file)
	return nil
}

// agree is whether the user agrees to trust a key of fingerprint fp: it
// must be the expected Fingerprint when one is given; else Yes, or a yes
// when asked.
func (r ServerTrustRequest) agree(fp string) error {
	if r.Fingerprint != "" {
		if r.Fingerprint != fp {
			return fmt.Errorf("%s offers %s, not the expected %s: not trusted", r.Host, fp, r.Fingerprint)
		}
		return nil
	}
	if !r.Yes && !r.confirm("Trust this key? [y/N] ") {
		return errors.New("not trusted: compare the fingerprint with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the server, then run again with --yes or --fingerprint")
	}
	return nil
}

// trustFile is the known_hosts file server trust writes: the config's
// first, else the user's.
func trustFile(cfg *config.Config) string {
	if len(cfg.SSH.KnownHosts) > 0 {
		return cfg.SSH.KnownHosts[0]
	}
	return "~/.ssh/known_hosts"
}

// trustTarget splits server trust's HOST or HOST:PORT (a bracketed IPv6
// address with its port, or a bare one without) into the name and port
// known_hosts records, defaultPort when none is given.
func trustTarget(host string, defaultPort int) (string, int) {
	name, port := host, defaultPort
	if h, p, err := net.SplitHostPort(host); err == nil {
		name = h
		port, _ = strconv.Atoi(p)
	}
	return name, port
}
