// Command swap measures what the users of an app feel while it is deployed:
// requests that fail, writes that are lost, latency, and the swap gap, over
// ten deploys of the example SQLite app (examples/app) under a constant
// load.
//
//	go run ./bench/swap
//
// Three scenarios, each ten swaps:
//
//   - (a) ship through kamal-proxy: `ship setup`, then ten `ship deploy`
//     of a project with a proxy section; ship pauses kamal-proxy for each
//     swap, so requests are held, not failed.
//   - (b) ship with the app's port published and no proxy: ten `ship
//     deploy`; requests fail while no container listens.
//   - (c) the raw swap, without a proxy: two containers of the same
//     image, sharing the data volume and publishing the same port,
//     swapped ten times by `docker stop OLD && docker start NEW`, run by
//     the docker CLI on the host in one SSH session per swap, over one
//     SSH connection made before any clock starts.
//
// With -sizes 1,100,1000 it runs only the hold against the database's
// size (sizes.go): a proxied service per size with its database under
// databases:, grown first, five ship deploys each, alternating.
//
// Then the floor against ship, in the same run (floor.go): a hand-made
// swap through kamal-proxy (pause, docker stop, docker run, deploy,
// resume, typed in one SSH session) and a proxied `ship deploy
// --skip-build`, ten of each, alternating, with one writer per service
// posting every 15 ms; it prints each one's longest writer stall and wall
// time per swap, and ship's ratios to the floor. -compare runs only that;
// -trace shows each compared ship deploy's -v lines with their times
// (with -sizes, each sized deploy's).
//
// It brings up the test hosts (as root, like make test) and runs all three
// on h1, this machine's own Docker Engine reached over SSH on loopback,
// which is also the engine ship sends images from, so the three are
// comparable. ship is the CLI, built once into a temp dir and executed;
// kamal-proxy publishes 127.0.0.1:18080 and :18443 (proxy.run), not 80 and
// 443, which the integration tests use on h2.
//
// The load: four clients, each sending a request every 20 ms (or as soon
// as its previous one ends, if that took longer), on a new connection each
// time, with a 10 s timeout. Writes (POST /records, which must answer 201
// with an id) and reads alternate; one read in five is GET /records, the
// others GET /version. The load runs from before the first swap until
// after the last; after each swap it runs until a request has succeeded
// again, then half a second more. At the end every acknowledged id must be
// in GET /records, else it is a lost write.
//
// The swap gap is measured as the clients see it: for each swap, the
// longest time during which no request, of any client, completed
// successfully (the longest interval between consecutive successful
// completions that overlaps the swap command's run). Through kamal-proxy
// a request arriving during the swap is held and completes when the proxy
// releases it, so there the gap is the hold. The table gives its median and
// maximum over the ten swaps; latencies are those of successful requests.
//
// On the test hosts (Docker 20.10, whose userland proxy serves ports
// published on loopback), a request that reaches the published port while
// the new container is still being started is accepted by docker-proxy and
// then waits about a second, TCP's first retransmission of docker-proxy's
// SYN to the container: that second is in the gaps and the p99 of (b) and
// (c). Through kamal-proxy, held requests go to the new version only once
// ship has found it healthy.
//
// Everything the bench creates on h1 is named bench-swap-* or
// bench_swap_*, or labelled ship.bench=swap (kamal-proxy's two volumes,
// when h1 had none), and is removed at the start (leftovers of an
// interrupted run) and at the end: the apps with `ship app remove --yes`,
// kamal-proxy with `ship proxy remove`, then the raw containers, the
// volumes, the images and ship's files on the host (env files, audit log,
// queue). The "kamal" network ship creates stays: every ship app on the
// host shares it. A kamal-proxy on h1 that the bench did not make (one not
// publishing port 18080) stops the bench before anything is touched.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"maps"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/internal/benchkit"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testproxy"
	"github.com/shipdeploy/ship/ssh"
)

const (
	prefix         = "bench-swap-"
	deploys        = 10
	clients        = 4
	interval       = 20 * time.Millisecond
	requestTimeout = 10 * time.Second
	settle         = 500 * time.Millisecond
	// slow successes are counted in the notes: held by kamal-proxy, or
	// stalled on their way into a container that was still starting.
	slow = 500 * time.Millisecond
	// Where kamal-proxy listens on h1: not 80 and 443, which h2's
	// kamal-proxy in the integration tests has, and not on every interface.
	proxyHTTPPort  = 18080
	proxyHTTPSPort = 18443
)

var (
	compareOnly = flag.Bool("compare", false, "run only the floor against ship")
	trace       = flag.Bool("trace", false, "run the compared (or, with -sizes, sized) ship deploys with -v, their lines timed")
	sizesFlag   = flag.String("sizes", "", "run only the hold against database size, for these sizes in MB (e.g. 1,100,1000)")
)

func main() {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "bench/swap: %v\n", err)
		os.Exit(1)
	}
}

// result is one row of the table, and the notes under it.
type result struct {
	scenario              string
	deploys               int
	requests, failed      int
	acked, missing, twice int
	p50, p99, max         time.Duration
	gapMedian, gapMax     time.Duration
	failures              map[string]int
	slow                  int // successful requests that took longer than slow
	// holds are the holds ship reported ("kamal-proxy released requests
	// after"), to set beside the gaps the clients saw.
	holds []time.Duration
	// command is the median wall time of the swap command itself: a
	// whole ship deploy, or docker stop && docker start.
	command time.Duration
}

