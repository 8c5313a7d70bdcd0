package workflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/app"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
)

// appTarget is one selected role on one selected host, with the host's
// engine.
type appTarget struct {
	host *host.Host
	unit deploy.Unit
}

// name is how output and errors name the target: "HOST ROLE".
func (t appTarget) name() string { return t.unit.Host.Address + " " + t.unit.Role.Name }

// appTargets lists the selected roles on each selected host, in the order
// deploy.Plan gives, each with its host's engine (nil before connecting).
func appTargets(cfg *config.Config, hosts, roles []string, engines map[string]*host.Host) []appTarget {
	var out []appTarget
	for _, u := range deploy.Plan(cfg, hosts, roles) {
		out = append(out, appTarget{host: engines[u.Host.Address], unit: u})
	}
	return out
}

// appSession opens the selected hosts, connects to them, and lists the
// selected roles on each. The caller closes the session.
func appSession(ctx context.Context, g Globals) (*session, []appTarget, error) {
	s, err := open(g)
	if err != nil {
		return nil, nil, err
	}
	roles, err := s.roles()
	if err != nil {
		s.close()
		return nil, nil, err
	}
	if err := s.connect(ctx); err != nil {
		s.close()
		return nil, nil, err
	}
	return s, appTargets(s.cfg, s.hosts, roles, s.engines), nil
}

// eachAppTarget runs fn for every target, all at once, each writing
// through its own "[HOST ROLE] " prefixed writer, and joins the failures.
func (s *session) eachAppTarget(ctx context.Context, targets []appTarget, fn func(ctx context.Context, t appTarget, w io.Writer) error) error {
	byName := map[string]appTarget{}
	var names []string
	for _, t := range targets {
		byName[t.name()] = t
		names = append(names, t.name())
	}
	return fleet.EachPrefixed(ctx, s.output(), names, 0, func(ctx context.Context, name string, w io.Writer) error {
		return fn(ctx, byName[name], w)
	})
}

// appMutate runs fn on every target through the deploy queue, after
// repairing any swap a killed ship left half-done on them.
func appMutate(ctx context.Context, g Globals, command string, fn func(ctx context.Context, cfg *config.Config, t appTarget, w io.Writer) error) error {
	s, targets, err := appSession(ctx, g)
	if err != nil {
		return err
	}
	defer s.close()
	var units []deploy.Unit
	for _, t := range targets {
		units = append(units, t.unit)
	}
	return s.mutate(ctx, units, queue.Ticket{Command: command}, func(ctx context.Context) error {
		return s.eachAppTarget(ctx, targets, func(ctx context.Context, t appTarget, w io.Writer) error {
			return fn(ctx, s.cfg, t, w)
		})
	})
}

// AppStart starts the newest version of each selected role where none is
// running (ship app start), through the deploy queue.
func AppStart(ctx context.Context, g Globals) error {
	return appMutate(ctx, g, "app start", func(ctx context.Context, cfg *config.Config, t appTarget, w io.Writer) error {
		return deploy.Start(ctx, t.host, cfg, t.unit.Role, "", w)
	})
}

// AppStop stops the running containers of the selected roles (ship app
// stop), through the deploy queue.
func AppStop(ctx context.Context, g Globals) error {
	return appMutate(ctx, g, "app stop", func(ctx context.Context, cfg *config.Config, t appTarget, w io.Writer) error {
		return deploy.Stop(ctx, t.host, cfg, t.unit.Role, w)
	})
}

// AppMaintenanceRequest is ship app maintenance.
type AppMaintenanceRequest struct {
	Globals
	// DrainTimeout is how long requests in flight may take to finish;
	// 0 is the config's drain_timeout.
	DrainTimeout time.Duration
	// Message is shown to clients while in maintenance, in the 503 page;
	// "" is kamal-proxy's own text.
	Message string
}

// AppMaintenance puts each selected proxied role in maintenance, through
// the deploy queue: kamal-proxy answers every request 503 with the
// message and the app's error page until ship app live, deploys included.
// Roles without the proxy are left alone, as Kamal does.
func AppMaintenance(ctx context.Context, r AppMaintenanceRequest) error {
	return appMutate(ctx, r.Globals, "app maintenance", func(ctx context.Context, cfg *config.Config, t appTarget, w io.Writer) error {
		drain := r.DrainTimeout
		if drain == 0 {
			drain = cfg.DrainTimeout
		}
		_, err := deploy.Maintenance(ctx, t.host, cfg, t.unit.Role, drain, r.Message, w)
		return err
	})
}

