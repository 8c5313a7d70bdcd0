package deploy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/audit"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/guard"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/redact"
	"github.com/shipdeploy/ship/spec"
)

// The swap, for every (host, role) a deploy or rollback touches:
//
//  Before the queue admits the deploy, the image starts on its way to
//  each host (images.go: a load only adds an image, and the transfer
//  overlaps the wait).
//  Prepare, on all hosts at once:
//   1. the image is on the host (deploy): the early delivery has ended,
//      and the image is still there, or it is sent now; kamal-proxy runs
//      there if the role is proxied; its services' states are read
//      meanwhile, for step 5;
//   2. the role's env file is written, mode 0600, while the image arrives;
//   3. the new container is created, not started (deploy), or the retained
//      container of the version is found (rollback); with asset_path, the
//      version's assets volume is filled first (deploy/assets.go).
//  4. The pre-deploy hook runs, once.
//  Swap, per host, at most boot.limit hosts at once (a host waits
//  boot.wait for the slot of the one before):
//   5. single-writer check: no running container but the old version may
//      write to the app's volumes, else nothing is touched;
//      the request's PrepareData step runs while the old version still
//      serves: it copies the databases for step 7's restore point;
//      a proxied role's service is paused: kamal-proxy lets the requests
//      in flight finish and holds new ones, so the gap fails none; a
//      service in maintenance stays so, and one whose Data step may
//      outlast a pause (rollback --restore-data) is put in maintenance;
//   6. the old container is stopped (SIGTERM, stop_timeout) and has exited;
//   7. single-writer check again: nothing may write to the volumes now;
//      at this quiet point the request's Data step runs: it records a
//      restore point of the database, or puts one back (rollback
//      --restore-data);
//   8. the new container starts and must pass its health check within
//      deploy_timeout; kamal-proxy is pointed at it (checking it too) and
//      releases the held requests to it;
//   9. on success the new version is recorded healthy and the held
//      requests are released at once; the old container stays stopped,
//      retained for rollback, and older ones are pruned while the audit
//      log is written;
//      on failure the new one's last log lines are shown, and it is
//      stopped. Single-writer check again: this is a second quiet point,
//      and the request's Undo step runs: it compares each database with
//      the restore point of step 7, and if the new version changed a
//      schema (a migration at boot), it puts the restore point of every
//      database back, the set being one consistent state, sets the new
//      version's files aside beside each, and checks that the schema
//      matches again; an old version started on the new one's schema
//      would serve, and fail its writes. Then the old one is started
//      again, must be healthy, and is routed and resumed. Once it serves,
//      the request's Tally step counts the rows of the files set aside
//      against the restore point, so that what the failed version wrote
//      is reported with where it is.
//
// A replica role (replica_of) swaps as deploy/replica.go says, R1 to R4:
// it never writes, so its new container starts before the old one stops,
// and its hosts swap before the writer's.
//
// Old and new are never running at the same time: the database has one
// writer at every instant. A pause lasts as long as steps 6 to 8, usually
// well under a second, and always ends before kamal-proxy's max-pause: the
// new version's health wait is cut short so that putting the old one back
// fits too.
//
// The timeline (timeline.go) names each step's phases, in this order on
// a host: 1 proxy, image; 2 and 3 create (a rollback: retained); wait for
// the other hosts; 4 hook; wait for a boot slot; 5 check, copy, pause;
// 6 stop; 7 check, restore point; 8 start, health, route; 9 record,
// resume, audit (pruning meanwhile), prune, tag; or on failure stop,
// undo, restore, tally, resume, audit; then wait for the other hosts.

// Unit is one role on one host.
type Unit struct {
	Host config.Host
	Role *config.Role
}

