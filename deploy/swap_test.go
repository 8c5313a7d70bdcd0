package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/redact"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/ssh"
	"github.com/shipdeploy/ship/volumes"
)

// These tests drive deploy.Run against an in-memory Docker Engine and SSH
// shell and read the order of the swap's steps from the engine's calls:
// the one promise the swap exists for is that the old and the new version
// never run at once, so the database has one writer at every instant.

// call is one Docker Engine call the swap made.
type call struct {
	op   string // the method, e.g. "ContainerStop"
	name string // the container (or image, network) it was about
	all  bool   // ContainerList: All, stopped containers too
}

func (c call) String() string {
	if c.op == "ContainerList" {
		if c.all {
			return "ContainerList(all)"
		}
		return "ContainerList(running)"
	}
	return c.op + "(" + c.name + ")"
}

// fakeContainer is a container of the fake engine.
type fakeContainer struct {
	id, name, image string
	labels          map[string]string
	mounts          []container.MountPoint
	state           string // created, running, exited
	exitCode        int
	created         int64
}

// fakeDocker is a Docker Engine in memory: containers with labels, mounts
// and states, and a record of every call. Calls the swap is not expected
// to make panic, through the nil embedded client.
type fakeDocker struct {
	client.APIClient
	mu         sync.Mutex
	containers map[string]*fakeContainer // by name
	calls      []call
	clock      int64
	// failing names containers that exit with status 1 as they start.
	failing map[string]bool
}

func newFakeDocker() *fakeDocker {
	return &fakeDocker{containers: map[string]*fakeContainer{}, failing: map[string]bool{}}
}

func (d *fakeDocker) record(op, name string) {
	d.calls = append(d.calls, call{op: op, name: name})
}

// add puts a container on the host, as an earlier deploy (or a person)
// left it.
func (d *fakeDocker) add(name, state string, labels map[string]string, binds ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addLocked(name, "acme/shop:"+labels[spec.LabelVersion], state, labels, binds)
}

func (d *fakeDocker) addLocked(name, img, state string, labels map[string]string, binds []string) *fakeContainer {
	d.clock++
	c := &fakeContainer{id: "id-" + name, name: name, image: img, labels: labels, state: state, created: d.clock}
	for _, b := range binds {
		m, err := volumes.Parse(b)
		if err != nil {
			panic(err)
		}
		mp := container.MountPoint{Type: "volume", Name: m.Source, Destination: m.Target, RW: !m.ReadOnly()}
		if m.IsHostPath() {
			mp = container.MountPoint{Type: "bind", Source: m.Source, Destination: m.Target, RW: !m.ReadOnly()}
		}
		c.mounts = append(c.mounts, mp)
	}
	d.containers[name] = c
	return c
}

// find looks a container up by name or ID.
func (d *fakeDocker) find(ref string) (*fakeContainer, error) {
	ref = strings.TrimPrefix(ref, "/")
	if c, ok := d.containers[ref]; ok {
		return c, nil
	}
	for _, c := range d.containers {
		if c.id == ref {
			return c, nil
		}
	}
	return nil, errdefs.NotFound(fmt.Errorf("no such container: %s", ref))
}

func (d *fakeDocker) ContainerList(_ context.Context, opts container.ListOptions) ([]container.Summary, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, call{op: "ContainerList", all: opts.All})
	var out []container.Summary
	for _, c := range d.containers {
		if !opts.All && c.state != "running" {
			continue
		}
		match := true
		for _, l := range opts.Filters.Get("label") {
			k, v, _ := strings.Cut(l, "=")
			if got, ok := c.labels[k]; !ok || got != v {
				match = false
			}
		}
		if match {
			out = append(out, container.Summary{ID: c.id, Names: []string{"/" + c.name}, Image: c.image, Labels: c.labels,
				State: c.state, Created: c.created, Mounts: slices.Clone(c.mounts)})
		}
	}
	return out, nil
}

