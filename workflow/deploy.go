package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/audit"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/hooks"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/spec"
)

// DeployRequest is ship deploy (and ship setup, ship app boot).
type DeployRequest struct {
	Globals
	// Version is the version to deploy; "" is the git commit, with a
	// suffix when the tree is dirty.
	Version string
	// SkipBuild deploys IMAGE:VERSION as it is, locally or in the
	// registry.
	SkipBuild bool
	// NoCoalesce runs even if a newer deploy waits in the queue.
	NoCoalesce bool
	// AtStep, if set, is told of each swap step (tests stop there).
	AtStep func(deploy.Step)
	// redeploy is set by Redeploy.
	redeploy bool
}

// Deploy builds the image (unless SkipBuild) and swaps it in on the
// selected hosts and roles through the deploy queue. The report says how
// it ended, whatever the error.
func Deploy(ctx context.Context, r DeployRequest) (*deploy.Report, error) {
	// The version is checked before anything uses it: the report goes to
	// the step summary and the version output, where "v1|<img …>" or a
	// newline would be Markdown or another output.
	if r.Version != "" {
		if err := spec.CheckVersion(r.Version); err != nil {
			rep := newReport("deploy", "")
			return rep, finish(r.UI.Redactor, rep, usage(err))
		}
	}
	rep := newReport("deploy", r.Version) // the version until the git commit is known
	return rep, finish(r.UI.Redactor, rep, deployInto(ctx, r, rep))
}

// Redeploy is Kamal's redeploy: Deploy without booting kamal-proxy (it
// must run already where a role is proxied) and without pruning old
// containers. Its report, queue ticket and audit entries are a deploy's;
// its hooks see the command redeploy.
func Redeploy(ctx context.Context, r DeployRequest) (*deploy.Report, error) {
	r.redeploy = true
	return Deploy(ctx, r)
}

func deployInto(ctx context.Context, r DeployRequest, rep *deploy.Report) error {
	cfg, err := LoadConfig(r.Globals)
	if err != nil {
		return err
	}
	rep.Service, rep.Destination = cfg.Service, cfg.Destination
	if !r.SkipBuild {
		rep.Clock.All(deploy.PhaseBuild)
	}
	version, err := buildVersion(ctx, r.Globals, cfg, r.Version, r.SkipBuild)
	rep.Clock.All(deploy.PhaseLocal)
	if err != nil {
		return err
	}
	rep.Version = version
	return swap(ctx, r.Globals, cfg, version, swapOptions{report: rep, noCoalesce: r.NoCoalesce, atStep: r.AtStep, redeploy: r.redeploy})
}

// RollbackRequest is ship rollback.
type RollbackRequest struct {
	Globals
	Version string // a retained version
	// RestoreData puts the databases back as they were before the deploy
	// that replaced Version; later writes are set aside beside them.
	RestoreData bool
	// Yes agrees to RestoreData without asking.
	Yes    bool
	AtStep func(deploy.Step)
}

// Rollback swaps a retained version back in, through the deploy queue.
// The report says how it ended, whatever the error.
func Rollback(ctx context.Context, r RollbackRequest) (*deploy.Report, error) {
	// Checked first, as for Deploy: only a valid version reaches the report.
	if err := spec.CheckVersion(r.Version); err != nil {
		rep := newReport("rollback", "")
		return rep, finish(r.UI.Redactor, rep, usage(err))
	}
	rep := newReport("rollback", r.Version)
	return rep, finish(r.UI.Redactor, rep, rollbackInto(ctx, r, rep))
}

func rollbackInto(ctx context.Context, r RollbackRequest, rep *deploy.Report) error {
	cfg, err := LoadConfig(r.Globals)
	if err != nil {
		return err
	}
	rep.Service, rep.Destination = cfg.Service, cfg.Destination
	if r.RestoreData {
		rep.Clock.All(deploy.PhaseConfirm)
		err := confirmRestoreData(ctx, r, cfg)
		rep.Clock.All(deploy.PhaseLocal)
		if err != nil {
			return err
		}
	}
	return swap(ctx, r.Globals, cfg, r.Version, swapOptions{rollback: true, restoreData: r.RestoreData, report: rep, atStep: r.AtStep})
}

// confirmRestoreData checks that the restore point exists before anything
// stops, and has the user agree to set the later writes aside.
func confirmRestoreData(ctx context.Context, r RollbackRequest, cfg *config.Config) error {
	s, h, err := dbSession(ctx, r.Globals, cfg)
	if err != nil {
		return fmt.Errorf("--restore-data: %w", err)
	}
	defer s.close()
	if err := database.HasRestorePoint(ctx, h, cfg, r.Version); err != nil {
		return err
	}
	fmt.Fprintf(r.UI.Err, "WARNING: --restore-data puts %s on %s back as they were before the deploy that replaced %s.\n"+
		"Every write since then is set aside in a directory beside each database, NOT kept in the database.\n",
		strings.Join(cfg.KnownDatabases(h.Name, cfg.PrimaryRole), ", "), h.Name, r.Version)
	if !r.Yes && !r.confirm("Roll back the code and the data? [y/N] ") {
		return errors.New("not rolled back: confirm on a terminal, or pass --yes")
	}
	return nil
}