// Request is one deploy or rollback.
type Request struct {
	Config *config.Config
	Units  []Unit
	Hosts  map[string]*host.Host
	// Local is the Docker Engine images are sent from; nil for a rollback.
	Local client.APIClient
	// Images, if set, is the version's image already on its way to the
	// hosts (SendImages); the caller closes it after Run.
	Images *Images
	// Terminal makes transfer progress frequent.
	Terminal bool
	Version  string
	Rollback bool
	// KeepRunning leaves a role alone where the version already runs, for
	// setup; a deploy of the running version replaces it.
	KeepRunning bool
	// Redeploy is Kamal's redeploy: kamal-proxy is not booted, it must
	// already run where a role is proxied (checked before anything stops),
	// and old containers are not pruned.
	Redeploy bool
	Out      *fleet.Output
	// Hook runs a local hook by name ("pre-deploy"); nil runs none.
	Hook func(ctx context.Context, name string) error
	// Performer is who asked, for the audit log on each host.
	Performer string
	// Order is the deploy's place among its source's deploys, for the
	// audit log: queue.Order's String; "" for none.
	Order string
	// Data, if set, runs in step 7, when nothing writes to the database:
	// from is the version that just stopped ("" if none). An error puts
	// the old version back.
	Data func(ctx context.Context, h *host.Host, r *config.Role, from string, out io.Writer) error
	// PrepareData, if set, runs in step 5 just before the pause, while
	// the old version from still serves: the slow part of the Data step
	// (the bulk of the restore point's copy). The step it returns, when
	// not nil, runs in step 7 in place of Data, and release runs when the
	// swap ends. An error ends the swap before anything is touched.
	PrepareData func(ctx context.Context, h *host.Host, r *config.Role, from string, out io.Writer) (data func(ctx context.Context, h *host.Host, r *config.Role, from string, out io.Writer) error, release func(), err error)
	// Undo, if set, runs in step 9 when the new version (failed) started
	// and failed, once it has stopped and nothing writes, before from
	// starts again; it is not called when nothing ran before. It compares
	// the databases with the restore point Data recorded and puts that
	// back if a schema changed.
	Undo func(ctx context.Context, h *host.Host, r *config.Role, from, failed string, out io.Writer) *DataUndo
	// Tally, if set, runs after step 9 when Undo set files aside: it
	// fills in the row counts they differ by from the restore point.
	Tally func(ctx context.Context, h *host.Host, r *config.Role, from string, u *DataUndo, out io.Writer)
	// AtStep, if set, is called as the swap passes each Step.
	AtStep func(Step)
	// ErrorPages are error_pages_path's pages, installed for the version
	// on each host with a proxied role (a deploy); nil for none.
	ErrorPages proxy.ErrorPages
	// Maintenance, if set, puts a proxied role's service in maintenance
	// with this message for the swap instead of pausing it: the Data step
	// may take longer than kamal-proxy would hold requests (rollback
	// --restore-data). The service goes live again after, unless it was
	// in maintenance before.
	Maintenance string
	// Redactor hides the config's secrets in the audit log's entries,
	// whose results quote errors; nil hides nothing.
	Redactor *redact.Redactor
	// Timeline, if set, records each host's phases as the swap passes
	// them: where the deploy's time goes.
	Timeline *Timeline
	// BeforeReplicas, if set, runs before the replica roles swap: it
	// makes their followers run. An error fails every replica's swap.
	BeforeReplicas func(ctx context.Context) error
	// WritersFirst swaps the writers before the replicas: on a first
	// deploy there is nothing for a follower to copy until the writer
	// ran and Litestream synced.
	WritersFirst bool
}

// Outcome is how one role on one host ended.
type Outcome struct {
	Host, Role string
	From, To   string // versions
	Result     Result // Deployed, RolledBack, Failed or Unchanged
	// Health is the target version's health check: Healthy, Unhealthy, or
	// NotChecked when the swap ended before it.
	Health Health
	// Data is what the failure path did to the databases, when the
	// target version started and failed; nil otherwise.
	Data *DataUndo
	Err  error
	Took time.Duration
}

