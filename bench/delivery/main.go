// Command delivery measures registry-less image delivery to a real host over
// real SSH, against its anchor in the same run: the bytes on the wire and
// the wall time of ship's push of a 120 MB image, first and after a
// code-only change (one new 5 MB layer), as root (ship reads the local
// layer store) and again as a docker-group user who cannot (nobody with
// the socket's group: the local engine reads the layers for ship), against
// the classic
// `docker save | ssh HOST docker load` of the same two images, the local
// engine's `docker save` alone, and the raw throughput of the SSH
// connection, the ceiling for all. Then whole `ship deploy`s of that app
// to the host: after a code-only change, and with the image already there,
// against the host engine's own load of the changed layer alone, the
// floor of the difference.
//
//	go run ./bench/delivery
//
// It brings up the test hosts (as root, like make test), builds the images
// FROM scratch on h1's engine (the local one: a random base layer, the
// example app, a random code layer) and sends them over one SSH connection
// to h2, which has an engine of its own. ship's bytes are those written
// into the forwarded Docker socket; the classic way's bytes are those
// written into docker load's stdin. The images, all named
// bench-delivery-*, and the app are removed from both engines at the start
// (leftovers of an interrupted run) and at the end.
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/shipdeploy/ship/delivery"
	"github.com/shipdeploy/ship/engine"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/ssh"
)

const (
	prefix   = "bench-delivery-"
	baseSize = 96e6      // the base layer: dependencies, runtime
	codeSize = 5e6       // the code layer, the part a deploy changes
	rawSize  = 200 << 20 // streamed into cat for the connection's throughput
	mb       = 1e6       // the table's MB, as in the README
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	do := run
	if len(os.Args) == 2 && os.Args[1] == childFlag {
		do = pushChild
	}
	if err := do(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "bench/delivery: %v\n", err)
		os.Exit(1)
	}
}

// result is one row of the table.
type result struct {
	scenario string
	bytes    int64
	took     time.Duration
}

