package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/shipdeploy/ship/actions"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/server"
	"github.com/shipdeploy/ship/ssh"
)

func serverCommand() *cli.Command {
	return &cli.Command{
		Name:  "server",
		Usage: "run commands on the servers, install Docker, trust host keys",
		Subcommands: []*cli.Command{
			{
				Name:      "exec",
				Usage:     "run a shell command on every selected host",
				ArgsUsage: "COMMAND",
				Action:    serverExec,
			},
			{
				Name:   "bootstrap",
				Usage:  "install Docker and sqlite3 on Debian/Ubuntu hosts that lack them (needs root or passwordless sudo)",
				Action: serverBootstrap,
			},
			{
				Name:      "trust",
				Usage:     "record a host's SSH key in known_hosts after showing its fingerprint",
				ArgsUsage: "HOST",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "trust without asking"},
					&cli.StringFlag{Name: "fingerprint", Usage: "trust only if the key has this SHA256 fingerprint"},
				},
				Action: serverTrust,
			},
		},
	}
}

func serverExec(c *cli.Context) error {
	if !c.Args().Present() {
		return usageError{errors.New("server exec needs a command, e.g. ship server exec 'df -h'")}
	}
	command := strings.Join(c.Args().Slice(), " ")
	_, pool, hosts, err := connect(c)
	if err != nil {
		return err
	}
	defer pool.Close()
	return fleet.EachPrefixed(c.Context, output(c.App.Writer), hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
		return pool.Conn(h).Run(ctx, ssh.Cmd{Args: []string{"sh", "-c", command}, Stdout: w, Stderr: w})
	})
}

func serverBootstrap(c *cli.Context) error {
	_, pool, hosts, err := connect(c)
	if err != nil {
		return err
	}
	defer pool.Close()
	return fleet.EachPrefixed(c.Context, output(c.App.Writer), hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
		return server.Bootstrap(ctx, pool.Conn(h), w)
	})
}

// serverTrust records a host key only after the user has seen its
// fingerprint and agreed: interactively, with --yes, or by giving the
// expected fingerprint. A changed key is never replaced here.
func serverTrust(c *cli.Context) error {
	if c.Args().Len() != 1 {
		return usageError{errors.New("server trust needs one HOST")}
	}
	host := c.Args().First()
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	sshCfg := fleet.SSHConfig(cfg)
	key, err := ssh.FetchHostKey(c.Context, sshCfg, host)
	if err != nil {
		return err
	}
	fp := ssh.Fingerprint(key)
	u := legacyUI(c)
	fmt.Fprintf(c.App.Writer, "%s offers %s key %s\n", host, key.Type(), fp)

	pool := ssh.NewPool(sshCfg)
	defer pool.Close()
	_, dialErr := pool.Conn(host).Client(c.Context)
	var hk *ssh.HostKeyError
	switch {
	case errors.As(dialErr, &hk) && hk.Changed():
		return dialErr
	case !errors.As(dialErr, &hk):
		// The key was accepted before authentication, so it is known.
		u.infof("%s is already trusted", host)
		return nil
	}

	if want := c.String("fingerprint"); want != "" {
		if want != fp {
			return fmt.Errorf("%s offers %s, not the expected %s: not trusted", host, fp, want)
		}
	} else if !c.Bool("yes") {
		if !confirm(c, "Trust this key? [y/N] ") {
			return errors.New("not trusted: compare the fingerprint with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the server, then run again with --yes or --fingerprint")
		}
	}
	file := "~/.ssh/known_hosts"
	if len(cfg.SSH.KnownHosts) > 0 {
		file = cfg.SSH.KnownHosts[0]
	}
	name, port := host, cfg.SSH.Port
	if h, p, err := net.SplitHostPort(host); err == nil {
		name = h
		port, _ = strconv.Atoi(p)
	}
	if err := ssh.TrustHostKey(file, name, port, key); err != nil {
		return err
	}
	u.infof("added %s to %s", host, file)
	return nil
}

// confirm asks on a terminal; without one, or in CI, it never asks and
// never assumes yes: the command then needs --yes.
func confirm(c *cli.Context, prompt string) bool {
	f, ok := c.App.Reader.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || actions.CI() {
		return false
	}
	fmt.Fprint(c.App.Writer, prompt)
	line, _ := bufio.NewReader(f).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}