func run(ctx context.Context) error {
	h1, _, err := testhost.Up(ctx)
	if err != nil {
		return fmt.Errorf("test hosts: %w", err)
	}
	cli, err := client.NewClientWithOpts(client.WithHost(h1.DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Errorf("docker client for %s: %w", h1.DockerHost, err)
	}
	defer cli.Close()
	version, err := cli.ServerVersion(ctx)
	if err != nil {
		return fmt.Errorf("docker version on %s: %w", h1.Name, err)
	}
	tmp, err := os.MkdirTemp("", "bench-swap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := benchkit.BuildShip(ctx, tmp)
	if err != nil {
		return err
	}
	pool := ssh.NewPool(ssh.Config{User: h1.User, Keys: []string{h1.KeyPath}, KeysOnly: true, KnownHosts: []string{h1.KnownHostsPath}})
	defer pool.Close()
	conn := pool.Conn(h1.Addr)
	// Connected before any clock starts: scenario (c) swaps over it.
	if _, err := conn.Client(ctx); err != nil {
		return err
	}
	b := &bench{h1: h1, docker: cli, conn: conn, ship: bin, secret: "bench-" + rand.Text()}
	publishPort, err := freePort()
	if err != nil {
		return err
	}
	if b.rawPort, err = freePort(); err != nil {
		return err
	}
	if b.proxied, err = b.project(tmp, "proxied", "", proxiedKeys); err != nil {
		return err
	}
	roleKeys, topKeys := publishedKeys(publishPort)
	if b.published, err = b.project(tmp, "published", roleKeys, topKeys); err != nil {
		return err
	}
	b.published.url = fmt.Sprintf("http://127.0.0.1:%d", publishPort)
	var sizes []int
	if *sizesFlag != "" {
		if sizes, err = parseSizes(*sizesFlag); err != nil {
			return err
		}
		if err := b.sizedProjects(tmp, sizes); err != nil {
			return err
		}
	}
	b.proxied.url = fmt.Sprintf("http://127.0.0.1:%d", proxyHTTPPort)

	if err := b.cleanup(ctx); err != nil {
		return fmt.Errorf("clean up before: %w", err)
	}
	defer func() {
		if err := b.cleanup(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "bench/swap: clean up: %v\n", err)
		}
	}()
	for _, port := range []int{proxyHTTPPort, proxyHTTPSPort} {
		if err := portFree(port); err != nil {
			return err
		}
	}
	if err := b.images(ctx); err != nil {
		return err
	}
	if _, err := testproxy.EnsureImage(ctx, h1.DockerHost, func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}); err != nil {
		return fmt.Errorf("kamal-proxy image: %w", err)
	}

	fmt.Printf("example app on %s (%s, Docker %s), %d swaps per scenario; %d clients, each a request every %s\n",
		h1.Name, h1.Addr, version.Version, deploys, clients, interval)
	fmt.Printf("(writes and reads alternate), a connection per request, %s timeout\n\n", requestTimeout)
	if len(sizes) > 0 {
		return b.compareSizes(ctx, sizes)
	}
	if *compareOnly {
		if err := b.setupProxied(ctx); err != nil {
			return err
		}
		return b.compare(ctx, 1)
	}
	var results []result
	for _, s := range []func(context.Context) (result, error){b.runProxied, b.runPublished, b.runRaw} {
		r, err := s(ctx)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	if err := report(results); err != nil {
		return err
	}
	return b.compare(ctx, deploys+1)
}

func report(results []result) error {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tdeploys\trequests\tfailed\tlost acked writes\tp50 (ms)\tp99 (ms)\tmax (ms)\tswap gap median (ms)\tswap gap max (ms)")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d of %d\t%s\t%s\t%s\t%s\t%s\n", r.scenario, r.deploys, r.requests, r.failed,
			r.missing, r.acked, benchkit.MS(r.p50), benchkit.MS(r.p99), benchkit.MS(r.max), benchkit.MS(r.gapMedian), benchkit.MS(r.gapMax))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Printf("\nswap gap: per swap, the longest time in which no request of any client completed successfully; a request\n" +
		"held by kamal-proxy completes when it is released, so through the proxy the gap is the hold. Latencies: successful requests.\n")
	for _, r := range results {
		var notes []string
		if len(r.failures) > 0 {
			// The commonest cause first.
			kinds := slices.SortedFunc(maps.Keys(r.failures), func(a, b string) int { return r.failures[b] - r.failures[a] })
			for i, k := range kinds {
				kinds[i] = fmt.Sprintf("%d %s", r.failures[k], k)
			}
			notes = append(notes, "failed: "+strings.Join(kinds, ", "))
		}
		notes = append(notes, fmt.Sprintf("%d successful requests took over %s", r.slow, slow))
		notes = append(notes, fmt.Sprintf("the swap command took median %s ms", benchkit.MS(r.command)))
		if len(r.holds) > 0 {
			notes = append(notes, fmt.Sprintf("holds as ship reported them: median %s ms, max %s ms", benchkit.MS(benchkit.Median(r.holds)), benchkit.MS(slices.Max(r.holds))))
		}
		if r.twice > 0 {
			notes = append(notes, fmt.Sprintf("%d ids acknowledged twice: the database started over", r.twice))
		}
		fmt.Printf("%s %s\n", r.scenario[:3], strings.Join(notes, "; "))
	}
	return nil
}

// freePort is a loopback port nothing listens on, as far as one can tell
// before publishing it.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree fails if something listens on the loopback port already.
func portFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("port %d, which the bench's kamal-proxy publishes, is taken: %w", port, err)
	}
	return l.Close()
}
