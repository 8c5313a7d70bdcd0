package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/go-connections/nat"

	"github.com/shipdeploy/ship/internal/benchkit"
	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/ssh"
)

// bench is what the three scenarios share.
type bench struct {
	h1                 *testhost.Host
	docker             *client.Client // h1's engine, for set-up and clean-up
	conn               *ssh.Conn      // to h1, for scenario (c) and ship's files
	ship               string         // the CLI
	secret             string         // APP_SECRET
	proxied, published *project
	sized              []*project // -sizes: one per database size
	rawPort            int
}

// project is one service's project (benchkit.Project), and the URL its
// load goes to.
type project struct {
	*benchkit.Project
	url   string
	bench *bench
}

// volumeName is the service's data volume.
func (p *project) volumeName() string { return strings.ReplaceAll(p.Service, "-", "_") + "_data" }

// proxiedKeys put the role behind kamal-proxy, which listens on loopback
// ports of its own.
var proxiedKeys = fmt.Sprintf(`proxy:
  app_port: 3000
  healthcheck:
    path: /up
  run:
    http_port: %d
    https_port: %d
    bind_ips: [127.0.0.1]
`, proxyHTTPPort, proxyHTTPSPort)

// publishedKeys publish the app's port on loopback, with ship's own
// health check, as cmd/ship's deploy tests do: the role's options, and
// the top-level healthcheck.
func publishedKeys(port int) (role, top string) {
	return fmt.Sprintf(`    options:
      publish: 127.0.0.1:%d:3000
`, port), `healthcheck:
  path: /up
  port: 3000
`
}

// project writes the project of service bench-swap-NAME on h1; roleKeys
// go in the web role, topKeys at the top level.
func (b *bench) project(tmp, name, roleKeys, topKeys string) (*project, error) {
	// Images are sent from h1's engine: it has them already.
	p := &project{Project: &benchkit.Project{Dir: filepath.Join(tmp, name), Service: prefix + name, Ship: b.ship, DockerHost: b.h1.DockerHost}, bench: b}
	err := p.Write(map[string]string{
		"config/deploy.yml": benchkit.AppConfig(p.Service, b.h1, p.volumeName(), roleKeys, topKeys),
		".ship/secrets":     "APP_SECRET=" + b.secret + "\n",
	})
	return p, err
}

// images builds the example app once and tags it b0 to b10 for each
// ship scenario, and once for the raw one. ship prunes old versions with
// their tags, so the scenarios have an image name each.
func (b *bench) images(ctx context.Context) error {
	first := prefix + "raw:b0"
	id, err := testapp.BuildImage(ctx, b.h1.DockerHost, first, testapp.ImageOptions{})
	if err != nil {
		return err
	}
	// The proxied project deploys again in the comparison with the floor.
	for _, p := range []*project{b.proxied, b.published} {
		for v := 0; v <= 2*deploys; v++ {
			if err := b.docker.ImageTag(ctx, id, fmt.Sprintf("%s:b%d", p.Service, v)); err != nil {
				return fmt.Errorf("tag %s: %w", id, err)
			}
		}
	}
	return nil
}

// setupProxied sets the proxied project up at version b0, booting the
// bench's kamal-proxy.
func (b *bench) setupProxied(ctx context.Context) error {
	if err := benchkit.EnsureProxyVolumes(ctx, b.docker, "swap"); err != nil {
		return err
	}
	_, err := b.proxied.Run(ctx, "setup", "--skip-build", "--version", "b0")
	return err
}

func (b *bench) runProxied(ctx context.Context) (result, error) {
	p := b.proxied
	if err := b.setupProxied(ctx); err != nil {
		return result{}, err
	}
	released := regexp.MustCompile(`kamal-proxy released requests after (\d+)ms`)
	var holds []time.Duration
	r, err := measure(ctx, "(a) ship deploy, through kamal-proxy", p.url, func(ctx context.Context, i int) (string, error) {
		v := fmt.Sprintf("b%d", i)
		out, err := p.Run(ctx, "deploy", "--skip-build", "--version", v)
		if err != nil {
			return "", err
		}
		m := released.FindStringSubmatch(out)
		if !strings.Contains(out, "kamal-proxy holds requests for") || m == nil {
			return "", fmt.Errorf("deploy %s did not hold requests in kamal-proxy:\n%s", v, out)
		}
		n, _ := strconv.Atoi(m[1])
		holds = append(holds, time.Duration(n)*time.Millisecond)
		return v, nil
	})
	r.holds = holds
	return r, err
}