// Run performs the request and reports every unit's outcome. Hosts are
// independent: one host failing does not stop the others.
func Run(ctx context.Context, req Request) []Outcome {
	hosts, units := byHost(req.Units)
	images := req.Images
	if images == nil {
		images = newImages(req)
		defer images.Close()
	}
	var readers sync.Mutex
	prepared := fleet.Each(ctx, hosts, maxDeliveries, func(ctx context.Context, name string) ([]*swap, error) {
		return prepare(ctx, req, images, req.Hosts[name], units[name], &readers)
	})
	var outcomes []Outcome
	var ready []string
	swaps := map[string][]*swap{}
	for _, p := range prepared {
		if p.Err != nil {
			for _, u := range units[p.Host] {
				outcomes = append(outcomes, Outcome{Host: p.Host, Role: u.Role.Name, To: req.Version, Result: Failed, Err: p.Err})
			}
			continue
		}
		ready = append(ready, p.Host)
		swaps[p.Host] = p.Value
	}
	req.at(StepCreated)
	if len(ready) > 0 && req.Hook != nil && !req.Rollback {
		err := req.Hook(ctx, "pre-deploy")
		req.Timeline.All(PhaseWait) // the hook marks itself
		if err != nil {
			for _, h := range ready {
				for _, s := range swaps[h] {
					s.discard(ctx)
					outcomes = append(outcomes, s.outcome(Failed, err))
					s.out.Close()
				}
			}
			return outcomes
		}
	}
	var mu sync.Mutex
	var started atomic.Int32
	// Replica hosts first (replica.go), then the writers', unless
	// WritersFirst.
	replicas, writers := splitReplicaHosts(ready, swaps)
	each := func(hosts []string) {
		fleet.Each(ctx, hosts, bootLimit(req.Config, len(hosts)), func(ctx context.Context, name string) (struct{}, error) {
			started.Add(1)
			serves := true
			for _, s := range swaps[name] {
				var o Outcome
				if s.unit.Role.IsReplica() {
					o = s.runReplica(ctx)
				} else {
					o = s.run(ctx)
				}
				// What follows the release overlaps: pruning old versions
				// and the audit log's entry.
				var after sync.WaitGroup
				if s.prunes {
					after.Go(func() { s.prune(ctx) })
				}
				s.mark(PhaseAudit)
				s.audit(ctx, req, o)
				serves = serves && o.Result != Failed
				if s.prunes {
					s.mark(PhasePrune)
				}
				after.Wait()
				s.out.Close()
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
			if serves {
				req.Timeline.Mark(name, "", PhaseTag)
				out := req.Out.Prefixed("[" + name + "] ")
				tagLatest(ctx, req.Hosts[name], req.Config, req.Version, out)
				out.Close()
			}
			req.Timeline.Mark(name, "", PhaseWait)
			// boot.wait: Kamal sleeps between its groups of boot.limit hosts;
			// here the next host waits for this one's slot that long.
			if w := req.Config.Boot.Wait; w > 0 && int(started.Load()) < len(ready) {
				bootWait(ctx, w)
			}
			return struct{}{}, nil
		})
	}
	replicaPhase := func() {
		if len(replicas) > 0 && req.BeforeReplicas != nil {
			if err := req.BeforeReplicas(ctx); err != nil {
				for _, h := range replicas {
					for _, s := range swaps[h] {
						s.discard(ctx)
						outcomes = append(outcomes, s.outcome(Failed, err))
						s.out.Close()
					}
				}
				return
			}
		}
		each(replicas)
	}
	if req.WritersFirst {
		each(writers)
		replicaPhase()
	} else {
		replicaPhase()
		each(writers)
	}
	return outcomes
}

// byHost groups units by host: the hosts each once, in the units' order,
// and each host's units.
func byHost(units []Unit) ([]string, map[string][]Unit) {
	var hosts []string
	of := map[string][]Unit{}
	for _, u := range units {
		if _, ok := of[u.Host.Address]; !ok {
			hosts = append(hosts, u.Host.Address)
		}
		of[u.Host.Address] = append(of[u.Host.Address], u)
	}
	return hosts, of
}

// splitReplicaHosts splits hosts into those that run only replica roles
// and the rest: a replica host never runs its writer role (config).
func splitReplicaHosts(hosts []string, swaps map[string][]*swap) (replicas, others []string) {
	for _, h := range hosts {
		if !slices.ContainsFunc(swaps[h], func(s *swap) bool { return !s.unit.Role.IsReplica() }) {
			replicas = append(replicas, h)
		} else {
			others = append(others, h)
		}
	}
	return replicas, others
}

func (req Request) at(step Step) {
	if req.AtStep != nil {
		req.AtStep(step)
	}
}

// mark marks phase beginning on the swap's host, for its role.
func (s *swap) mark(phase Phase) {
	s.timeline.Mark(s.host.Name, s.unit.Role.Name, phase)
}

// audit records a swap's outcome in the host's audit log. A log that
// cannot be written is reported but does not undo a finished swap.
func (s *swap) audit(ctx context.Context, req Request, o Outcome) {
	command := "deploy"
	if req.Rollback {
		command = "rollback"
	}
	versions := o.To
	if o.From != "" {
		versions = o.From + " -> " + o.To
	}
	result := o.Result.String()
	if o.Err != nil {
		result += ": " + o.Err.Error()
	}
	e := audit.Entry{Time: time.Now(), Performer: req.Performer, Command: command + " " + o.Role, Versions: versions, Result: result, Order: req.Order}
	if err := audit.Append(context.WithoutCancel(ctx), s.host.Shell, audit.Path(s.cfg.ServiceAndDestination()), e, req.Redactor); err != nil {
		fmt.Fprintf(req.Out.Prefixed("["+s.host.Name+"] "), "audit log: %v\n", err)
	}
}

// swap is one role's swap on one host.
type swap struct {
	cfg     *config.Config
	unit    Unit
	host    *host.Host
	out     io.WriteCloser
	target  string // container to run
	version string
	created bool // the target was created by this deploy
	start   time.Time
	data    func(ctx context.Context, h *host.Host, r *config.Role, from string, out io.Writer) error
	prepare func(ctx context.Context, h *host.Host, r *config.Role, from string, out io.Writer) (func(ctx context.Context, h *host.Host, r *config.Role, from string, out io.Writer) error, func(), error)
	undo    func(ctx context.Context, h *host.Host, r *config.Role, from, failed string, out io.Writer) *DataUndo
	tally   func(ctx context.Context, h *host.Host, r *config.Role, from string, u *DataUndo, out io.Writer)
	undone  *DataUndo // what undo did
	at      func(Step)
	// timeline is Request.Timeline.
	timeline *Timeline
	noPrune  bool // a redeploy keeps old containers
	prunes   bool // the swap succeeded: prune once it has released requests
	// pausedAt is when the role's kamal-proxy service was paused; zero
	// when it is not.
	pausedAt time.Time
	// maintenance is Request.Maintenance; stopped is whether the swap put
	// the service in maintenance, and so brings it live.
	maintenance string
	stopped     bool
	// services are kamal-proxy's, as prepare read them (listed).
	services    []proxy.Service
	servicesErr error
	listed      bool
	// released is set once resume ran: a successful swap releases the
	// requests as soon as the new version serves, before what follows.
	released bool
	health   Health // of the target, once checked
	// assets is the assets volume this deploy made for the target, when
	// the role has asset_path.
	assets string
	// hosts are the request's; readers serializes the replica swaps'
	// routes through the writer's kamal-proxy (replica.go).
	hosts    map[string]*host.Host
	readers  *sync.Mutex
	rollback bool
}

// maxDeliveries bounds how many hosts are sent an image at once, so a large
// fleet does not saturate the deployer's uplink.
const maxDeliveries = 4

// prepare does steps 1 to 3 on one host.
func prepare(ctx context.Context, req Request, images *Images, h *host.Host, units []Unit, readers *sync.Mutex) ([]*swap, error) {
	c := req.Config
	out := req.Out.Prefixed("[" + h.Name + "] ")
	defer out.Close()
	req.Timeline.Mark(h.Name, "", PhaseProxy)
	defer req.Timeline.Mark(h.Name, "", PhaseWait) // for the other hosts
	if err := proxy.EnsureNetwork(ctx, h.Docker); err != nil {
		return nil, err
	}
	if err := bootProxy(ctx, h, c, units, req.Local, !req.Redeploy, out); err != nil {
		return nil, err
	}
	// kamal-proxy's command takes as long as the rest: read the states
	// the pauses need meanwhile.
	services := listServices(ctx, h, units)
	if err := installErrorPages(ctx, h, c, units, req.Version, req.ErrorPages, out); err != nil {
		return nil, err
	}
	// The containers' specs and env files need no image: they are
	// written while it arrives.
	imageDone := make(chan error, 1)
	if req.Rollback {
		req.Timeline.Mark(h.Name, "", PhaseRetained)
		imageDone <- nil
	} else {
		req.Timeline.Mark(h.Name, "", PhaseImage)
		go func() { imageDone <- images.ensure(ctx, h, out) }()
	}
	swaps, cts, err := specify(ctx, req, h, units, readers)
	if err = errors.Join(<-imageDone, err); err != nil {
		return nil, err
	}
	if !req.Rollback {
		req.Timeline.Mark(h.Name, "", PhaseCreate)
	}
	for i, s := range swaps {
		if err := s.ready(ctx, req, cts[i]); err != nil {
			return nil, err
		}
	}
	list, err := services()
	if errors.Is(err, proxy.ErrNotRunning) {
		err = nil // no service to pause
	}
	for _, s := range swaps {
		s.services, s.servicesErr, s.listed = list, err, true
	}
	return swaps, nil
}

// specify makes each unit's swap and container spec, and writes its env
// file (step 2).
func specify(ctx context.Context, req Request, h *host.Host, units []Unit, readers *sync.Mutex) ([]*swap, []*spec.Container, error) {
	c := req.Config
	home, err := h.Home(ctx)
	if err != nil {
		return nil, nil, err
	}
	var swaps []*swap
	var cts []*spec.Container
	for _, u := range units {
		s := &swap{cfg: c, unit: u, host: h, out: req.Out.Prefixed("[" + h.Name + " " + u.Role.Name + "] "),
			target: spec.ContainerName(c, u.Role.Name, req.Version), version: req.Version,
			data: req.Data, prepare: req.PrepareData, undo: req.Undo, tally: req.Tally, at: req.at, timeline: req.Timeline, noPrune: req.Redeploy, maintenance: req.Maintenance}
		s.hosts, s.readers, s.rollback = req.Hosts, readers, req.Rollback
		replica := u.Role.IsReplica()
		var ct *spec.Container
		var err error
		if replica {
			ct, err = s.replicaContainer(ctx)
		} else {
			ct, err = spec.App(c, u.Role, u.Host, req.Version)
		}
		if err != nil {
			return nil, nil, err
		}
		if err := host.WriteEnvFile(ctx, h, spec.EnvFile(home, c, u.Role.Name), ct.EnvFile); err != nil {
			return nil, nil, err
		}
		swaps, cts = append(swaps, s), append(cts, ct)
	}
	return swaps, cts, nil
}

// ready is step 3 for one unit, once the image is on the host: the new
// container is created, or the retained one found.
func (s *swap) ready(ctx context.Context, req Request, ct *spec.Container) error {
	replica := s.unit.Role.IsReplica()
	switch {
	case req.Rollback && replica:
		// A replica's rollback is a new container of the retained
		// version, on the port the running one leaves free.
		if err := s.findRetained(ctx); err != nil {
			return err
		}
		return s.createReplica(ctx, ct)
	case req.Rollback || req.KeepRunning && s.isRunning(ctx):
		if err := s.findRetained(ctx); err != nil {
			return err
		}
		return s.bridgeRetained(ctx)
	}
	if err := s.bridgeAssets(ctx, ct); err != nil {
		return err
	}
	create := s.create
	if replica {
		create = s.createReplica
	}
	if err := create(ctx, ct); err != nil {
		s.dropAssets(ctx)
		return err
	}
	return nil
}

// listServices starts reading kamal-proxy's services on the host, when a
// unit is proxied, and returns the wait for them.
func listServices(ctx context.Context, h *host.Host, units []Unit) func() ([]proxy.Service, error) {
	if !slices.ContainsFunc(units, func(u Unit) bool { return u.Role.Proxy != nil }) {
		return func() ([]proxy.Service, error) { return nil, nil }
	}
	type listed struct {
		services []proxy.Service
		err      error
	}
	done := make(chan listed, 1)
	go func() {
		services, err := proxy.ServicesVia(ctx, h.Docker, h.Shell.DialContext)
		done <- listed{services, err}
	}()
	return sync.OnceValues(func() ([]proxy.Service, error) {
		l := <-done
		return l.services, l.err
	})
}

// create makes the new container (step 3). A container of the same
// version is renamed out of the way first, as Kamal does on a redeploy.
func (s *swap) create(ctx context.Context, ct *spec.Container) error {
	existing, err := s.host.Docker.ContainerInspect(ctx, ct.Name)
	if err == nil {
		aside := ct.Name + "_replaced_" + rand.Text()[:8]
		if err := s.host.Docker.ContainerRename(ctx, existing.ID, aside); err != nil {
			return fmt.Errorf("rename %s out of the way: %w", ct.Name, err)
		}
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("inspect %s: %w", ct.Name, err)
	}
	if _, err := s.host.Docker.ContainerCreate(ctx, ct.Config, ct.Host, ct.Network, nil, ct.Name); err != nil {
		return fmt.Errorf("create %s: %w", ct.Name, err)
	}
	s.created = true
	fmt.Fprintf(s.out, "created %s\n", ct.Name)
	return nil
}

// isRunning reports whether the target version runs already.
func (s *swap) isRunning(ctx context.Context) bool {
	info, err := s.host.Docker.ContainerInspect(ctx, s.target)
	return err == nil && info.State.Running
}

// findRetained checks that the rollback's version is retained on the host.
func (s *swap) findRetained(ctx context.Context) error {
	list, err := host.RoleContainers(ctx, s.host, s.cfg, s.unit.Role.Name)
	if err != nil {
		return err
	}
	var versions []string
	for _, c := range list {
		if host.Name(c) == s.target {
			return nil
		}
		versions = append(versions, spec.VersionOf(s.cfg, s.unit.Role.Name, host.Name(c), c.Labels))
	}
	if len(versions) == 0 {
		return fmt.Errorf("version %s is not retained for role %s: no versions are", s.version, s.unit.Role.Name)
	}
	return fmt.Errorf("version %s is not retained for role %s; available: %s", s.version, s.unit.Role.Name, strings.Join(versions, ", "))
}

// run does steps 5 to 9.
func (s *swap) run(ctx context.Context) Outcome {
	s.start = time.Now()
	s.mark(PhaseCheck)
	d := s.host.Docker
	olds, err := host.RunningContainers(ctx, s.host, s.cfg, s.unit.Role.Name)
	if err != nil {
		return s.outcome(Failed, err)
	}
	from := ""
	var oldNames []string
	for _, o := range olds {
		oldNames = append(oldNames, host.Name(o))
	}
	if len(olds) > 0 {
		from = spec.VersionOf(s.cfg, s.unit.Role.Name, host.Name(olds[0]), olds[0].Labels)
	}
	if len(olds) == 1 && oldNames[0] == s.target {
		fmt.Fprintf(s.out, "%s is already running\n", s.target)
		s.health = Healthy
		s.mark(PhaseRoute)
		return s.outcomeFrom(from, Unchanged, s.route(ctx, s.target, s.cfg.DeployTimeout))
	}

	// 5. Before touching anything: is someone else writing?
	if err := guard.Check(ctx, d, s.cfg, oldNames...); err != nil {
		s.discard(ctx)
		return s.outcomeFrom(from, Failed, err)
	}
	release, err := s.prepareData(ctx, from)
	if err != nil {
		s.discard(ctx)
		return s.outcomeFrom(from, Failed, err)
	}
	defer release()
	if err := s.pause(ctx, len(olds) > 0); err != nil {
		s.discard(ctx)
		return s.outcomeFrom(from, Failed, err)
	}
	defer s.resume(ctx)

	// 6. Stop the old version and make sure it has exited.
	stopTimeout := int(s.unit.Role.StopTimeout.Seconds())
	if len(oldNames) > 0 {
		s.mark(PhaseStop)
	}
	for _, name := range oldNames {
		fmt.Fprintf(s.out, "stopping %s\n", name)
		if err := d.ContainerStop(ctx, name, container.StopOptions{Timeout: &stopTimeout}); err != nil {
			return s.outcomeFrom(from, Failed, s.restore(ctx, oldNames, fmt.Errorf("stop %s: %w", name, err)))
		}
		if info, err := d.ContainerInspect(ctx, name); err != nil || info.State.Running {
			return s.outcomeFrom(from, Failed, fmt.Errorf("%s is still running after stop (%v): not starting %s", name, err, s.target))
		}
	}

	// 7. Nothing may write to the volumes now. If something started
	// writing since step 5, restarting the old version would make two
	// writers as surely as starting the new one: leave both stopped.
	s.mark(PhaseCheck)
	if err := guard.Check(ctx, d, s.cfg); err != nil {
		return s.outcomeFrom(from, Failed, fmt.Errorf("%w; %s is stopped and stays stopped until the volume is free: then run ship app start", err, strings.Join(oldNames, ", ")))
	}

	if s.data != nil {
		s.mark(PhaseRestorePoint)
		if err := s.data(ctx, s.host, s.unit.Role, from, s.out); err != nil {
			s.discard(ctx)
			return s.outcomeFrom(from, Failed, s.restore(ctx, oldNames, err))
		}
	}

	s.at(StepStopped)

	// 8. Start the new version and wait for it to be healthy.
	s.mark(PhaseStart)
	fmt.Fprintf(s.out, "starting %s\n", s.target)
	err = d.ContainerStart(ctx, s.target, container.StartOptions{})
	s.at(StepStarted)
	if err == nil {
		s.mark(PhaseHealth)
		err = waitHealthy(ctx, s.host, s.target, checkFor(s.cfg, s.unit.Role), s.healthBudget())
	}
	if err == nil {
		s.mark(PhaseRoute)
		err = s.route(ctx, s.target, s.healthBudget())
	}
	s.health = Unhealthy
	if err == nil {
		s.health = Healthy
		fmt.Fprintf(s.out, "%s is healthy (%.1fs)\n", s.target, time.Since(s.start).Seconds())
		s.mark(PhaseRecord)
		if err := recordHealthy(ctx, s.host, s.cfg, s.unit.Role.Name, s.version); err != nil {
			fmt.Fprintf(s.out, "record healthy version: %v\n", err)
		}
		s.resume(ctx)
		s.prunes = !s.noPrune
		return s.outcomeFrom(from, s.result(), nil)
	}

	// 9. Put the old version back, and its data if the new version
	// changed a schema.
	if stopErr := s.stopFailed(ctx, err); stopErr != nil {
		return s.outcomeFrom(from, Failed, stopErr)
	}
	cause := fmt.Errorf("%s: %w", s.target, err)
	if len(oldNames) > 0 {
		s.undoData(ctx, from)
		if note := s.undone.summary(s.version, from); note != "" {
			cause = fmt.Errorf("%w; %s", cause, note)
		}
	}
	err = s.restore(ctx, oldNames, cause)
	s.tallyData(ctx, from)
	if note := s.undone.wrote(s.version); note != "" {
		fmt.Fprintf(s.out, "WARNING: %s\n", note)
		err = fmt.Errorf("%w; %s", err, note)
	}
	return s.outcomeFrom(from, Failed, err)
}

// route points the role's kamal-proxy service at container, with the
// replicas' read targets if it has replicas.
func (s *swap) route(ctx context.Context, container string, deployTimeout time.Duration) error {
	reads, err := writerReads(ctx, s.host, s.hosts, s.cfg, s.unit.Role, s.out)
	if err != nil {
		return err
	}
	return route(ctx, s.host, s.cfg, s.unit.Role, container, deployTimeout, reads, s.out)
}

// stopFailed shows why the target failed and its last log lines, and
// stops it; the error says so if it would not stop.
func (s *swap) stopFailed(ctx context.Context, err error) error {
	ctx = context.WithoutCancel(ctx)
	s.mark(PhaseStop)
	fmt.Fprintf(s.out, "%s failed: %v\n", s.target, err)
	if logs := host.LogTail(ctx, s.host, s.target, 20); logs != "" {
		fmt.Fprintf(s.out, "last log lines of %s:\n%s\n", s.target, indent(logs))
	}
	timeout := int(s.unit.Role.StopTimeout.Seconds())
	if stopErr := s.host.Docker.ContainerStop(ctx, s.target, container.StopOptions{Timeout: &timeout}); stopErr != nil {
		return fmt.Errorf("%v; stopping it failed too: %v", err, stopErr)
	}
	return nil
}

// prepareData runs the request's PrepareData step (step 5) and returns
// what to run when the swap ends.
func (s *swap) prepareData(ctx context.Context, from string) (func(), error) {
	if s.prepare == nil {
		return func() {}, nil
	}
	s.mark(PhaseCopy)
	data, release, err := s.prepare(ctx, s.host, s.unit.Role, from, s.out)
	if err != nil {
		return nil, err
	}
	if data != nil {
		s.data = data
	}
	if release == nil {
		release = func() {}
	}
	return release, nil
}

// undoData runs the request's Undo step once the failed version has
// stopped: the volumes must be free again, as at step 7, or the databases
// are left alone (restore refuses to start the old version then too).
func (s *swap) undoData(ctx context.Context, from string) {
	if s.undo == nil {
		return
	}
	s.mark(PhaseUndo)
	ctx = context.WithoutCancel(ctx) // the old version's data goes back with it, cancelled or not
	if err := guard.Check(ctx, s.host.Docker, s.cfg); err != nil {
		s.undone = &DataUndo{Check: DataNotChecked, Note: fmt.Sprintf("the databases were left alone: %v", err)}
		return
	}
	s.undone = s.undo(ctx, s.host, s.unit.Role, from, s.version, s.out)
}

// tallyData runs the request's Tally step when files were set aside. Only
// ship reads them, so the old version may serve meanwhile.
func (s *swap) tallyData(ctx context.Context, from string) {
	if s.tally == nil || s.undone == nil || len(s.undone.asides()) == 0 {
		return
	}
	s.mark(PhaseTally)
	s.tally(context.WithoutCancel(ctx), s.host, s.unit.Role, from, s.undone, s.out)
}

// restore starts the previous version again after a failed swap and waits
// for it to be healthy. It returns cause, with the restore's own outcome.
func (s *swap) restore(ctx context.Context, oldNames []string, cause error) error {
	ctx = context.WithoutCancel(ctx) // a cancelled deploy must still put the old version back
	if len(oldNames) == 0 {
		return fmt.Errorf("%w; there was no previous version to restore", cause)
	}
	prev := oldNames[0]
	s.mark(PhaseRestore)
	if err := guard.Check(ctx, s.host.Docker, s.cfg); err != nil {
		return fmt.Errorf("%w; not restarting %s: %v", cause, prev, err)
	}
	fmt.Fprintf(s.out, "restarting %s\n", prev)
	if err := s.host.Docker.ContainerStart(ctx, prev, container.StartOptions{}); err != nil {
		return fmt.Errorf("%w; restarting %s failed: %v", cause, prev, err)
	}
	if err := waitHealthy(ctx, s.host, prev, checkFor(s.cfg, s.unit.Role), s.cfg.DeployTimeout); err != nil {
		return fmt.Errorf("%w; %s was restarted but is not healthy: %v", cause, prev, err)
	}
	if err := s.route(ctx, prev, s.cfg.DeployTimeout); err != nil {
		return fmt.Errorf("%w; %s was restarted but %v", cause, prev, err)
	}
	fmt.Fprintf(s.out, "%s is serving again\n", prev)
	if err := recordHealthy(ctx, s.host, s.cfg, s.unit.Role.Name, spec.VersionOf(s.cfg, s.unit.Role.Name, prev, nil)); err != nil {
		fmt.Fprintf(s.out, "record healthy version: %v\n", err)
	}
	return &restoredError{cause: cause, version: prev}
}

// pause holds a proxied role's requests for the swap, when an old version
// serves them. A service kamal-proxy does not route yet has none to hold.
// A service in maintenance stays so, as Kamal's deploys leave it, until
// ship app live: pausing it would end the maintenance. With a maintenance
// message, the swap puts the service in maintenance instead of pausing it.
func (s *swap) pause(ctx context.Context, serving bool) error {
	if s.unit.Role.Proxy == nil || !serving {
		return nil
	}
	s.mark(PhasePause)
	svc := spec.ProxyService(s.cfg, s.unit.Role.Name)
	state, err := s.serviceState(ctx, svc)
	if err != nil {
		return fmt.Errorf("kamal-proxy: %w", err)
	}
	switch {
	case state == proxy.Stopped:
		fmt.Fprintf(s.out, "%s is in maintenance and stays so: ship app live ends it\n", svc)
		return nil
	case s.maintenance != "" && state != proxy.Absent:
		// Recorded first, so that repair ends it if ship is killed.
		if err := Record(ctx, s.host, s.cfg, maintenanceRecord, s.unit.Role.Name, "data"); err != nil {
			return err
		}
		if err := proxy.Maintenance(ctx, s.host.Docker, svc, s.cfg.DrainTimeout, s.maintenance); err != nil {
			return fmt.Errorf("kamal-proxy: maintenance %s: %w", svc, err)
		}
		s.stopped = true
		fmt.Fprintf(s.out, "%s is in maintenance: kamal-proxy answers 503 until the swap ends\n", svc)
		return nil
	}
	start := time.Now()
	paused, err := proxy.Pause(ctx, s.host.Docker, s.host.Shell.DialContext, svc, s.cfg.DrainTimeout, s.maxPause())
	if err != nil {
		return fmt.Errorf("kamal-proxy: pause %s: %w", svc, err)
	}
	if paused {
		s.pausedAt = start
		fmt.Fprintf(s.out, "kamal-proxy holds requests for %s\n", svc)
	}
	return nil
}

// resume releases the held requests, to whichever version now serves, or
// ends the maintenance the swap began, once. It runs however the swap
// ended: a service left paused would hold every request until kamal-proxy
// sheds them.
func (s *swap) resume(ctx context.Context) {
	if s.released || s.pausedAt.IsZero() && !s.stopped {
		return
	}
	s.released = true
	s.mark(PhaseResume)
	svc := spec.ProxyService(s.cfg, s.unit.Role.Name)
	if err := proxy.Resume(context.WithoutCancel(ctx), s.host.Docker, s.host.Shell.DialContext, svc); err != nil {
		next := "the next ship command on this host resumes it"
		if s.stopped {
			next = "ship app live ends the maintenance"
		}
		fmt.Fprintf(s.out, "kamal-proxy: resume %s: %v; %s\n", svc, err, next)
		return
	}
	if s.stopped {
		fmt.Fprintf(s.out, "%s is live again\n", svc)
		if err := Record(context.WithoutCancel(ctx), s.host, s.cfg, maintenanceRecord, s.unit.Role.Name, ""); err != nil {
			fmt.Fprintf(s.out, "%v\n", err)
		}
		return
	}
	fmt.Fprintf(s.out, "kamal-proxy released requests after %dms\n", time.Since(s.pausedAt).Milliseconds())
}

// serviceState is the service's state as prepare read it under the queue,
// or as kamal-proxy says now if it did not.
func (s *swap) serviceState(ctx context.Context, svc string) (proxy.State, error) {
	if !s.listed {
		return proxy.ServiceState(ctx, s.host.Docker, svc)
	}
	return proxy.StateIn(s.services, svc), s.servicesErr
}

func (s *swap) maxPause() time.Duration {
	return proxy.MaxPause(s.unit.Role.StopTimeout, s.cfg.DeployTimeout)
}

// healthBudget is how long the new version may take to become healthy:
// deploy_timeout, but while requests are held, no longer than leaves time
// to stop it and put the old version back before the pause runs out.
func (s *swap) healthBudget() time.Duration {
	if s.pausedAt.IsZero() {
		return s.cfg.DeployTimeout
	}
	reserve := s.unit.Role.StopTimeout + s.cfg.DeployTimeout + proxy.PauseMargin/2
	left := time.Until(s.pausedAt.Add(s.maxPause() - reserve))
	return max(min(s.cfg.DeployTimeout, left), 0)
}

// restoredError is a failed swap after which the previous version serves.
type restoredError struct {
	cause   error
	version string
}

func (e *restoredError) Error() string {
	return fmt.Sprintf("%v; %s is serving again", e.cause, e.version)
}

func (e *restoredError) Unwrap() error { return e.cause }

// discard removes a container this deploy created but never started, so a
// refused deploy leaves the host as it found it.
func (s *swap) discard(ctx context.Context) {
	if s.created {
		s.host.Docker.ContainerRemove(context.WithoutCancel(ctx), s.target, container.RemoveOptions{})
		s.dropAssets(ctx)
	}
}

func (s *swap) result() Result {
	if s.created && !s.rollback {
		return Deployed
	}
	return RolledBack
}

func (s *swap) outcome(result Result, err error) Outcome {
	return s.outcomeFrom("", result, err)
}

func (s *swap) outcomeFrom(from string, result Result, err error) Outcome {
	if err != nil {
		fmt.Fprintf(s.out, "FAILED: %v\n", err)
	}
	var took time.Duration
	if !s.start.IsZero() {
		took = time.Since(s.start)
	}
	return Outcome{Host: s.host.Name, Role: s.unit.Role.Name, From: from, To: s.version, Result: result, Health: s.health, Data: s.undone, Err: err, Took: took}
}

// bootWait waits d, or until ctx ends; a variable so tests need not.
var bootWait = func(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func bootLimit(c *config.Config, hosts int) int {
	switch {
	case c.Boot.Limit > 0:
		return c.Boot.Limit
	case c.Boot.LimitPercent > 0:
		return max(1, hosts*c.Boot.LimitPercent/100)
	}
	return 0
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