func (d *fakeDocker) ContainerInspect(_ context.Context, ref string) (container.InspectResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("ContainerInspect", ref)
	c, err := d.find(ref)
	if err != nil {
		return container.InspectResponse{}, err
	}
	return container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{ID: c.id, Name: "/" + c.name, Image: c.image,
			State: &container.State{Status: c.state, Running: c.state == "running", ExitCode: c.exitCode}},
		Config: &container.Config{Image: c.image, Labels: c.labels},
		Mounts: slices.Clone(c.mounts),
	}, nil
}

func (d *fakeDocker) ContainerCreate(_ context.Context, cfg *container.Config, hc *container.HostConfig, _ *network.NetworkingConfig, _ *ocispec.Platform, name string) (container.CreateResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("ContainerCreate", name)
	if _, ok := d.containers[name]; ok {
		return container.CreateResponse{}, errdefs.Conflict(fmt.Errorf("name %s in use", name))
	}
	c := d.addLocked(name, cfg.Image, "created", cfg.Labels, hc.Binds)
	return container.CreateResponse{ID: c.id}, nil
}

func (d *fakeDocker) ContainerStart(_ context.Context, ref string, _ container.StartOptions) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("ContainerStart", ref)
	c, err := d.find(ref)
	if err != nil {
		return err
	}
	c.state, c.exitCode = "running", 0
	if d.failing[c.name] {
		c.state, c.exitCode = "exited", 1
	}
	return nil
}

func (d *fakeDocker) ContainerStop(_ context.Context, ref string, _ container.StopOptions) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("ContainerStop", ref)
	c, err := d.find(ref)
	if err != nil {
		return err
	}
	if c.state == "running" {
		c.state, c.exitCode = "exited", 0
	}
	return nil
}

func (d *fakeDocker) ContainerRemove(_ context.Context, ref string, _ container.RemoveOptions) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, err := d.find(ref)
	if err != nil {
		d.record("ContainerRemove", ref)
		return err
	}
	d.record("ContainerRemove", c.name)
	if c.state == "running" {
		return errdefs.Conflict(fmt.Errorf("%s is running", c.name))
	}
	delete(d.containers, c.name)
	return nil
}

func (d *fakeDocker) ContainerRename(_ context.Context, ref, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("ContainerRename", ref)
	c, err := d.find(ref)
	if err != nil {
		return err
	}
	delete(d.containers, c.name)
	c.name = name
	d.containers[name] = c
	return nil
}

func (d *fakeDocker) ContainerLogs(_ context.Context, ref string, _ container.LogsOptions) (io.ReadCloser, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("ContainerLogs", ref)
	return io.NopCloser(strings.NewReader("")), nil
}

func (d *fakeDocker) NetworkInspect(_ context.Context, name string, _ network.InspectOptions) (network.Inspect, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("NetworkInspect", name)
	return network.Inspect{Name: name}, nil
}

func (d *fakeDocker) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("ImageInspect", ref)
	return image.InspectResponse{ID: "sha256:" + ref}, nil
}

func (d *fakeDocker) ImageTag(_ context.Context, ref, tag string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("ImageTag", ref+" "+tag)
	return nil
}

func (d *fakeDocker) ImageRemove(_ context.Context, ref string, _ image.RemoveOptions) ([]image.DeleteResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("ImageRemove", ref)
	return nil, nil
}

// state is a container's state, "" when there is no such container.
func (d *fakeDocker) state(name string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.containers[name]; ok {
		return c.state
	}
	return ""
}

// log is the calls so far, one a line, for failure messages.
func (d *fakeDocker) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	for i, c := range d.calls {
		fmt.Fprintf(&b, "  %2d %s\n", i, c)
	}
	return b.String()
}

// index is the position of the first call of op about name at or after
// from, or -1.
func (d *fakeDocker) index(from int, op, name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := max(from, 0); i < len(d.calls); i++ {
		if d.calls[i].op == op && d.calls[i].name == name {
			return i
		}
	}
	return -1
}

// guardLists are the positions of the single-writer checks: the only
// listings of running containers alone (the swap lists a role's containers
// with All, and filters them itself).
func (d *fakeDocker) guardLists() []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []int
	for i, c := range d.calls {
		if c.op == "ContainerList" && !c.all {
			out = append(out, i)
		}
	}
	return out
}