func (b *bench) runPublished(ctx context.Context) (result, error) {
	p := b.published
	if _, err := p.Run(ctx, "setup", "--skip-build", "--version", "b0"); err != nil {
		return result{}, err
	}
	return measure(ctx, "(b) ship deploy, port published", p.url, func(ctx context.Context, i int) (string, error) {
		v := fmt.Sprintf("b%d", i)
		_, err := p.Run(ctx, "deploy", "--skip-build", "--version", v)
		return v, err
	})
}

// rawNames are scenario (c)'s two containers, which say their names as
// their version.
var rawNames = []string{prefix + "raw-a", prefix + "raw-b"}

func (b *bench) runRaw(ctx context.Context) (result, error) {
	// On the network ship puts apps on, as ship's containers are.
	if err := proxy.EnsureNetwork(ctx, b.docker); err != nil {
		return result{}, err
	}
	port := nat.Port("3000/tcp")
	stop := 10
	for _, name := range rawNames {
		_, err := b.docker.ContainerCreate(ctx, &container.Config{
			Image:        prefix + "raw:b0",
			Env:          []string{"DATABASE_PATH=/data/app.sqlite3", "PORT=3000", "APP_SECRET=" + b.secret, "SHIP_VERSION=" + name},
			ExposedPorts: nat.PortSet{port: {}},
			StopTimeout:  &stop,
		}, &container.HostConfig{
			NetworkMode:   proxy.Network,
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
			Binds:         []string{strings.ReplaceAll(prefix, "-", "_") + "raw_data:/data"},
			PortBindings:  nat.PortMap{port: {{HostIP: "127.0.0.1", HostPort: strconv.Itoa(b.rawPort)}}},
		}, nil, nil, name)
		if err != nil {
			return result{}, fmt.Errorf("create %s: %w", name, err)
		}
	}
	if err := b.docker.ContainerStart(ctx, rawNames[0], container.StartOptions{}); err != nil {
		return result{}, fmt.Errorf("start %s: %w", rawNames[0], err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", b.rawPort)
	if err := waitVersion(ctx, url, rawNames[0]); err != nil {
		return result{}, err
	}
	return measure(ctx, "(c) docker stop; docker start, on the host", url, func(ctx context.Context, i int) (string, error) {
		old, next := rawNames[(i-1)%2], rawNames[i%2]
		err := b.conn.Run(ctx, ssh.Cmd{Args: []string{"sh", "-c", `docker stop "$1" >/dev/null && docker start "$2" >/dev/null`, "sh", old, next}})
		if err != nil {
			return "", fmt.Errorf("docker stop %s; docker start %s: %w", old, next, err)
		}
		return next, nil
	})
}

// waitVersion waits until the app at url says it is want.
func waitVersion(ctx context.Context, url, want string) error {
	hc := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := version(hc, url)
		if err == nil && got == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s says it is %q (%v), want %s", url, got, err, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// measure runs the load against url through deploys swaps; swap(i) does
// the i-th and returns the version the app must say it is afterwards.
func measure(ctx context.Context, scenario, url string, swap func(ctx context.Context, i int) (string, error)) (result, error) {
	r := result{scenario: scenario, deploys: deploys, failures: map[string]int{}}
	began := time.Now()
	l := startLoad(url, mixed)
	defer l.halt()
	if err := l.waitSuccessAfter(ctx, began, 30*time.Second); err != nil {
		return r, err
	}
	time.Sleep(settle)
	hc := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	var windows []window
	for i := 1; i <= deploys; i++ {
		w := window{start: time.Now()}
		want, err := swap(ctx, i)
		w.end = time.Now()
		if err != nil {
			return r, err
		}
		windows = append(windows, w)
		if err := l.waitSuccessAfter(ctx, w.end, 30*time.Second); err != nil {
			return r, fmt.Errorf("after swap %d: %w", i, err)
		}
		if got, err := version(hc, url); err != nil || got != want {
			return r, fmt.Errorf("after swap %d the app says it is %q (%v), want %s", i, got, err, want)
		}
		time.Sleep(settle)
	}
	samples, acked := l.halt()

	var latencies []time.Duration
	var done []time.Time
	for _, s := range samples {
		r.requests++
		if !s.ok {
			r.failed++
			r.failures[s.failure]++
			continue
		}
		latencies = append(latencies, s.end.Sub(s.start))
		if s.end.Sub(s.start) > slow {
			r.slow++
		}
		done = append(done, s.end)
	}
	slices.Sort(latencies)
	slices.SortFunc(done, func(a, b time.Time) int { return a.Compare(b) })
	r.p50, r.p99, r.max = benchkit.Percentile(latencies, 0.50), benchkit.Percentile(latencies, 0.99), latencies[len(latencies)-1]
	var gaps, commands []time.Duration
	for _, w := range windows {
		gaps = append(gaps, gap(done, w))
		commands = append(commands, w.end.Sub(w.start))
	}
	r.command = benchkit.Median(commands)
	r.gapMedian, r.gapMax = benchkit.Median(gaps), slices.Max(gaps)

	missing, twice, err := lost(ctx, url, "", acked)
	if err != nil {
		return r, err
	}
	r.acked, r.missing, r.twice = len(acked), len(missing), len(twice)
	return r, nil
}

// cleanup removes what the bench creates on h1, and leftovers of an
// interrupted run. A kamal-proxy on h1 that is not the bench's is left
// alone, and stops the bench: ship would route through it.
func (b *bench) cleanup(ctx context.Context) error {
	// Not ctx: clean up after an interrupt too.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
	defer cancel()
	proxyThere, err := benchkit.OwnProxy(ctx, b.docker, b.h1.Name, proxyHTTPPort)
	if err != nil {
		return err
	}
	var errs []error
	if err := b.removeFloor(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, p := range append([]*project{b.proxied, b.published}, b.sized...) {
		if _, err := p.Run(ctx, "app", "remove", "--yes"); err != nil {
			errs = append(errs, err)
		}
	}
	if proxyThere {
		if _, err := b.proxied.Run(ctx, "proxy", "remove"); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range rawNames {
		if err := b.docker.ContainerRemove(ctx, name, container.RemoveOptions{Force: true}); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove %s: %w", name, err))
		}
	}
	vols, err := b.docker.VolumeList(ctx, volume.ListOptions{})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list volumes: %w", err))...)
	}
	for _, v := range vols.Volumes {
		if strings.HasPrefix(v.Name, strings.ReplaceAll(prefix, "-", "_")) || v.Labels[benchkit.Label] == "swap" {
			if err := b.docker.VolumeRemove(ctx, v.Name, false); err != nil && !errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
			}
		}
	}
	images, err := b.docker.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", prefix+"*"))})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list images: %w", err))...)
	}
	for _, img := range images {
		for _, ref := range img.RepoTags {
			if _, err := b.docker.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil && !errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove image %s: %w", ref, err))
			}
		}
	}
	// ship's env files, healthy-version records, audit logs and queues.
	var paths []string
	for _, p := range append([]*project{b.proxied, b.published}, b.sized...) {
		paths = append(paths, ".ship/apps/"+p.Service, ".ship/audit/"+p.Service+".log", ".ship/queue/"+p.Service)
	}
	paths = append(paths, floorEnv)
	rm := ssh.Cmd{Args: append([]string{"sh", "-c", `cd && rm -rf "$@"`, "sh"}, paths...)}
	if err := b.conn.Run(ctx, rm); err != nil {
		errs = append(errs, fmt.Errorf("remove ship's files on %s: %w", b.h1.Name, err))
	}
	return errors.Join(errs...)
}
