package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/shipdeploy/ship/actions"
	"github.com/shipdeploy/ship/workflow"
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
				Action: func(c *cli.Context) error {
					return workflow.ServerExec(c.Context, workflow.ServerExecRequest{Globals: globals(c), Args: c.Args().Slice()})
				},
			},
			{
				Name:  "bootstrap",
				Usage: "install Docker and sqlite3 on Debian/Ubuntu hosts that lack them (needs root or passwordless sudo)",
				Action: func(c *cli.Context) error {
					return workflow.ServerBootstrap(c.Context, workflow.ServerBootstrapRequest{Globals: globals(c)})
				},
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

// serverTrust records a host key only after the user has seen its
// fingerprint and agreed: interactively, with --yes, or by giving the
// expected fingerprint. A changed key is never replaced here.
func serverTrust(c *cli.Context) error {
	if c.Args().Len() != 1 {
		return usageError{errors.New("server trust needs one HOST")}
	}
	return workflow.ServerTrust(c.Context, workflow.ServerTrustRequest{Globals: globals(c),
		Host: c.Args().First(), Yes: c.Bool("yes"), Fingerprint: c.String("fingerprint")})
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