// Setup prepares the selected hosts (volumes, network, the databases from
// their replica on a new server, accessories), then deploys, leaving a
// role alone where the version already runs.
func Setup(ctx context.Context, r DeployRequest) error {
	cfg, err := LoadConfig(r.Globals)
	if err != nil {
		return err
	}
	version, err := buildVersion(ctx, r.Globals, cfg, r.Version, r.SkipBuild)
	if err != nil {
		return err
	}
	local, err := localEngine()
	if err != nil {
		return err
	}
	defer local.Close()
	prepare := func(ctx context.Context, s *session) error {
		hosts := slices.Sorted(maps.Keys(s.engines))
		litestreamHost, _ := database.Host(cfg)
		return fleet.EachPrefixed(ctx, s.output(), hosts, 0, func(ctx context.Context, name string, w io.Writer) error {
			h := s.engines[name]
			if err := deploy.Setup(ctx, h, cfg, w); err != nil {
				return err
			}
			// A new server gets its data back before anything runs on
			// it, then the accessories, then the app.
			if name == litestreamHost {
				if err := database.RestoreIfMissing(ctx, h, local, cfg, w); err != nil {
					return err
				}
			}
			for _, a := range accessories.On(cfg, name) {
				if err := accessories.Boot(ctx, h, local, cfg, a, false, w); err != nil {
					return fmt.Errorf("accessory %s: %w", a.Name, err)
				}
			}
			return nil
		})
	}
	return swap(ctx, r.Globals, cfg, version, swapOptions{keepRunning: true, before: prepare, atStep: r.AtStep})
}

type swapOptions struct {
	rollback    bool
	restoreData bool // rollback --restore-data
	keepRunning bool // setup: leave a version that already runs alone
	redeploy    bool // no kamal-proxy boot, no pruning
	noCoalesce  bool
	report      *deploy.Report
	atStep      func(deploy.Step)
	// before runs first under the queue, on the connected hosts (setup).
	before func(ctx context.Context, s *session) error
}

// swap runs a deploy or rollback through the deploy queue on the selected
// hosts and roles, and reports each one's outcome.
func swap(ctx context.Context, g Globals, cfg *config.Config, version string, opts swapOptions) error {
	s, err := openWith(g, cfg)
	if err != nil {
		return err
	}
	defer s.close()
	if opts.report != nil {
		s.timeline = opts.report.Clock
	}
	s.timeline.Hosts(s.hosts...)
	roles, err := s.roles()
	if err != nil {
		return err
	}
	command := "deploy"
	if opts.rollback {
		command = "rollback"
	}
	var pages proxy.ErrorPages
	if cfg.ErrorPagesPath != "" && !opts.rollback && slices.ContainsFunc(cfg.Roles, func(r *config.Role) bool { return r.Proxy != nil }) {
		if pages, err = proxy.ReadErrorPages(projectPath(cfg, cfg.ErrorPagesPath)); err != nil {
			return usage(err)
		}
	}
	hookCommand := command
	if opts.redeploy {
		hookCommand = "redeploy"
	}
	hook := s.hookRunner(hookCommand, version, 0)
	if err := hook(ctx, hooks.PreConnect); err != nil {
		return err
	}
	s.timeline.All(deploy.PhaseConnect)
	err = s.connect(ctx)
	s.timeline.All(deploy.PhaseLocal)
	if err != nil {
		return err
	}
	units := deploy.Plan(cfg, s.hosts, roles)
	hosts, err := s.withWriters(ctx, units)
	if err != nil {
		return err
	}
	req := deploy.Request{
		Config:      cfg,
		Units:       units,
		Hosts:       hosts,
		Version:     version,
		Rollback:    opts.rollback,
		KeepRunning: opts.keepRunning,
		Redeploy:    opts.redeploy,
		Out:         s.output(),
		Hook:        hook,
		Performer:   audit.Performer(),
		AtStep:      opts.atStep,
		Redactor:    s.UI.Redactor,
		ErrorPages:  pages,
		Timeline:    s.timeline,
	}
	restoreVersion := ""
	if opts.restoreData {
		restoreVersion = version
	}
	req.Data = database.DataStep(cfg, restoreVersion)
	req.PrepareData = database.PrepareStep(cfg, restoreVersion)
	if opts.restoreData {
		// Putting the data back may outlast a pause: clients get a 503
		// with a message instead of a wait that times out.
		req.Maintenance = deploy.DataMaintenanceMessage
	}
	req.Undo, req.Tally = database.UndoStep(cfg), database.TallyStep(cfg)
	if !opts.rollback {
		local, err := localEngine()
		if err != nil {
			return err
		}
		defer local.Close()
		req.Local = local
		req.Terminal = s.Terminal
		// The image travels while the deploy waits for the queue.
		req.Images = deploy.SendImages(ctx, req)
		defer req.Images.Close()
	}
	// A deploy's order key places it among its source's deploys; a
	// rollback is a person's choice, never ordered away.
	var order queue.Order
	if !opts.rollback {
		order = orderFor(ctx, cfg, version)
	}
	req.Order = order.String()
	if opts.report != nil {
		opts.report.Order = orderPtr(order)
	}
	// A re-run, like --no-coalesce, deploys what it was asked to.
	coalesce := !opts.rollback && !opts.keepRunning && !opts.noCoalesce && !order.Rerun()
	ticket := queue.Ticket{Command: command, Version: version, Coalesce: coalesce, Order: order}
	return s.mutateOrdered(ctx, req.Units, ticket, func(ctx context.Context, a *admitted) error {
		if opts.before != nil {
			if err := opts.before(ctx, s); err != nil {
				return err
			}
		}
		if r := a.replaced; r != nil && opts.report != nil {
			opts.report.ReplacedNewer = newer(r.Ticket(), newerReason(r.Order, r.Version, ""), true)
		}
		start := time.Now()
		var outcomes []deploy.Outcome
		// A gate that cannot be installed is reported after the outcomes.
		gateErr := s.aroundReplicas(ctx, &req, func() { outcomes = deploy.Run(ctx, req) })
		if opts.restoreData && dataPutBack(cfg, outcomes) {
			gateErr = errors.Join(gateErr, s.reseedFollowers(ctx))
		}
		if !opts.rollback {
			s.timeline.All(deploy.PhaseLatest)
			s.record(ctx, a, version, outcomes)
		}
		s.timeline.All(deploy.PhaseReport)
		if opts.report != nil {
			opts.report.Add(outcomes)
		}
		if err := s.printOutcomes(outcomes); err != nil {
			return err
		}
		if gateErr != nil {
			return gateErr
		}
		defer s.timeline.All(deploy.PhaseReport)
		return s.hookRunner(hookCommand, version, time.Since(start))(ctx, hooks.PostDeploy)
	})
}