// count is how many calls of op the swap made.
func (d *fakeDocker) count(op string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.calls {
		if c.op == op {
			n++
		}
	}
	return n
}

// fakeShell is a host's SSH shell that runs nothing and succeeds. $HOME
// is /home/ship.
type fakeShell struct {
	mu       sync.Mutex
	commands [][]string
	stdins   []string // what each command with a stdin read from it
	uploads  []string
}

func (s *fakeShell) Run(_ context.Context, cmd ssh.Cmd) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = append(s.commands, cmd.Args)
	if cmd.Stdin != nil {
		b, err := io.ReadAll(cmd.Stdin)
		if err != nil {
			return err
		}
		s.stdins = append(s.stdins, string(b))
	}
	if cmd.Stdout != nil && len(cmd.Args) >= 3 && cmd.Args[1] == "-c" && strings.Contains(cmd.Args[2], `printf %s "$HOME"`) {
		io.WriteString(cmd.Stdout, "/home/ship")
	}
	return nil
}

func (s *fakeShell) Upload(_ context.Context, path string, content io.Reader, _ os.FileMode, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploads = append(s.uploads, path)
	_, err := io.Copy(io.Discard, content)
	return err
}

func (s *fakeShell) DialContext(_ context.Context, network, addr string) (net.Conn, error) {
	return nil, fmt.Errorf("fake shell: no connections (%s %s)", network, addr)
}

// swapHost is the host of the swap tests: one role, web, on 192.0.2.10,
// writing to the named volume shop_data; no proxy, no registry. Without a
// health check path, a new version is ready when it still runs after
// readiness_delay: 0 here.
const swapHost = "192.0.2.10"

func swapConfig(t *testing.T) *config.Config {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "config", "deploy.yml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	yml := `service: shop
image: acme/shop
servers:
  web:
    hosts:
      - ` + swapHost + `
volumes:
  - shop_data:/data
readiness_delay: 0
deploy_timeout: 5
stop_timeout: 1
`
	if err := os.WriteFile(file, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(config.Options{File: file})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Role("web"); r == nil || r.Proxy != nil || len(r.Hosts) != 1 || usesRegistry(c) {
		t.Fatalf("the test config is not one unproxied role on one host without a registry: %+v", r)
	}
	return c
}

func appLabels(c *config.Config, version string) map[string]string {
	return map[string]string{spec.LabelService: c.Service, spec.LabelRole: "web", spec.LabelDestination: c.Destination, spec.LabelVersion: version}
}

// runSwap deploys (or rolls back to) version on the fake host, with the
// image already there and no local engine, and returns the one outcome and
// the host's shell.
func runSwap(t *testing.T, c *config.Config, d *fakeDocker, version string, rollback bool) (Outcome, *fakeShell) {
	t.Helper()
	return runSwapWith(t, c, d, version, rollback, nil)
}

// runSwapWith is runSwap with the request changed by with first.
func runSwapWith(t *testing.T, c *config.Config, d *fakeDocker, version string, rollback bool, with func(*Request)) (Outcome, *fakeShell) {
	t.Helper()
	var out bytes.Buffer
	r := c.Role("web")
	sh := &fakeShell{}
	req := Request{
		Config: c, Units: []Unit{{Host: r.Hosts[0], Role: r}},
		Hosts:   map[string]*host.Host{swapHost: {Name: swapHost, Shell: sh, Docker: d}},
		Version: version, Rollback: rollback, Out: fleet.NewOutput(&out), Performer: "test",
	}
	if with != nil {
		with(&req)
	}
	outcomes := Run(context.Background(), req)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("output:\n%s\nengine calls:\n%s", out.String(), d.log())
		}
	})
	if len(outcomes) != 1 {
		t.Fatalf("%d outcomes, want 1: %+v", len(outcomes), outcomes)
	}
	return outcomes[0], sh
}

// audited fails the test unless the swap appended one audit log entry,
// with the versions and a result starting with result.
func audited(t *testing.T, sh *fakeShell, versions, result string) {
	t.Helper()
	// The audit log's lines travel on stdin (audit.Append); nothing else
	// the swap runs has one.
	entries := sh.stdins
	if len(entries) != 1 || !strings.Contains(entries[0], `"versions":"`+versions+`"`) || !strings.Contains(entries[0], `"result":"`+result) {
		t.Errorf("audit log entries %q, want one with versions %q and result %q", entries, versions, result)
	}
}