// AppLive ends the maintenance of each selected proxied role, through the
// deploy queue.
func AppLive(ctx context.Context, g Globals) error {
	return appMutate(ctx, g, "app live", func(ctx context.Context, cfg *config.Config, t appTarget, w io.Writer) error {
		return deploy.Live(ctx, t.host, cfg, t.unit.Role, w)
	})
}

// AppContainerRow is one container of a role on a host.
type AppContainerRow struct {
	Host, Role, Container, Version, State, Status string
}

// AppContainerList is what ship app details and ship app containers
// show.
type AppContainerList struct {
	// Rows are the containers, newest first within each host and role.
	Rows []AppContainerRow
	// Unlisted names each host whose containers could not be listed; the
	// other hosts' rows are in Rows all the same.
	Unlisted error
}

// AppDetails lists the running containers of the selected roles (ship app
// details).
func AppDetails(ctx context.Context, g Globals) (AppContainerList, error) {
	return appContainers(ctx, g, true)
}

// AppContainers lists every container of the selected roles: the running
// one and the versions retained for rollback (ship app containers).
func AppContainers(ctx context.Context, g Globals) (AppContainerList, error) {
	return appContainers(ctx, g, false)
}

func appContainers(ctx context.Context, g Globals, runningOnly bool) (AppContainerList, error) {
	s, targets, err := appSession(ctx, g)
	if err != nil {
		return AppContainerList{}, err
	}
	defer s.close()
	var list AppContainerList
	var errs []error
	for _, t := range targets {
		cts, err := deploy.Containers(ctx, t.host, s.cfg, t.unit.Role.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.host.Name, err))
			continue
		}
		for _, ct := range cts {
			if runningOnly && ct.State != "running" {
				continue
			}
			list.Rows = append(list.Rows, AppContainerRow{Host: t.host.Name, Role: t.unit.Role.Name,
				Container: ct.Name, Version: ct.Version, State: ct.State, Status: ct.Status})
		}
	}
	list.Unlisted = errors.Join(errs...)
	return list, nil
}

// AppVersionRow is the version a role runs on a host.
type AppVersionRow struct {
	Host, Role string
	Version    string // "" when none is running
}