func run(ctx context.Context) error {
	h1, h2, err := testhost.Up(ctx)
	if err != nil {
		return fmt.Errorf("test hosts: %w", err)
	}
	local, err := client.NewClientWithOpts(client.WithHost(h1.DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Errorf("docker client for %s: %w", h1.DockerHost, err)
	}
	defer local.Close()
	w, remote, version, err := dialWire(ctx, ssh.Config{User: h2.User, Keys: []string{h2.KeyPath}, KeysOnly: true, KnownHosts: []string{h2.KnownHostsPath}}, h2.Addr)
	if err != nil {
		return fmt.Errorf("%s: %w", h2.Name, err)
	}
	defer w.close()
	defer remote.Close()
	conn := w.conn

	engines := map[string]client.APIClient{h1.Name: local, h2.Name: remote}
	cleanup := func() error {
		// Not ctx: clean up after an interrupt too.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		var errs []error
		for name, cli := range engines {
			if err := removeImages(ctx, cli); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
		return errors.Join(errs...)
	}
	if err := cleanup(); err != nil {
		return err
	}
	defer func() {
		if err := cleanup(); err != nil {
			fmt.Fprintf(os.Stderr, "bench/delivery: clean up: %v\n", err)
		}
	}()

	tmp, err := os.MkdirTemp("", "bench-delivery-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b, err := newBuilder(ctx, local, tmp)
	if err != nil {
		return err
	}
	name := prefix + strings.ToLower(rand.Text()[:8])
	first, code := name+":1", name+":2"
	if err := b.build(ctx, first); err != nil {
		return err
	}
	if err := b.build(ctx, code); err != nil {
		return err
	}
	info, err := local.ImageInspect(ctx, first)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", first, err)
	}

	fmt.Printf("%s, FROM scratch, %.1f MB: base layer %.1f MB + the example app %.1f MB + code layer %.1f MB (random bytes)\n",
		name, float64(info.Size)/mb, baseSize/mb, float64(len(b.app))/mb, codeSize/mb)
	fmt.Printf("from %s's engine to %s (%s, Docker %s) over SSH; MB = 10^6 bytes\n\n", h1.Name, h2.Name, h2.Addr, version.Version)

	var results []result
	// h2 has neither image, then the first one.
	for _, s := range []struct{ scenario, ref string }{
		{"ship, first push", first},
		{"ship, code-only change", code},
	} {
		r, err := shipPush(ctx, local, remote, w, s.ref)
		if err != nil {
			return err
		}
		r.scenario = fmt.Sprintf("%s (%s)", s.scenario, r.scenario)
		results = append(results, r)
	}
	if err := removeImages(ctx, remote); err != nil {
		return fmt.Errorf("%s: %w", h2.Name, err)
	}
	// The same two states, as a docker-group user who cannot read the
	// local engine's data directory.
	asUser, err := dockerGroupPushes(ctx, h1, h2, []string{first, code})
	if err != nil {
		return err
	}
	for i, scenario := range []string{"ship as a docker-group user, first push", "ship as a docker-group user, code-only change"} {
		asUser[i].scenario = fmt.Sprintf("%s (%s)", scenario, asUser[i].scenario)
	}
	results = append(results, asUser...)
	if err := removeImages(ctx, remote); err != nil {
		return fmt.Errorf("%s: %w", h2.Name, err)
	}
	// The same two states again.
	for _, s := range []struct{ scenario, ref string }{
		{"docker save | ssh docker load, first push", first},
		{"docker save | ssh docker load, code-only change", code},
	} {
		r, err := saveLoad(ctx, local, remote, conn, s.ref)
		if err != nil {
			return err
		}
		r.scenario = s.scenario
		results = append(results, r)
	}
	r, err := saveAlone(ctx, local, code)
	if err != nil {
		return err
	}
	results = append(results, r)
	if r, err = rawThroughput(ctx, conn); err != nil {
		return err
	}
	results = append(results, r)

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tsent (MB)\ttime\tMB/s")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%.0f\n", r.scenario, float64(r.bytes)/mb, r.took.Round(time.Millisecond), float64(r.bytes)/mb/r.took.Seconds())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Printf("\nship, first push / docker save | ssh docker load: %.2f (as a docker-group user: %.2f)\n\n",
		results[0].took.Seconds()/results[4].took.Seconds(), results[2].took.Seconds()/results[4].took.Seconds())
	return deploys(ctx, b, h1, h2, local, remote, tmp)
}

// saveAlone is the local engine's `docker save` into /dev/null: what any
// delivery that starts from it pays before the first byte leaves.
func saveAlone(ctx context.Context, local client.APIClient, ref string) (result, error) {
	start := time.Now()
	rc, err := local.ImageSave(ctx, []string{ref})
	if err != nil {
		return result{}, fmt.Errorf("docker save %s: %w", ref, err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	if err != nil {
		return result{}, fmt.Errorf("docker save %s: %w", ref, err)
	}
	return result{scenario: "docker save > /dev/null alone, on the local engine (not sent)", bytes: n, took: time.Since(start)}, nil
}

// shipPush delivers ref with ship, counting what it writes into the
// forwarded Docker socket. The scenario says how many layers it sent.
func shipPush(ctx context.Context, local, remote client.APIClient, w *wire, ref string) (result, error) {
	before := w.bytes.Load()
	start := time.Now()
	img, err := delivery.Open(ctx, local, ref)
	if err != nil {
		return result{}, err
	}
	defer img.Close()
	st, err := img.Send(ctx, remote, nil)
	if err != nil {
		return result{}, fmt.Errorf("ship push %s: %w", ref, err)
	}
	if st.AlreadyThere {
		return result{}, fmt.Errorf("ship push %s: the host had it already", ref)
	}
	return result{
		scenario: fmt.Sprintf("%d of %d layers, %s", st.Sent, st.Layers, st.Route),
		bytes:    w.bytes.Load() - before,
		took:     time.Since(start),
	}, nil
}

// saveLoad is `docker save REF | ssh HOST docker load`: the whole archive,
// streamed from the local engine into docker load's stdin on the host.
func saveLoad(ctx context.Context, local, remote client.APIClient, conn *ssh.Conn, ref string) (result, error) {
	start := time.Now()
	rc, err := local.ImageSave(ctx, []string{ref})
	if err != nil {
		return result{}, fmt.Errorf("docker save %s: %w", ref, err)
	}
	defer rc.Close()
	stream := &counter{r: rc}
	if err := conn.Run(ctx, ssh.Cmd{Args: []string{"docker", "load"}, Stdin: stream}); err != nil {
		return result{}, fmt.Errorf("docker save %s | docker load: %w", ref, err)
	}
	took := time.Since(start)
	// The check ship's Send makes: the host has the very image.
	want, err := local.ImageInspect(ctx, ref)
	if err != nil {
		return result{}, fmt.Errorf("inspect %s: %w", ref, err)
	}
	if got, err := remote.ImageInspect(ctx, ref); err != nil || got.ID != want.ID {
		return result{}, fmt.Errorf("after docker load, %s on the host is %q, want %s (%v)", ref, got.ID, want.ID, err)
	}
	return result{bytes: stream.n, took: took}, nil
}

// rawThroughput streams rawSize bytes into cat on the host: what the SSH
// connection carries at best.
func rawThroughput(ctx context.Context, conn *ssh.Conn) (result, error) {
	// Random, in case anything on the way compresses; one block sent over
	// and over, as generating 200 MB would cost more than sending them.
	block := randomBytes(1 << 20)
	readers := make([]io.Reader, rawSize/len(block))
	for i := range readers {
		readers[i] = bytes.NewReader(block)
	}
	stream := &counter{r: io.MultiReader(readers...)}
	start := time.Now()
	if err := conn.Run(ctx, ssh.Cmd{Args: []string{"sh", "-c", "cat > /dev/null"}, Stdin: stream}); err != nil {
		return result{}, fmt.Errorf("stream into cat: %w", err)
	}
	return result{scenario: "raw SSH: random bytes into cat > /dev/null", bytes: stream.n, took: time.Since(start)}, nil
}

// builder builds the bench's images on the local engine: FROM scratch, a
// random base layer shared by all of them, the example app, and a random
// code layer of each image's own.
type builder struct {
	local     client.APIClient
	base, app []byte
}

func newBuilder(ctx context.Context, local client.APIClient, tmp string) (*builder, error) {
	bin := filepath.Join(tmp, "app")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/shipdeploy/ship/examples/app")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // the image is FROM scratch
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the example app: %w\n%s", err, out)
	}
	app, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	return &builder{local: local, base: randomBytes(baseSize), app: app}, nil
}

const dockerfile = `FROM scratch
COPY base.bin /base.bin
COPY app /app
COPY code.bin /code.bin
EXPOSE 3000
ENTRYPOINT ["/app"]
`

func (b *builder) build(ctx context.Context, ref string) error {
	var buildCtx bytes.Buffer
	tw := tar.NewWriter(&buildCtx)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{
		{"Dockerfile", 0o644, []byte(dockerfile)},
		{"base.bin", 0o644, b.base},
		{"app", 0o755, b.app},
		{"code.bin", 0o644, randomBytes(codeSize)},
	} {
		// A fixed time keeps the base and app layers cached.
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	resp, err := b.local.ImageBuild(ctx, &buildCtx, build.ImageBuildOptions{
		Tags:        []string{ref},
		Remove:      true,
		ForceRemove: true,
		// The classic builder, whatever the engine's default: it needs
		// nothing but the tar context.
		Version: build.BuilderV1,
	})
	if err != nil {
		return fmt.Errorf("build %s: %w", ref, err)
	}
	defer resp.Body.Close()
	if err := jsonmessage.DisplayJSONMessagesStream(resp.Body, io.Discard, 0, false, nil); err != nil {
		return fmt.Errorf("build %s: %w", ref, err)
	}
	return nil
}

// removeImages removes every bench-delivery-* image from cli's engine, with
// the untagged parents the classic builder leaves under them.
func removeImages(ctx context.Context, cli client.APIClient) error {
	list, err := cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", prefix+"*"))})
	if err != nil {
		return fmt.Errorf("list images: %w", err)
	}
	for _, s := range list {
		for _, ref := range s.RepoTags {
			_, err := cli.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true})
			if err != nil && !client.IsErrNotFound(err) {
				return fmt.Errorf("remove image %s: %w", ref, err)
			}
		}
	}
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// wire counts the bytes written into the SSH-forwarded Docker socket, as
// delivery's test does.
type wire struct {
	pool  *ssh.Pool
	conn  *ssh.Conn
	bytes atomic.Int64
}

// dialWire connects to addr over SSH and opens its Docker Engine through a
// wire, before any clock starts, as ship is before it delivers; asking the
// engine's version also negotiates the API version, which would otherwise
// cost the first push a round trip. close ends both.
func dialWire(ctx context.Context, cfg ssh.Config, addr string) (*wire, client.APIClient, types.Version, error) {
	pool := ssh.NewPool(cfg)
	w := &wire{pool: pool, conn: pool.Conn(addr)}
	if _, err := w.conn.Client(ctx); err != nil {
		pool.Close()
		return nil, nil, types.Version{}, err
	}
	remote, err := engine.New(w)
	if err != nil {
		pool.Close()
		return nil, nil, types.Version{}, err
	}
	version, err := remote.ServerVersion(ctx)
	if err != nil {
		remote.Close()
		pool.Close()
		return nil, nil, types.Version{}, fmt.Errorf("docker version: %w", err)
	}
	return w, remote, version, nil
}

func (w *wire) close() { w.pool.Close() }

func (w *wire) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := w.conn.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countConn{Conn: c, n: &w.bytes}, nil
}

type countConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// counter counts the bytes read through it. Only the SSH session's stdin
// copier reads it, and the count is read after the session has ended.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