// before fails the test unless call a comes before call b, both made.
func before(t *testing.T, a int, aName string, b int, bName string) {
	t.Helper()
	switch {
	case a < 0:
		t.Errorf("no %s", aName)
	case b < 0:
		t.Errorf("no %s", bName)
	case a >= b:
		t.Errorf("%s (call %d) is not before %s (call %d)", aName, a, bName, b)
	}
}

// checkSingleWriterOrder checks the steps of a swap from old to target
// that got as far as starting target: check, stop old, check, start target.
func checkSingleWriterOrder(t *testing.T, d *fakeDocker, old, target string) (stopOld, startNew int) {
	t.Helper()
	create := d.index(0, "ContainerCreate", target)
	stopOld = d.index(0, "ContainerStop", old)
	startNew = d.index(0, "ContainerStart", target)
	before(t, create, "create "+target, stopOld, "stop "+old)
	before(t, stopOld, "stop "+old, startNew, "start "+target)
	if d.index(0, "ContainerStart", old) >= 0 && d.index(0, "ContainerStart", old) < startNew {
		t.Errorf("%s was started during the swap", old)
	}

	// Step 5: a check before anything stops; step 7: another once the old
	// version has exited, before the target one starts.
	guards := d.guardLists()
	first, second := -1, -1
	for _, g := range guards {
		if g < stopOld && first < 0 {
			first = g
		}
		if g > stopOld && g < startNew {
			second = g
		}
	}
	if first < 0 || first < create {
		t.Errorf("no single-writer check (listing running containers) after creating %s and before stopping %s; checks at %v", target, old, guards)
	}
	if second < 0 {
		t.Errorf("no single-writer check between stopping %s (call %d) and starting %s (call %d); checks at %v", old, stopOld, target, startNew, guards)
	}
	if exited := d.index(stopOld, "ContainerInspect", old); second >= 0 && (exited < 0 || exited > second) {
		t.Errorf("the swap did not inspect %s after stopping it, before the second check", old)
	}
	return stopOld, startNew
}

func TestSwapStopsOldBeforeStartingNew(t *testing.T) {
	c := swapConfig(t)
	d := newFakeDocker()
	d.add("shop-web-v0", "exited", appLabels(c, "v0"), "shop_data:/data")
	d.add("shop-web-v1", "running", appLabels(c, "v1"), "shop_data:/data")
	// A container that mounts the volume read-only is no writer.
	d.add("shop-reader", "running", map[string]string{}, "shop_data:/data:ro")

	o, sh := runSwap(t, c, d, "v2", false)
	audited(t, sh, "v1 -> v2", `deployed"`)
	if env := "/home/ship/.ship/apps/shop/env/web.env"; !slices.Contains(sh.uploads, env) {
		t.Errorf("uploads %q, want the env file %s under $HOME", sh.uploads, env)
	}
	if o.Result != Deployed || o.Health != Healthy || o.Err != nil || o.From != "v1" || o.To != "v2" {
		t.Errorf("outcome %+v, want v1 -> v2 deployed, healthy", o)
	}
	_, startNew := checkSingleWriterOrder(t, d, "shop-web-v1", "shop-web-v2")
	if guards := d.guardLists(); len(guards) != 2 {
		t.Errorf("%d single-writer checks, want 2 (steps 5 and 7)", len(guards))
	}
	if d.index(startNew, "ContainerStop", "shop-web-v2") >= 0 || d.index(0, "ContainerStart", "shop-web-v1") >= 0 {
		t.Error("a healthy new version was stopped, or the old one started")
	}
	if st := d.state("shop-web-v1"); st != "exited" {
		t.Errorf("old version is %s, want it stopped and kept for rollback", st)
	}
	if st := d.state("shop-web-v2"); st != "running" {
		t.Errorf("new version is %s", st)
	}
	// Kamal's latest tag names what the host serves, once it serves it.
	if tag := d.index(0, "ImageTag", c.Image+":v2 "+c.Image+":latest"); tag < startNew {
		t.Errorf("v2 was not tagged latest after it started (tag at %d, start at %d):\n%s", tag, startNew, d.log())
	}
}