// AppVersion tells which version each selected role runs on each selected
// host (ship app version). It stops at the first host it cannot ask,
// returning the rows before it with the error.
func AppVersion(ctx context.Context, g Globals) ([]AppVersionRow, error) {
	s, targets, err := appSession(ctx, g)
	if err != nil {
		return nil, err
	}
	defer s.close()
	var rows []AppVersionRow
	for _, t := range targets {
		cts, err := deploy.Containers(ctx, t.host, s.cfg, t.unit.Role.Name)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", t.host.Name, err)
		}
		row := AppVersionRow{Host: t.host.Name, Role: t.unit.Role.Name}
		for _, ct := range cts {
			if ct.State == "running" {
				row.Version = ct.Version
				break
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// AppLogsRequest is ship app logs.
type AppLogsRequest struct {
	Globals
	Follow bool   // keep printing new lines
	Lines  int    // from the end; 0 is all
	Since  string // only lines since, e.g. 10m or 2026-11-21T06:00:00
	Grep   string // only lines containing this text
}

// AppLogs writes the logs of the selected roles on the selected hosts,
// each line under its "[HOST ROLE] " prefix.
func AppLogs(ctx context.Context, r AppLogsRequest) error {
	s, targets, err := appSession(ctx, r.Globals)
	if err != nil {
		return err
	}
	defer s.close()
	opts := host.LogOptions{Follow: r.Follow, Lines: r.Lines, Since: r.Since, Grep: r.Grep}
	return s.eachAppTarget(ctx, targets, func(ctx context.Context, t appTarget, w io.Writer) error {
		return app.Logs(ctx, t.host, s.cfg, t.unit.Role.Name, opts, w)
	})
}

// AppExecRequest is ship app exec.
type AppExecRequest struct {
	Globals
	// Command is the command as typed: its words are joined and split
	// again as a shell would, so "bin/rails runner 'puts 1'" in one
	// argument runs as it does in several.
	Command []string
	// New runs it in a one-off container of the running version with the
	// app's volumes mounted read-only, not in the running container.
	New bool
	// Interactive attaches Stdin and the UI's writers to the command in
	// the running container of the one selected host and role, on a TTY.
	Interactive bool
	// Stdin is the terminal an interactive command reads; nil when ship's
	// stdin is not a terminal.
	Stdin AppExecTerminal
}

// AppExecTerminal is the terminal ship app exec --interactive reads from.
type AppExecTerminal interface {
	io.Reader
	// MakeRaw puts the terminal into raw mode; restore puts it back.
	MakeRaw() (restore func(), err error)
}

// AppExec runs a command in the running container of each selected role on
// each selected host, or with New in a one-off container, and fails if it
// exits non-zero anywhere.
func AppExec(ctx context.Context, r AppExecRequest) error {
	cmd, err := appExecCommand(r)
	if err != nil {
		return err
	}
	s, targets, err := appSession(ctx, r.Globals)
	if err != nil {
		return err
	}
	defer s.close()
	if r.Interactive {
		return appExecInteractive(ctx, s.cfg, targets, cmd, r)
	}
	return s.eachAppTarget(ctx, targets, func(ctx context.Context, t appTarget, w io.Writer) error {
		var status int
		var err error
		if r.New {
			status, err = app.ExecNew(ctx, t.host, s.cfg, t.unit.Role, t.unit.Host, cmd, w, w)
		} else {
			status, err = app.Exec(ctx, t.host, s.cfg, t.unit.Role.Name, cmd, nil, w, w)
		}
		return appExecErr(status, err)
	})
}

// appExecCommand checks the request before any host is contacted, and
// splits the command into its words.
func appExecCommand(r AppExecRequest) ([]string, error) {
	if len(r.Command) == 0 {
		return nil, usage(errors.New(`app exec needs a command, e.g. ship app exec "bin/rails runner 'puts 1'"`))
	}
	cmd, err := shellquote.Split(strings.Join(r.Command, " "))
	if err != nil {
		return nil, usage(fmt.Errorf("command: %w", err))
	}
	if r.Interactive && r.New {
		return nil, usage(errors.New("--interactive runs in the running container; it cannot be combined with --new"))
	}
	return cmd, nil
}

// appExecInteractive attaches the terminal to a command in the running
// container of the one selected host and role.
func appExecInteractive(ctx context.Context, cfg *config.Config, targets []appTarget, cmd []string, r AppExecRequest) error {
	t, err := interactiveTarget(targets, r.Stdin)
	if err != nil {
		return err
	}
	restore, err := r.Stdin.MakeRaw()
	if err != nil {
		return err
	}
	defer restore()
	return appExecErr(app.Exec(ctx, t.host, cfg, t.unit.Role.Name, cmd, r.Stdin, r.UI.Out, r.UI.Err))
}

// interactiveTarget is the one target an interactive command runs on, on
// a terminal.
func interactiveTarget(targets []appTarget, stdin AppExecTerminal) (appTarget, error) {
	if len(targets) != 1 {
		return appTarget{}, usage(fmt.Errorf("--interactive needs exactly one host and role; %d are selected (use --hosts and --roles, or -p)", len(targets)))
	}
	if stdin == nil {
		return appTarget{}, usage(errors.New("--interactive needs a terminal"))
	}
	return targets[0], nil
}

// appExecErr fails on a command's non-zero exit status.
func appExecErr(status int, err error) error {
	if err == nil && status != 0 {
		err = fmt.Errorf("exit status %d", status)
	}
	return err
}

// AppRemoveRequest is ship app remove.
type AppRemoveRequest struct {
	Globals
	Yes bool // do not ask
}

// AppRemove stops and removes the app's containers and images on the
// selected hosts, through the deploy queue; volumes and data are kept.
// Without Yes, the user must agree first.
func AppRemove(ctx context.Context, r AppRemoveRequest) error {
	if !r.Yes && !r.confirm("Remove every container and image of the app on the selected hosts (volumes are kept)? [y/N] ") {
		return errors.New("not removed: confirm on a terminal, or pass --yes")
	}
	s, err := open(r.Globals)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.connect(ctx); err != nil {
		return err
	}
	// No repair first: everything is removed anyway.
	return s.mutate(ctx, nil, queue.Ticket{Command: "app remove"}, func(ctx context.Context) error {
		err := fleet.EachPrefixed(ctx, s.output(), s.hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
			return app.Remove(ctx, s.engines[h], s.cfg, w)
		})
		if err != nil {
			return err
		}
		// With the whole app gone, no deploy can be older than what is
		// deployed: the next one from any run or commit goes ahead.
		if all, _ := fleet.Select(s.cfg, "", ""); len(s.hosts) == len(all) {
			primary := s.cfg.PrimaryHost()
			return deploy.ForgetLatest(ctx, &host.Host{Name: primary, Shell: s.pool.Conn(primary)}, s.cfg)
		}
		return nil
	})
}

// AppStaleRequest is ship app stale_containers.
type AppStaleRequest struct {
	Globals
	Stop bool // stop the stale containers, through the deploy queue
}

// AppStaleRow is what stale_containers found for one role on one host.
type AppStaleRow struct {
	Host, Role string
	// Current is the container that serves; "" when none runs.
	Current string
	// Stale are the other running containers: second writers.
	Stale []deploy.AppContainer
	// Stopped is set when Stale were stopped.
	Stopped bool
}

// AppStaleContainers finds the containers of old versions still running
// beside the one that serves (ship app stale_containers): each is a
// second writer of the app's database. With Stop they are stopped,
// through the deploy queue, by the deploy package.
func AppStaleContainers(ctx context.Context, r AppStaleRequest) ([]AppStaleRow, error) {
	var rows []AppStaleRow
	var mu sync.Mutex
	add := func(t appTarget, st deploy.Stale, stopped bool) {
		mu.Lock()
		defer mu.Unlock()
		rows = append(rows, AppStaleRow{Host: t.host.Name, Role: t.unit.Role.Name, Current: st.Current.Name, Stale: st.Others, Stopped: stopped && len(st.Others) > 0})
	}
	s, targets, err := appSession(ctx, r.Globals)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if r.Stop {
		// No repair first: it takes two running containers for a swap
		// cut short and restarts the one that serves too. Stopping the
		// others starts nothing, so it needs no repair to be safe.
		err := s.mutate(ctx, nil, queue.Ticket{Command: "app stale_containers --stop"}, func(ctx context.Context) error {
			return s.eachAppTarget(ctx, targets, func(ctx context.Context, t appTarget, w io.Writer) error {
				st, err := deploy.StopStale(ctx, t.host, s.cfg, t.unit.Role, w)
				add(t, st, err == nil)
				return err
			})
		})
		return sortStale(rows), err
	}
	var errs []error
	for _, t := range targets {
		st, err := deploy.FindStale(ctx, t.host, s.cfg, t.unit.Role.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.name(), err))
			continue
		}
		add(t, st, false)
	}
	return rows, errors.Join(errs...)
}

// sortStale orders rows by host and role: they were found in parallel.
func sortStale(rows []AppStaleRow) []AppStaleRow {
	slices.SortStableFunc(rows, func(a, b AppStaleRow) int {
		return cmp.Or(cmp.Compare(a.Host, b.Host), cmp.Compare(a.Role, b.Role))
	})
	return rows
}

// AppImageRow is one tag of the app's image on one host.
type AppImageRow struct {
	Host string
	app.Image
}

// AppImages lists the tags of the app's image on each selected host (ship
// app images). The rows of the hosts it could list come back with the
// errors of the others.
func AppImages(ctx context.Context, g Globals) ([]AppImageRow, error) {
	s, err := open(g)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	var rows []AppImageRow
	var errs []error
	for _, h := range s.hosts {
		imgs, err := app.Images(ctx, s.engines[h], s.cfg)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", h, err))
			continue
		}
		for _, img := range imgs {
			rows = append(rows, AppImageRow{Host: h, Image: img})
		}
	}
	return rows, errors.Join(errs...)
}
