package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/internal/benchkit"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/ssh"
)

// The floor against ship, in the same run: what a proxied ship deploy
// costs set beside the same swap typed by hand, so that the figure cannot
// drift away from its anchor. Both services sit behind the bench's
// kamal-proxy, each with one writer posting every 15 ms, and their swaps
// alternate, so a busy moment of the machine falls on both.
//
// The floor, as a person types it in one SSH session on the host:
//
//	docker exec kamal-proxy kamal-proxy pause SVC
//	docker stop OLD
//	docker run -d --name NEW ... IMAGE
//	docker exec kamal-proxy kamal-proxy deploy SVC --target NEW:3000 --host H
//	docker exec kamal-proxy kamal-proxy resume SVC
//
// ship: `ship deploy --skip-build --version V` of the proxied project, the
// image on the host.

// writer is the comparison's load on each service.
var writer = shape{clients: 1, interval: 15 * time.Millisecond, writesOnly: true}

const (
	// floorService is the floor's kamal-proxy service, routed by floorHost
	// beside ship's service, which takes every other host.
	floorService = prefix + "floor"
	floorHost    = "floor.bench-swap.test"
	// floorEnv is the floor's env file on h1, for APP_SECRET.
	floorEnv = "/tmp/bench-swap-floor.env"
)

// floorSwap is the hand-made swap; $1 service, $2 old container, $3 new
// container, $4 host, $5 volume, $6 image, $7 env file.
const floorSwap = `set -e
docker exec kamal-proxy kamal-proxy pause "$1" >/dev/null
docker stop "$2" >/dev/null
docker run -d --name "$3" --network kamal --env-file "$7" -e DATABASE_PATH=/data/app.sqlite3 -e PORT=3000 -e SHIP_VERSION="$3" -v "$5:/data" --stop-timeout 10 --label ship.bench=swap "$6" >/dev/null
docker exec kamal-proxy kamal-proxy deploy "$1" --target "$3:3000" --host "$4" >/dev/null
docker exec kamal-proxy kamal-proxy resume "$1" >/dev/null
`

// swapRun is one swap as the writer saw it.
type swapRun struct{ stall, wall time.Duration }

// side is one column of the comparison.
type side struct {
	name           string
	runs           []swapRun
	acked, missing int
	failed         int
}

func (s side) stalls() []time.Duration {
	return collect(s.runs, func(r swapRun) time.Duration { return r.stall })
}
func (s side) walls() []time.Duration {
	return collect(s.runs, func(r swapRun) time.Duration { return r.wall })
}

func collect(runs []swapRun, f func(swapRun) time.Duration) []time.Duration {
	var ds []time.Duration
	for _, r := range runs {
		ds = append(ds, f(r))
	}
	return ds
}

// floorName is the floor's i-th container.
func floorName(i int) string { return fmt.Sprintf("%sfloor-%d", prefix, i) }

// compare runs the floor and ship side by side, deploys swaps each, on the
// proxied project set up by runProxied, from version first on.
func (b *bench) compare(ctx context.Context, first int) error {
	p := b.proxied
	image := prefix + "raw:b0"
	volume := strings.ReplaceAll(prefix, "-", "_") + "floor_data"
	put := ssh.Cmd{Args: []string{"sh", "-c", `umask 077 && cat >"$1"`, "sh", floorEnv}, Stdin: strings.NewReader("APP_SECRET=" + b.secret + "\n")}
	if err := b.conn.Run(ctx, put); err != nil {
		return fmt.Errorf("write %s on %s: %w", floorEnv, b.h1.Name, err)
	}
	boot := ssh.Cmd{Args: []string{"sh", "-c", `set -e
docker run -d --name "$3" --network kamal --env-file "$7" -e DATABASE_PATH=/data/app.sqlite3 -e PORT=3000 -e SHIP_VERSION="$3" -v "$5:/data" --stop-timeout 10 --label ship.bench=swap "$6" >/dev/null
docker exec kamal-proxy kamal-proxy deploy "$1" --target "$3:3000" --host "$4" >/dev/null`,
		"sh", floorService, "", floorName(0), floorHost, volume, image, floorEnv}}
	if err := b.conn.Run(ctx, boot); err != nil {
		return fmt.Errorf("boot the floor's first container: %w", err)
	}
	floorURL := fmt.Sprintf("http://127.0.0.1:%d", proxyHTTPPort)
	floorShape := writer
	floorShape.host = floorHost

	began := time.Now()
	fl := startLoad(floorURL, floorShape)
	defer fl.halt()
	sl := startLoad(p.url, writer)
	defer sl.halt()
	for _, l := range []*load{fl, sl} {
		if err := l.waitSuccessAfter(ctx, began, 30*time.Second); err != nil {
			return err
		}
	}
	time.Sleep(settle)

	var floorWindows, shipWindows []window
	for i := 1; i <= deploys; i++ {
		w := window{start: time.Now()}
		err := b.conn.Run(ctx, ssh.Cmd{Args: []string{"sh", "-c", floorSwap, "sh", floorService, floorName(i - 1), floorName(i), floorHost, volume, image, floorEnv}})
		w.end = time.Now()
		if err != nil {
			return fmt.Errorf("hand-made swap %d: %w", i, err)
		}
		floorWindows = append(floorWindows, w)
		if err := fl.waitSuccessAfter(ctx, w.end, 30*time.Second); err != nil {
			return fmt.Errorf("after hand-made swap %d: %w", i, err)
		}
		time.Sleep(settle)

		v := fmt.Sprintf("b%d", first+i-1)
		w = window{start: time.Now()}
		err = p.deployTraced(ctx, v)
		w.end = time.Now()
		if err != nil {
			return err
		}
		shipWindows = append(shipWindows, w)
		if err := sl.waitSuccessAfter(ctx, w.end, 30*time.Second); err != nil {
			return fmt.Errorf("after ship deploy %s: %w", v, err)
		}
		time.Sleep(settle)
	}
	floor, err := tally(ctx, "hand-made floor", fl, floorURL, floorHost, floorWindows)
	if err != nil {
		return err
	}
	shipSide, err := tally(ctx, "ship deploy", sl, p.url, "", shipWindows)
	if err != nil {
		return err
	}
	return reportComparison(floor, shipSide)
}