func TestSwapRollbackStopsBeforeStarting(t *testing.T) {
	c := swapConfig(t)
	d := newFakeDocker()
	d.add("shop-web-v1", "exited", appLabels(c, "v1"), "shop_data:/data")
	d.add("shop-web-v2", "running", appLabels(c, "v2"), "shop_data:/data")

	o, sh := runSwap(t, c, d, "v1", true)
	audited(t, sh, "v2 -> v1", `rolled_back"`)
	if o.Result != RolledBack || o.Health != Healthy || o.Err != nil || o.From != "v2" {
		t.Errorf("outcome %+v, want v2 -> v1 rolled back, healthy", o)
	}
	stopOld := d.index(0, "ContainerStop", "shop-web-v2")
	startNew := d.index(0, "ContainerStart", "shop-web-v1")
	before(t, stopOld, "stop shop-web-v2", startNew, "start shop-web-v1")
	guards := d.guardLists()
	if len(guards) != 2 || guards[0] > stopOld || guards[1] < stopOld || guards[1] > startNew {
		t.Errorf("single-writer checks at %v, want one before the stop (%d) and one between it and the start (%d)", guards, stopOld, startNew)
	}
	if n := d.count("ContainerCreate") + d.count("ImageInspect"); n != 0 {
		t.Errorf("a rollback created containers or looked for images (%d calls)", n)
	}
}

func TestSwapPutsOldVersionBackWhenNewFails(t *testing.T) {
	c := swapConfig(t)
	d := newFakeDocker()
	d.add("shop-web-v1", "running", appLabels(c, "v1"), "shop_data:/data")
	d.failing["shop-web-v2"] = true // exits with status 1 as it starts

	o, sh := runSwap(t, c, d, "v2", false)
	audited(t, sh, "v1 -> v2", "failed: shop-web-v2: container exited with status 1; shop-web-v1 is serving again")
	if o.Result != Failed || o.Health != Unhealthy || o.Err == nil {
		t.Errorf("outcome %+v, want failed, unhealthy, with an error", o)
	}
	var restored *restoredError
	if !errors.As(o.Err, &restored) || !strings.Contains(o.Err.Error(), "exited with status 1") || !strings.HasSuffix(o.Err.Error(), "shop-web-v1 is serving again") {
		t.Errorf("error %q, want why v2 failed and that shop-web-v1 is serving again", o.Err)
	}

	_, startNew := checkSingleWriterOrder(t, d, "shop-web-v1", "shop-web-v2")
	// Step 9: the new version is stopped before the old one starts again,
	// and the volume is checked once more in between.
	stopNew := d.index(startNew, "ContainerStop", "shop-web-v2")
	restart := d.index(startNew, "ContainerStart", "shop-web-v1")
	before(t, stopNew, "stop shop-web-v2 after it failed", restart, "start shop-web-v1 again")
	if guards := d.guardLists(); len(guards) != 3 || guards[2] < stopNew || guards[2] > restart {
		t.Errorf("single-writer checks at %v, want a third between stopping shop-web-v2 (%d) and restarting shop-web-v1 (%d)", guards, stopNew, restart)
	}
	if d.index(startNew, "ContainerLogs", "shop-web-v2") < 0 {
		t.Error("the failed version's last log lines were not fetched")
	}
	if st := d.state("shop-web-v1"); st != "running" {
		t.Errorf("old version is %s after the put-back", st)
	}
	if n := d.count("ImageTag"); n != 0 {
		t.Errorf("a failed version was tagged latest:\n%s", d.log())
	}
}

