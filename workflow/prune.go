package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/queue"
)

// Prune removes the stopped app containers beyond retain_containers on the
// selected hosts, and their unused images, through the deploy queue (a
// rollback must not find its version pruned between choosing it and
// starting it). It prints what it removed on each host.
func Prune(ctx context.Context, g Globals) error {
	s, err := open(g)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.connect(ctx); err != nil {
		return err
	}
	return s.mutate(ctx, nil, queue.Ticket{Command: "prune"}, func(ctx context.Context) error {
		results := fleet.Each(ctx, s.hosts, 0, func(ctx context.Context, h string) ([]string, error) {
			return deploy.PruneHost(ctx, s.engines[h], s.cfg)
		})
		for _, r := range results {
			if len(r.Value) > 0 {
				fmt.Fprintf(s.UI.Out, "[%s] removed %s\n", r.Host, strings.Join(r.Value, ", "))
			} else if r.Err == nil {
				fmt.Fprintf(s.UI.Out, "[%s] nothing to prune\n", r.Host)
			}
		}
		return fleet.Failed(results)
	})
}
