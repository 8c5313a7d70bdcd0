package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/workflow"
)

func configCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "validate the configuration and print it merged, with secrets redacted",
		Action: func(c *cli.Context) error {
			cfg, err := workflow.LoadConfig(globals(c))
			if err != nil {
				return err
			}
			out, err := cfg.YAML()
			if err != nil {
				return err
			}
			_, err = c.App.Writer.Write(out)
			return err
		},
	}
}