func TestSwapRefusesASecondWriter(t *testing.T) {
	c := swapConfig(t)
	d := newFakeDocker()
	d.add("shop-web-v1", "running", appLabels(c, "v1"), "shop_data:/data")
	// Someone's one-off container, not the old version, has the database
	// volume open for writing.
	d.add("shop-console", "running", map[string]string{"purpose": "console"}, "shop_data:/data")

	o, sh := runSwap(t, c, d, "v2", false)
	audited(t, sh, "v1 -> v2", "failed: single-writer check failed")
	if o.Result != Failed || o.Health != NotChecked || o.Err == nil ||
		!strings.Contains(o.Err.Error(), "single-writer check failed") || !strings.Contains(o.Err.Error(), "shop-console (writes to shop_data)") {
		t.Errorf("outcome %+v, want failed, not checked, with the single-writer error naming shop-console", o)
	}
	if n := d.count("ContainerStop") + d.count("ContainerStart"); n != 0 {
		t.Errorf("%d containers stopped or started after the single-writer check failed", n)
	}
	if d.index(0, "ContainerRemove", "shop-web-v2") < 0 {
		t.Error("the new container this deploy created was left behind")
	}
	if st := d.state("shop-web-v1"); st != "running" {
		t.Errorf("old version is %s, want it left running", st)
	}
}

// The audit entry goes to the host with the config's secrets redacted: its
// result quotes the error, which may quote what the app printed.
func TestSwapAuditRedactsSecrets(t *testing.T) {
	c := swapConfig(t)
	d := newFakeDocker()
	d.add("shop-web-v1", "running", appLabels(c, "v1"), "shop_data:/data")
	d.failing["shop-web-v2"] = true
	r := c.Role("web")
	sh := &fakeShell{}
	// The error says "container exited with status 1": let that stand for
	// a secret an app put in it.
	Run(context.Background(), Request{
		Config: c, Units: []Unit{{Host: r.Hosts[0], Role: r}},
		Hosts:   map[string]*host.Host{swapHost: {Name: swapHost, Shell: sh, Docker: d}},
		Version: "v2", Out: fleet.NewOutput(io.Discard), Performer: "ci with token-9f8e7d",
		Redactor: redact.New("exited with status 1", "token-9f8e7d"),
	})
	audited(t, sh, "v1 -> v2", "failed: shop-web-v2: container [REDACTED]; shop-web-v1 is serving again")
	if len(sh.stdins) != 1 || !strings.Contains(sh.stdins[0], `"performer":"ci with [REDACTED]"`) || strings.Contains(sh.stdins[0], "token-9f8e7d") {
		t.Errorf("audit entry %q", sh.stdins)
	}
}

