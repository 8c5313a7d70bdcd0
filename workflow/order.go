package workflow

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/shipdeploy/ship/actions"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
)

// The newest deploy wins, whatever order the requests reach the queue in.
// Every deploy carries an order key (queue.Order):
//
//   - under GitHub Actions, the workflow and its run number, which grows
//     with each run in the order the runs were triggered;
//   - elsewhere, when the version is a commit of the project's checkout,
//     the branch checked out and the commit: a commit that is an ancestor
//     of another is older;
//   - otherwise none, and the deploy is ordered by its arrival in the
//     queue, as ever.
//
// Deploys are compared only with deploys from the same source (workflow,
// or branch). A deploy steps aside, superseded, when a newer one from its
// source waits in the queue, or has been deployed already (the newest per
// source is recorded per role on the primary host). A re-run
// (GITHUB_RUN_ATTEMPT > 1) and --no-coalesce deploy anyway, and say which
// newer version they replaced; rollbacks are never ordered.
//
// Run numbers need nothing but the tickets, so waiting deploys decide
// those at once (queue.Join). Commits need git, and only a deployer's own
// checkout can answer, not always the same answer as another deployer's:
// one that never fetched a commit cannot place it. So commits are
// compared only by the deployer at the head of the queue, holding it,
// one at a time: a deployer leaves only for a ticket that is still there,
// so the last one standing always deploys. When its checkout cannot tell
// (a commit it lacks, a shallow clone, histories that diverged), arrival
// decides: a commit requested later is taken to be newer.

// orderFor is the order key of a deploy of version from the project.
func orderFor(ctx context.Context, cfg *config.Config, version string) queue.Order {
	if run, ok := actions.CurrentRun(); ok {
		return queue.Order{Source: queue.GitHubSource(run.Workflow), Run: run.Number, Attempt: run.Attempt}
	}
	// A dirty tree's version is its commit and a suffix: the commit
	// still places it.
	commit, _, _ := strings.Cut(version, "_uncommitted_")
	if !isCommitID(commit) {
		return queue.Order{}
	}
	co := checkout{root: cfg.Root}
	if !co.has(ctx, commit) {
		return queue.Order{}
	}
	return queue.Order{Source: queue.GitSource(co.branch(ctx)), Commit: commit}
}

// isCommitID reports whether s is a whole git object name: a version
// such as "v2" or a short hash could name a branch or a tag by chance.
func isCommitID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}

// admitted is what a deploy with an order key learnt holding the queue.
type admitted struct {
	ticket  queue.Ticket // as queued, with its ID
	primary *host.Host
	// records are each role's newest deploys, by source, as read.
	records map[string]map[string]deploy.Latest
	// replaced is the newer deploy a deploy told to run anyway replaces.
	replaced *deploy.Latest
}

// admit decides, holding the queue, whether a deploy runs: not when a
// newer one from its source waits (commits, which Join leaves to the
// head of the queue) or was deployed already on any of units' roles.
// Deploys that do not coalesce (re-runs, --no-coalesce, setup) always
// run, learning what newer deploy they replace.
func (s *session) admit(ctx context.Context, ticket queue.Ticket, units []deploy.Unit) (*admitted, error) {
	primary := s.cfg.PrimaryHost()
	a := &admitted{ticket: ticket, primary: &host.Host{Name: primary, Shell: s.pool.Conn(primary)}, records: map[string]map[string]deploy.Latest{}}
	if ticket.Order.Source == "" {
		return a, nil
	}
	if ticket.Coalesce && ticket.Order.Commit != "" {
		if err := s.newerWaiting(ctx, ticket); err != nil {
			return nil, err
		}
	}
	for _, role := range rolesOf(units) {
		record, err := deploy.ReadLatest(ctx, a.primary, s.cfg, role)
		if err != nil {
			return nil, fmt.Errorf("%w; nothing was changed", err)
		}
		a.records[role] = record
		last, ok := record[ticket.Order.Source]
		if !ok {
			continue
		}
		c, decided, how := s.compareOrders(ctx, last.Order, ticket.Order)
		switch {
		case !decided:
			s.UI.Warnf("ship cannot tell whether %s, which %s deployed at %s, is newer than %s: %s. %s came later, so it deploys.",
				last.Order.Name(last.Version), last.Performer, last.At.Local().Format("2006-01-02 15:04:05"), ticket.Version, how, ticket.Version)
		case c > 0 && ticket.Coalesce:
			return nil, &queue.SupersededError{By: last.Ticket(), Reason: newerReason(last.Order, last.Version, how), Deployed: true}
		case c > 0 && (a.replaced == nil || last.At.After(a.replaced.At)):
			a.replaced = &last
		}
	}
	if r := a.replaced; r != nil {
		s.UI.Warnf("%s replaces %s, which %s deployed and which is newer: a re-run, --no-coalesce or setup deploys what it was asked to",
			ticket.Version, r.Order.Name(r.Version), r.Performer)
	}
	return a, nil
}

// newerWaiting fails with *queue.SupersededError when a deploy of a newer
// commit from the ticket's branch waits in the queue, by the checkout's
// git; where git cannot tell, the one that came later is the newer.
func (s *session) newerWaiting(ctx context.Context, me queue.Ticket) error {
	st, err := queue.List(ctx, s.pool.Conn(s.cfg.PrimaryHost()), queue.Dir(s.cfg.ServiceAndDestination()))
	if err != nil {
		return err
	}
	var best *queue.Ticket
	reason := ""
	for _, u := range st.Tickets {
		if u.ID == me.ID || !u.Coalesce || u.Order.Source != me.Order.Source {
			continue
		}
		newer, why := s.newerTicket(ctx, u, me)
		if !newer {
			continue
		}
		if best != nil {
			if better, _ := s.newerTicket(ctx, u, *best); !better {
				continue
			}
		}
		best, reason = &u, why
	}
	if best != nil {
		return &queue.SupersededError{By: *best, Reason: reason}
	}
	return nil
}

