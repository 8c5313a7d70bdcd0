package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/config"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "write a commented config/deploy.yml and a .ship/secrets template",
		Action: func(c *cli.Context) error {
			files, err := config.Init(".")
			if err != nil {
				return err
			}
			u := newUI(c)
			for _, f := range files {
				u.Infof("created %s", f)
			}
			u.Infof("next: set your servers in %s, then run `ship config` to check it", config.DefaultFile)
			return nil
		},
	}
}