// A new version that fails after it started: at the quiet moment after it
// stopped, with the volumes checked free, Undo runs, before the old version
// starts again; Tally counts what was set aside once the old one serves.
// The outcome, its error and the audit log say what happened to the data.
func TestSwapTakesTheDataBackBeforeTheOldVersionStarts(t *testing.T) {
	c := swapConfig(t)
	d := newFakeDocker()
	d.add("shop-web-v1", "running", appLabels(c, "v1"), "shop_data:/data")
	d.failing["shop-web-v2"] = true
	var undoFrom, undoFailed string
	o, sh := runSwapWith(t, c, d, "v2", false, func(r *Request) {
		r.Undo = func(_ context.Context, _ *host.Host, _ *config.Role, from, failed string, _ io.Writer) *DataUndo {
			d.mu.Lock()
			d.record("Undo", from)
			d.mu.Unlock()
			undoFrom, undoFailed = from, failed
			return &DataUndo{Check: SchemaChanged, Restored: true, Databases: []DatabaseUndo{
				{Database: "/data/app.db", SchemaChanged: true, SetAside: "/vol/app.db.failed-v2-T"},
				{Database: "/data/cache.db", SetAside: "/vol/cache.db.failed-v2-T"},
			}}
		}
		r.Tally = func(_ context.Context, _ *host.Host, _ *config.Role, from string, u *DataUndo, _ io.Writer) {
			d.mu.Lock()
			d.record("Tally", from)
			d.mu.Unlock()
			u.Databases[0].RowChanges = map[string]int64{"records": 2}
		}
	})
	if undoFrom != "v1" || undoFailed != "v2" {
		t.Errorf("Undo was told from %q, failed %q", undoFrom, undoFailed)
	}
	_, startNew := checkSingleWriterOrder(t, d, "shop-web-v1", "shop-web-v2")
	stopNew := d.index(startNew, "ContainerStop", "shop-web-v2")
	undo := d.index(0, "Undo", "v1")
	restart := d.index(startNew, "ContainerStart", "shop-web-v1")
	tally := d.index(0, "Tally", "v1")
	before(t, stopNew, "stop shop-web-v2", undo, "Undo")
	before(t, undo, "Undo", restart, "start shop-web-v1 again")
	before(t, restart, "start shop-web-v1 again", tally, "Tally")
	guards := d.guardLists()
	if len(guards) != 4 || guards[2] < stopNew || guards[2] > undo {
		t.Errorf("single-writer checks at %v, want one between stopping shop-web-v2 (%d) and Undo (%d)", guards, stopNew, undo)
	}
	var restored *restoredError
	if o.Data == nil || !o.Data.Restored || !errors.As(o.Err, &restored) {
		t.Fatalf("outcome %+v", o)
	}
	for _, want := range []string{
		"v2 changed the schema of /data/app.db, so every database was put back as v1 left it (the restore point of this deploy) and v2's files were set aside beside each database, in NAME.failed-v2-T",
		"shop-web-v1 is serving again; v2 wrote rows before it failed, which are now only in its files set aside",
		"records +2 in /vol/app.db.failed-v2-T/app.db",
	} {
		if !strings.Contains(o.Err.Error(), want) {
			t.Errorf("error %q lacks %q", o.Err, want)
		}
	}
	audited(t, sh, "v1 -> v2", "failed: shop-web-v2: container exited with status 1; v2 changed the schema of /data/app.db")

	r := &Report{Command: "deploy"}
	r.Add([]Outcome{o})
	r.Finish(errors.New("1 of 1 swaps failed"))
	h := r.Hosts[0]
	if r.Result != RolledBack || !h.Restored || !h.DataRestored || h.DataCheck != SchemaChanged || len(h.Databases) != 2 || h.Databases[0].RowChanges["records"] != 2 {
		t.Errorf("report %s: %+v", r.Result, h)
	}
}

// Without a previous version there is no restore point: Undo is not
// asked, and nothing is said of the data.
func TestSwapWithoutPreviousVersionLeavesTheDataAlone(t *testing.T) {
	c := swapConfig(t)
	d := newFakeDocker()
	d.failing["shop-web-v2"] = true
	o, _ := runSwapWith(t, c, d, "v2", false, func(r *Request) {
		r.Undo = func(context.Context, *host.Host, *config.Role, string, string, io.Writer) *DataUndo {
			t.Error("Undo was called with nothing to go back to")
			return nil
		}
	})
	if o.Data != nil || o.Err == nil || !strings.Contains(o.Err.Error(), "there was no previous version to restore") {
		t.Errorf("outcome %+v", o)
	}
}