// newerTicket reports whether u is newer than t, two tickets from one
// source, and why.
func (s *session) newerTicket(ctx context.Context, u, t queue.Ticket) (bool, string) {
	later := u.ID > t.ID // host-clock nanoseconds, of equal width
	name := u.Order.Name(u.Version)
	c, decided, how := s.compareOrders(ctx, u.Order, t.Order)
	switch {
	case decided && c > 0:
		return true, newerReason(u.Order, u.Version, how)
	case decided && c == 0 && later:
		return true, name + " was requested later, for the same commit"
	case !decided && later:
		return true, fmt.Sprintf("%s was requested later, and ship cannot tell from git which is newer: %s", name, how)
	}
	return false, ""
}

// newerReason says why a deploy is newer: "v63 (run 63) is newer", with
// how git knows when it was git.
func newerReason(o queue.Order, version, how string) string {
	s := o.Name(version) + " is newer"
	if how != "" {
		s += " (" + how + ")"
	}
	return s
}

// compareOrders orders a against b, from one source: +1 when a is newer,
// -1 when older, 0 for the same place. decided is false when neither the
// orders nor the checkout can tell, and how then says why; when git
// decided, how says what it found.
func (s *session) compareOrders(ctx context.Context, a, b queue.Order) (c int, decided bool, how string) {
	if c, ok := a.Compare(b); ok {
		return c, true, ""
	}
	if a.Source != b.Source || a.Commit == "" || b.Commit == "" {
		return 0, false, "they come from different sources"
	}
	return checkout{root: s.cfg.Root}.compare(ctx, a.Commit, b.Commit)
}

// record notes the deploy as its source's newest on each role it reached,
// unless the record holds a newer one: a re-run of an older run, or
// --no-coalesce, leaves the record as it was, so that the deploys older
// than the newest still step aside. A record that cannot be written is
// reported; the deploy stands.
func (s *session) record(ctx context.Context, a *admitted, version string, outcomes []deploy.Outcome) {
	order := a.ticket.Order
	if order.Source == "" {
		return
	}
	var reached []string
	for _, o := range outcomes {
		if (o.Result == deploy.Deployed || o.Result == deploy.Unchanged) && !slices.Contains(reached, o.Role) {
			reached = append(reached, o.Role)
		}
	}
	for _, role := range reached {
		record := a.records[role]
		if record == nil {
			record = map[string]deploy.Latest{}
		}
		if last, ok := record[order.Source]; ok {
			if c, decided, _ := s.compareOrders(ctx, last.Order, order); decided && c > 0 {
				continue
			}
		}
		record[order.Source] = deploy.Latest{Version: version, Order: order, Performer: a.ticket.Performer,
			From: a.ticket.From, Requested: a.ticket.Since, At: time.Now()}
		if err := deploy.WriteLatest(context.WithoutCancel(ctx), a.primary, s.cfg, role, record); err != nil {
			s.UI.Warnf("%v: %s is deployed, but an older deploy from %s that comes later will not know to step aside", err, version, order.Source)
		}
	}
}

// rolesOf lists the roles of units, once each, in order.
func rolesOf(units []deploy.Unit) []string {
	var roles []string
	for _, u := range units {
		if !slices.Contains(roles, u.Role.Name) {
			roles = append(roles, u.Role.Name)
		}
	}
	return roles
}

// checkout asks the project's git checkout about commits.
type checkout struct{ root string }

// compare orders commit a against b: +1 when a descends from b, -1 when b
// descends from a. decided is false when this checkout cannot tell, how
// then saying why.
func (c checkout) compare(ctx context.Context, a, b string) (int, bool, string) {
	for _, commit := range []string{a, b} {
		if !c.has(ctx, commit) {
			return 0, false, fmt.Sprintf("commit %s is not in this checkout (git fetch lets ship compare)", short(commit))
		}
	}
	if yes, err := c.isAncestor(ctx, b, a); err != nil {
		return 0, false, err.Error()
	} else if yes {
		return 1, true, fmt.Sprintf("commit %s descends from %s", short(a), short(b))
	}
	if yes, err := c.isAncestor(ctx, a, b); err != nil {
		return 0, false, err.Error()
	} else if yes {
		return -1, true, fmt.Sprintf("commit %s descends from %s", short(b), short(a))
	}
	// A shallow clone lacks the history that may join them.
	if out, _ := c.git(ctx, "rev-parse", "--is-shallow-repository"); out == "true" {
		return 0, false, "this checkout is shallow (fetch its whole history, and ship can compare)"
	}
	return 0, false, fmt.Sprintf("commits %s and %s are on diverging histories (a rebase, or a force-push?)", short(a), short(b))
}

// has reports whether the checkout has commit.
func (c checkout) has(ctx context.Context, commit string) bool {
	_, err := c.git(ctx, "cat-file", "-e", commit+"^{commit}")
	return err == nil
}

// isAncestor reports whether commit a is an ancestor of b.
func (c checkout) isAncestor(ctx context.Context, a, b string) (bool, error) {
	_, err := c.git(ctx, "merge-base", "--is-ancestor", a, b)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return false, nil
	}
	return false, err
}

// branch is the branch checked out, or HEAD when it is detached.
func (c checkout) branch(ctx context.Context) string {
	if name, err := c.git(ctx, "symbolic-ref", "-q", "--short", "HEAD"); err == nil && name != "" {
		return name
	}
	return "HEAD"
}

func (c checkout) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = c.root
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() != 1 {
			return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(string(exit.Stderr)))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