// tally stops a load and reads, per swap window, the writer's longest
// stall and the swap's wall time.
func tally(ctx context.Context, name string, l *load, url, host string, windows []window) (side, error) {
	samples, acked := l.halt()
	s := side{name: name}
	var done []time.Time
	for _, x := range samples {
		if x.ok {
			done = append(done, x.end)
		} else {
			s.failed++
		}
	}
	slices.SortFunc(done, func(a, b time.Time) int { return a.Compare(b) })
	for _, w := range windows {
		s.runs = append(s.runs, swapRun{stall: gap(done, w), wall: w.end.Sub(w.start)})
	}
	missing, _, err := lost(ctx, url, host, acked)
	if err != nil {
		return s, err
	}
	s.acked, s.missing = len(acked), len(missing)
	return s, nil
}

func reportComparison(floor, ship side) error {
	fmt.Printf("\nThe floor and ship in the same run, %d swaps each, alternating; one writer per service posting every %s:\n\n", len(floor.runs), writer.interval)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tlongest stall max (ms)\tstall median (ms)\twall median (ms)\twall max (ms)\tfailed\tlost acked writes")
	for _, s := range []side{floor, ship} {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d of %d\n", s.name, benchkit.MS(slices.Max(s.stalls())), benchkit.MS(benchkit.Median(s.stalls())),
			benchkit.MS(benchkit.Median(s.walls())), benchkit.MS(slices.Max(s.walls())), s.failed, s.missing, s.acked)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fs, ss := slices.Max(floor.stalls()), slices.Max(ship.stalls())
	fw, sw := benchkit.Median(floor.walls()), benchkit.Median(ship.walls())
	fmt.Printf("\nship / floor: longest stall %.2f× (target ≤ 1.15 × floor + 50 ms = %s ms), median wall time %.2f× (target ≤ 1.5×)\n",
		float64(ss)/float64(fs), benchkit.MS(fs*115/100+50*time.Millisecond), float64(sw)/float64(fw))
	return nil
}

// deployTraced deploys version v; with -trace, ship runs with -v and its
// lines are printed with the time since it started.
func (p *project) deployTraced(ctx context.Context, v string) error {
	if !*trace {
		_, err := p.Run(ctx, "deploy", "--skip-build", "--version", v)
		return err
	}
	cmd := exec.CommandContext(ctx, p.bench.ship, "-v", "deploy", "--skip-build", "--version", v)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+p.bench.h1.DockerHost)
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	if err := cmd.Start(); err != nil {
		w.Close()
		r.Close()
		return err
	}
	w.Close()
	fmt.Printf("--- ship deploy %s\n", v)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fmt.Printf("%6.0f ms  %s\n", float64(time.Since(start))/float64(time.Millisecond), sc.Text())
	}
	r.Close()
	err = cmd.Wait()
	fmt.Printf("%6.0f ms  (exit: %v)\n", float64(time.Since(start))/float64(time.Millisecond), err)
	if err != nil {
		return fmt.Errorf("ship deploy %s: %w", v, err)
	}
	return nil
}

// removeFloor removes the floor's containers and its kamal-proxy service.
func (b *bench) removeFloor(ctx context.Context) error {
	if err := proxy.RemoveService(ctx, b.docker, floorService); err != nil {
		return fmt.Errorf("remove kamal-proxy service %s: %w", floorService, err)
	}
	for i := 0; i <= deploys; i++ {
		if err := b.docker.ContainerRemove(ctx, floorName(i), container.RemoveOptions{Force: true}); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("remove %s: %w", floorName(i), err)
		}
	}
	return nil
}

// benchClient is an HTTP client with a connection per request, sending
// host as the Host header if set.
func benchClient(host string) *http.Client {
	return &http.Client{Timeout: requestTimeout, Transport: benchkit.HostTransport{Host: host, RT: &http.Transport{DisableKeepAlives: true}}}
}