// boot.wait: with boot.limit 1, the second host waits boot.wait after the
// first; the last host waits for nothing.
func TestSwapBootWait(t *testing.T) {
	c := swapConfig(t)
	const second = "192.0.2.11"
	r := c.Role("web")
	r.Hosts = append(r.Hosts, config.Host{Address: second})
	c.Boot.Limit, c.Boot.Wait = 1, 7*time.Second
	var waits []time.Duration
	defer func(orig func(context.Context, time.Duration)) { bootWait = orig }(bootWait)
	bootWait = func(_ context.Context, d time.Duration) { waits = append(waits, d) }

	hosts := map[string]*host.Host{}
	var units []Unit
	for _, h := range r.Hosts {
		d := newFakeDocker()
		d.add("shop-web-v1", "running", appLabels(c, "v1"), "shop_data:/data")
		hosts[h.Address] = &host.Host{Name: h.Address, Shell: &fakeShell{}, Docker: d}
		units = append(units, Unit{Host: h, Role: r})
	}
	var out bytes.Buffer
	outcomes := Run(context.Background(), Request{Config: c, Units: units, Hosts: hosts, Version: "v2", Out: fleet.NewOutput(&out), Performer: "test"})
	for _, o := range outcomes {
		if o.Result != Deployed {
			t.Errorf("%s: %+v\n%s", o.Host, o, out.String())
		}
	}
	if !slices.Equal(waits, []time.Duration{7 * time.Second}) {
		t.Errorf("waits %v, want one of boot.wait (7s) between the two hosts", waits)
	}
}

// VolumeList finds no assets volumes: the fake's roles have no asset_path.
func (d *fakeDocker) VolumeList(context.Context, volume.ListOptions) (volume.ListResponse, error) {
	return volume.ListResponse{}, nil
}

// PrepareData runs while the old version still serves, before anything
// stops; the step it returns runs at the quiet point in place of Data,
// and its release once the swap is over.
func TestSwapPreparesTheDataStepBeforeTheStop(t *testing.T) {
	c := swapConfig(t)
	d := newFakeDocker()
	d.add("shop-web-v1", "running", appLabels(c, "v1"), "shop_data:/data")
	mark := func(what, from string) {
		d.mu.Lock()
		d.record(what, from)
		d.mu.Unlock()
	}
	o, _ := runSwapWith(t, c, d, "v2", false, func(r *Request) {
		r.Data = func(context.Context, *host.Host, *config.Role, string, io.Writer) error {
			t.Error("Data ran, not the step PrepareData returned")
			return nil
		}
		r.PrepareData = func(_ context.Context, _ *host.Host, _ *config.Role, from string, _ io.Writer) (func(context.Context, *host.Host, *config.Role, string, io.Writer) error, func(), error) {
			mark("PrepareData", from)
			data := func(_ context.Context, _ *host.Host, _ *config.Role, from string, _ io.Writer) error {
				mark("Prepared", from)
				return nil
			}
			return data, func() { mark("Release", from) }, nil
		}
	})
	if o.Result != Deployed || o.Err != nil {
		t.Fatalf("outcome %+v", o)
	}
	stopOld, startNew := checkSingleWriterOrder(t, d, "shop-web-v1", "shop-web-v2")
	prepare, data, release := d.index(0, "PrepareData", "v1"), d.index(0, "Prepared", "v1"), d.index(0, "Release", "v1")
	before(t, prepare, "PrepareData", stopOld, "stop shop-web-v1")
	before(t, stopOld, "stop shop-web-v1", data, "the prepared data step")
	before(t, data, "the prepared data step", startNew, "start shop-web-v2")
	before(t, startNew, "start shop-web-v2", release, "its release")
}

// A PrepareData that fails ends the swap before anything stops.
func TestSwapStopsNothingWhenPreparingTheDataFails(t *testing.T) {
	c := swapConfig(t)
	d := newFakeDocker()
	d.add("shop-web-v1", "running", appLabels(c, "v1"), "shop_data:/data")
	o, _ := runSwapWith(t, c, d, "v2", false, func(r *Request) {
		r.PrepareData = func(context.Context, *host.Host, *config.Role, string, io.Writer) (func(context.Context, *host.Host, *config.Role, string, io.Writer) error, func(), error) {
			return nil, nil, errors.New("copy /data/app.db before the pause: disk full")
		}
	})
	if o.Result != Failed || o.Err == nil || !strings.Contains(o.Err.Error(), "disk full") {
		t.Errorf("outcome %+v", o)
	}
	if d.index(0, "ContainerStop", "shop-web-v1") >= 0 {
		t.Error("the old version was stopped")
	}
	if st := d.state("shop-web-v1"); st != "running" {
		t.Errorf("the old version is %s", st)
	}
}
