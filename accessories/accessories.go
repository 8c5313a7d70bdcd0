// Package accessories runs the long-running services beside the app, such
// as Litestream: which hosts each one runs on, and booting, stopping and
// one-off commands, each checked against the single-writer invariant.
package accessories

import (
	"slices"

	"github.com/shipdeploy/ship/config"
)

// Hosts lists the hosts an accessory runs on: those named directly, every
// host of its roles, and every host with one of its tags, in config order.
func Hosts(c *config.Config, a *config.Accessory) []string {
	return c.AccessoryHosts(a)
}

// On lists the accessories that run on host.
func On(c *config.Config, host string) []*config.Accessory {
	var out []*config.Accessory
	for _, a := range c.Accessories {
		if slices.Contains(Hosts(c, a), host) {
			out = append(out, a)
		}
	}
	return out
}