// dataPutBack tells whether a rollback --restore-data put a writer's data
// back: then the followers' copies are ahead of it.
func dataPutBack(cfg *config.Config, outcomes []deploy.Outcome) bool {
	return slices.ContainsFunc(outcomes, func(o deploy.Outcome) bool {
		r := cfg.Role(o.Role)
		return r != nil && !r.IsReplica() && o.Result == deploy.RolledBack && o.Err == nil
	})
}

// hookRunner runs local hooks with the deploy's SHIP_* (and KAMAL_*)
// variables; a hook that fails stops the command.
func (s *session) hookRunner(command, version string, runtime time.Duration) func(context.Context, string) error {
	env := hooks.Env{
		Service: s.cfg.Service, Version: version, Destination: s.cfg.Destination, Command: command,
		Performer: audit.Performer(), Hosts: s.hosts, RecordedAt: time.Now(), Runtime: runtime,
	}
	return func(ctx context.Context, name string) error {
		if _, err := os.Stat(hooks.File(s.cfg.Root, s.cfg.HooksPath, name)); err == nil {
			s.timeline.All(deploy.PhaseHook)
		}
		ran, err := hooks.Run(ctx, s.cfg.Root, s.cfg.HooksPath, name, env, s.UI.Out, s.UI.Err)
		if ran && err == nil {
			s.UI.Infof("ran hook %s", name)
		}
		return err
	}
}

// printOutcomes prints one line per host and role, and fails if any
// failed.
func (s *session) printOutcomes(outcomes []deploy.Outcome) error {
	tw := tabwriter.NewWriter(s.UI.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nHOST\tROLE\tFROM\tTO\tRESULT\tTIME")
	failed := 0
	for _, o := range outcomes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1fs\n", o.Host, o.Role, orDash(o.From), o.To, o.Result, o.Took.Seconds())
		if o.Err != nil {
			failed++
		}
	}
	tw.Flush()
	for _, o := range outcomes {
		if o.Err != nil {
			fmt.Fprintf(s.UI.Err, "%s %s: %v\n", o.Host, o.Role, o.Err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d swaps failed", failed, len(outcomes))
	}
	return nil
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// dbSession connects to the host the litestream section runs on.
func dbSession(ctx context.Context, g Globals, cfg *config.Config) (*session, *host.Host, error) {
	name, err := database.Host(cfg)
	if err != nil {
		return nil, nil, usage(err)
	}
	s := newSession(g, cfg, []string{name})
	if err := s.connect(ctx); err != nil {
		s.close()
		return nil, nil, err
	}
	return s, s.engines[name], nil
}

// projectPath is a path from the config, relative to the project's root
// unless absolute, as Kamal reads error_pages_path.
func projectPath(cfg *config.Config, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(cfg.Root, p)
}
