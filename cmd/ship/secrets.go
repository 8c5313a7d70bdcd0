package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/vault"
	"github.com/shipdeploy/ship/workflow"
)

// secretsCommand is Kamal's `secrets`: fetch from a password manager,
// extract one secret, print the secrets files. The same fetch and extract
// run inside a secrets file's $(kamal secrets …), without Kamal.
func secretsCommand() *cli.Command {
	inline := &cli.BoolFlag{Name: "inline", Hidden: true, Usage: "print no line ending (Kamal adds it inside secrets files)"}
	return &cli.Command{
		Name:  "secrets",
		Usage: "fetch secrets from a password manager, and print the secrets files",
		Description: "Inside .kamal/secrets (or .ship/secrets), $(kamal secrets fetch …) and\n" +
			"$(kamal secrets extract NAME $SECRETS) run ship's own code: no Ruby or Kamal is\n" +
			"needed. There, SECRETS holds fetch's JSON as printed (Kamal holds it shell-quoted,\n" +
			"because it pastes it into the next command's text; ship passes a $VAR as one\n" +
			"argument and never reads a value as shell text). For the same reason a\n" +
			"`kamal secrets` line must be the whole $(…): no pipe, redirection or other\n" +
			"command can go with it, since no shell runs it.",
		Subcommands: []*cli.Command{
			{
				Name:      "fetch",
				Usage:     "fetch secrets from a vault, printed as one JSON object",
				ArgsUsage: "[SECRETS...]",
				Description: "Adapters: " + strings.Join(vault.Adapters(), ", ") + ".\n" +
					"Each runs its vendor's CLI (op, bw, bws, lpass, aws, gcloud, doppler, enpass-cli,\n" +
					"passbolt) with the arguments Kamal 2.12 gives it. The values are printed: that is\n" +
					"this command's job. Options go before the secrets' names.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "adapter", Aliases: []string{"a"}, Usage: "which vault adapter to use (required)"},
					&cli.StringFlag{Name: "account", Usage: "the account identifier or username"},
					&cli.StringFlag{Name: "from", Usage: "a vault or folder to fetch the secrets from"},
					inline,
				},
				Action: func(c *cli.Context) error {
					names := c.Args().Slice()
					if err := optionsFirst(names); err != nil {
						return err
					}
					if c.String("adapter") == "" {
						return usageError{errors.New("No value provided for required options '--adapter'")} //nolint:staticcheck // Kamal's message
					}
					return workflow.SecretsFetch(c.Context, workflow.SecretsFetchRequest{
						Globals: globals(c),
						Request: vault.Request{Adapter: c.String("adapter"), Account: c.String("account"),
							From: c.String("from"), Secrets: names},
						Stdin:  c.App.Reader,
						Inline: c.Bool("inline"),
					})
				},
			},
			{
				Name:      "extract",
				Usage:     "extract a single secret from the results of a fetch call",
				ArgsUsage: "NAME SECRETS",
				Flags:     []cli.Flag{inline},
				Action: func(c *cli.Context) error {
					if c.NArg() != 2 {
						return usageError{fmt.Errorf("secrets extract takes NAME and the JSON that secrets fetch printed, got %d argument(s)", c.NArg())}
					}
					return workflow.SecretsExtract(workflow.SecretsExtractRequest{
						Globals: globals(c), Name: c.Args().Get(0), Secrets: c.Args().Get(1), Inline: c.Bool("inline"),
					})
				},
			},
			{
				Name:  "print",
				Usage: "print the secrets files' values, unredacted (for debugging)",
				Action: func(c *cli.Context) error {
					return workflow.SecretsPrint(globals(c))
				},
			},
		},
	}
}

// optionsFirst refuses an option after the secrets' names, which would
// be taken as a name.
func optionsFirst(names []string) error {
	for _, n := range names {
		if strings.HasPrefix(n, "-") {
			return usageError{fmt.Errorf("secrets fetch: the option %s comes after a secret's name; put the options first", n)}
		}
	}
	return nil
}
