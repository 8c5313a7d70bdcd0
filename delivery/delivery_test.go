package delivery

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/storage"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/engine"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/ssh"
)

func TestChainIDs(t *testing.T) {
	// The layer store's rule: chain(1) = diff(1); chain(n) = sha256(chain(n-1) + " " + diff(n)).
	sum := sha256.Sum256([]byte("sha256:a sha256:b"))
	want := []string{"sha256:a", "sha256:" + hex.EncodeToString(sum[:])}
	got := chainIDs([]string{"sha256:a", "sha256:b"})
	if got[0] != want[0] || got[1] != want[1] {
		t.Errorf("chainIDs = %v, want %v", got, want)
	}
	if chainIDs([]string{"sha256:x", "sha256:b"})[1] == got[1] {
		t.Error("the chain of a layer must depend on the layers below it")
	}
}

// buildImage builds FROM scratch with a big base file and a small "code"
// file on the local engine.
func buildImage(t *testing.T, cli *client.Client, ref string, base, code []byte) {
	t.Helper()
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	add := func(name string, data []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
	}
	add("Dockerfile", []byte("FROM scratch\nCOPY base.bin /base.bin\nCOPY code.bin /code.bin\n"))
	add("base.bin", base)
	add("code.bin", code)
	tw.Close()
	resp, err := cli.ImageBuild(context.Background(), &ctxTar, build.ImageBuildOptions{Tags: []string{ref}, Remove: true})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := engine.ReadProgress(resp.Body); err != nil {
		t.Fatalf("build %s: %v", ref, err)
	}
	t.Cleanup(func() { cli.ImageRemove(context.Background(), ref, image.RemoveOptions{PruneChildren: true}) })
}

// wire counts the bytes ship writes into the SSH-forwarded Docker socket.
type wire struct {
	conn  *ssh.Conn
	bytes atomic.Int64
}

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

// To h2, which has its own engine: the first push sends everything, a
// code-only change sends little more than the changed layer, and an
// interrupted push leaves no image behind and can simply be run again.
func TestSendsOnlyMissingLayers(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	ctx := context.Background()
	local, err := client.NewClientWithOpts(client.WithHost(h1.DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	base, code1, code2, code3, code4 := make([]byte, 30<<20), make([]byte, 1<<20), make([]byte, 1<<20), make([]byte, 1<<20), make([]byte, 1<<20)
	for _, b := range [][]byte{base, code1, code2, code3, code4} {
		rand.Read(b)
	}
	suffix := strings.ToLower(rand.Text()[:6])
	var refs []string
	for i, code := range [][]byte{code1, code2, code3, code4} {
		refs = append(refs, fmt.Sprintf("delivery-test-%s:%d", suffix, i+1))
		buildImage(t, local, refs[i], base, code)
	}

	// Removed through h2's own socket: the SSH client below is closed by
	// the time cleanups run.
	direct, err := client.NewClientWithOpts(client.WithHost(h2.DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, r := range refs {
			direct.ImageRemove(ctx, r, image.RemoveOptions{Force: true, PruneChildren: true})
		}
		direct.Close()
	})
	pool := ssh.NewPool(ssh.Config{User: h2.User, Keys: []string{h2.KeyPath}, KeysOnly: true, KnownHosts: []string{h2.KnownHostsPath}})
	defer pool.Close()
	w := &wire{conn: pool.Conn(h2.Addr)}
	remote, err := engine.New(w)
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()

	send := func(ref string) (Stats, int64) {
		img, err := Open(ctx, local, ref)
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		before := w.bytes.Load()
		st, err := img.Send(ctx, remote, nil)
		if err != nil {
			t.Fatalf("send %s: %v", ref, err)
		}
		return st, w.bytes.Load() - before
	}
	first, firstWire := send(refs[0])
	if first.Sent != 2 || firstWire < int64(len(base)) || first.Route != FromLayerStore {
		t.Errorf("first push sent %d layers, %d bytes on the wire (%s, %s); want both layers, at least %d bytes, from the layer store", first.Sent, firstWire, first.Route, first.Note, len(base))
	}
	second, secondWire := send(refs[1])
	changed := int64(len(code2)) + 1024 // the layer's tar: the file and its header
	t.Logf("first push: %d bytes on the wire; code-only push: %d bytes (changed layer %d bytes)", firstWire, secondWire, changed)
	if second.Sent != 1 || float64(secondWire) > 1.05*float64(changed) || second.Route != FromLayerStore {
		t.Errorf("code-only push sent %d layers and %d bytes on the wire (%s, %s), want 1 layer and at most 1.05 x %d from the layer store", second.Sent, secondWire, second.Route, second.Note, changed)
	}
	if again, _ := send(refs[1]); !again.AlreadyThere {
		t.Errorf("a second push of the same image sent %d bytes", again.Bytes)
	}

	// Interrupt the third push midway.
	img, err := Open(ctx, local, refs[2])
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	cctx, cancel := context.WithCancel(ctx)
	_, err = img.Send(cctx, remote, func(p Transfer) {
		if p.Sent > 256<<10 {
			cancel()
		}
	})
	if err == nil || !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "cancel") {
		t.Fatalf("interrupted push: %v", err)
	}
	if _, err := remote.ImageInspect(ctx, refs[2]); err == nil {
		t.Error("an interrupted push left the image on the host")
	}
	// Again, as when the local layer store is not readable here (a
	// docker-group user): the engine reads the layer for ship.
	img.src, img.srcErr = nil, errors.New("no layer store in this test")
	before := w.bytes.Load()
	third, err := img.Send(ctx, remote, nil)
	if err != nil {
		t.Fatalf("push after an interrupted one: %v", err)
	}
	if wire := w.bytes.Load() - before; third.Route != FromEngine || third.Sent != 1 || float64(wire) > 1.05*float64(changed) {
		t.Errorf("without the layer store, sent %d layers, %d bytes (%s, %s), want 1 layer of at most 1.05 x %d read through the local engine", third.Sent, wire, third.Route, third.Note, changed)
	}
	// And when the engine cannot read it either: its save, filtered.
	img, err = Open(ctx, local, refs[3])
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	img.srcErr, img.engineErr = errors.New("no layer store in this test"), errors.New("no engine read in this test")
	fourth, err := img.Send(ctx, remote, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fourth.Route != FromSavedArchive || fourth.Sent != 1 {
		t.Errorf("without the layer store, sent %d layers (%s), want 1 filtered from docker save", fourth.Sent, fourth.Route)
	}
	for _, ref := range refs {
		want, _ := local.ImageInspect(ctx, ref)
		if got, err := remote.ImageInspect(ctx, ref); err != nil || got.ID != want.ID {
			t.Errorf("%s on the host is %q, locally %q (%v)", ref, got.ID, want.ID, err)
		}
	}
}

// A code-only change: the version the host serves (tagged latest) shows
// every layer below the top and the classic store, in one inspection and
// without listing the host's images or asking `docker info`; without that
// tag, the newest previous version does, and the host's other images are
// not asked.
func TestLookUpAsksThePreviousVersionFirst(t *testing.T) {
	base, code1, code2 := []byte("base layer"), []byte("code v1"), []byte("code v2")
	e := newFakeEngine(newFakeImage("registry.example/app:v1", base, code1))
	for i := range 20 {
		e.add(newFakeImage(fmt.Sprintf("other-%d:v1", i), []byte(fmt.Sprintf("unrelated %d", i))))
	}
	v2 := newFakeImage("registry.example/app:v2", base, code2)
	img := &Image{Ref: v2.ref, ID: v2.id(), diffIDs: v2.diffIDs}
	chains := chainIDs(v2.diffIDs)
	ask := func(img *Image) map[string]bool {
		t.Helper()
		e.inspected.Store(0)
		e.listed.Store(0)
		e.infos.Store(0)
		present, full, err := lookUp(context.Background(), e, img)
		if err != nil {
			t.Fatal(err)
		}
		if full != e.containerd {
			t.Errorf("full %v, want %v (containerd store %v)", full, e.containerd, e.containerd)
		}
		return present
	}
	present := ask(img)
	if !present[chains[0]] || present[chains[1]] {
		t.Errorf("present: base %v, top %v; want the base only", present[chains[0]], present[chains[1]])
	}
	// The latest tag, missing, then the previous version; docker info
	// says which store.
	if n, infos := e.inspected.Load(), e.infos.Load(); n != 2 || infos != 1 {
		t.Errorf("%d images inspected and %d docker infos, want 2 (latest, missing; the previous version) and 1", n, infos)
	}

	// With several versions kept, the newest alone shows the base.
	e.add(newFakeImage("registry.example/app:v1b", base, []byte("code v1b")))
	e.add(newFakeImage("registry.example/app:v1c", base, []byte("code v1c")))
	if present = ask(img); !present[chains[0]] || e.inspected.Load() != 2 {
		t.Errorf("several versions: base present %v after %d inspections, want after 2 (latest, missing; the newest)", present[chains[0]], e.inspected.Load())
	}

	// The version the host serves, tagged latest: nothing listed.
	e.add(newFakeImage("registry.example/app:latest", base, []byte("code v1c")))
	if present = ask(img); !present[chains[0]] || e.inspected.Load() != 1 || e.listed.Load() != 0 || e.infos.Load() != 0 {
		t.Errorf("tagged latest: base present %v after %d inspections, %d lists and %d docker infos, want after 1 and none", present[chains[0]], e.inspected.Load(), e.listed.Load(), e.infos.Load())
	}
	// Unless the host keeps images in containerd: latest does not say so,
	// docker info does.
	e.containerd = true
	if present = ask(img); !present[chains[0]] || e.infos.Load() != 1 {
		t.Errorf("containerd store: base present %v after %d docker infos, want after 1", present[chains[0]], e.infos.Load())
	}
	e.containerd = false

	// A new base: the previous versions do not have it, so every image
	// is asked.
	v3 := newFakeImage("registry.example/app:v3", []byte("new base"), code2)
	img3 := &Image{Ref: v3.ref, ID: v3.id(), diffIDs: v3.diffIDs}
	if ask(img3); e.inspected.Load() != 1+24 {
		t.Errorf("%d images inspected, want latest and then all 24", e.inspected.Load())
	}

	// The image itself under another name, and no latest tag: all there,
	// from the list. (With the tag, the top layer is sent again, and the
	// load skips it.)
	delete(e.images, "registry.example/app:latest")
	mirror := v2
	mirror.ref = "mirror.example/app:v2"
	e.add(mirror)
	if present = ask(img); !present[chains[1]] {
		t.Errorf("under another name: top present %v after %d inspections", present[chains[1]], e.inspected.Load())
	}
}

func TestRepository(t *testing.T) {
	for ref, want := range map[string]string{
		"app:v1":                            "app",
		"registry.example:5000/team/app:v1": "registry.example:5000/team/app",
		"registry.example:5000/app":         "registry.example:5000/app",
		"app@sha256:abc":                    "app",
	} {
		if got := repository(ref); got != want {
			t.Errorf("repository(%q) = %q, want %q", ref, got, want)
		}
	}
}

// A layer leaves in full SSH packets: however unevenly the archive is
// read, each chunk of the load's body is one write of 32 KB, framing
// included, into the engine's socket (each a packet sshd must buffer
// while the engine is not reading yet).
func TestLoadBodyLeavesInFullPackets(t *testing.T) {
	body := make([]byte, 5*bodyChunk+1000)
	rand.Read(body)
	img := &Image{Ref: "app:v2", ID: digest([]byte("config"))}
	var got bytes.Buffer
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/_ping":
			w.Header().Set("Api-Version", "1.41")
		case strings.HasSuffix(r.URL.Path, "/images/load"):
			io.Copy(&got, r.Body)
			io.WriteString(w, `{"stream":"Loaded image: app:v2\n"}`+"\n")
		case strings.HasSuffix(r.URL.Path, "/images/app:v2/json"):
			json.NewEncoder(w).Encode(map[string]string{"Id": img.ID})
		default:
			http.NotFound(w, r)
		}
	})}
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	d := &recordingDialer{path: sock}
	remote, err := engine.New(d)
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()

	st, err := img.load(context.Background(), remote, iotest.HalfReader(bytes.NewReader(body)), int64(len(body)), Stats{}, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), body) || st.Bytes != int64(len(body)) {
		t.Fatalf("the engine got %d bytes (counted %d), want the %d sent", got.Len(), st.Bytes, len(body))
	}
	full := 0
	for _, n := range d.sizes() {
		if n == 32<<10 {
			full++
		}
	}
	if full != 5 {
		t.Errorf("%d writes of 32 KB, want one per full chunk (5); writes: %v", full, d.sizes())
	}
}

// recordingDialer dials a unix socket and records the size of each write.
type recordingDialer struct {
	path string
	mu   sync.Mutex
	n    []int
}

func (d *recordingDialer) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "unix", d.path)
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c, d: d}, nil
}

func (d *recordingDialer) sizes() []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.n)
}

type recordingConn struct {
	net.Conn
	d *recordingDialer
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.d.mu.Lock()
	c.d.n = append(c.d.n, len(p))
	c.d.mu.Unlock()
	return c.Conn.Write(p)
}

// The local layer store is found from the image's own directories, with
// no `docker info`, only for the classic store's overlay2.
func TestOverlay2Root(t *testing.T) {
	for _, c := range []struct {
		gd   storage.DriverData
		want string
	}{
		{storage.DriverData{Name: "overlay2", Data: map[string]string{"UpperDir": "/var/lib/docker/overlay2/abc/diff"}}, "/var/lib/docker"},
		{storage.DriverData{Name: "overlay2", Data: map[string]string{"UpperDir": "/srv/docker/100000.100000/overlay2/abc/diff"}}, "/srv/docker/100000.100000"},
		{storage.DriverData{Name: "overlayfs"}, ""}, // the containerd store
		{storage.DriverData{Name: "btrfs", Data: map[string]string{"UpperDir": "/var/lib/docker/btrfs/abc/diff"}}, ""},
		{storage.DriverData{Name: "overlay2", Data: map[string]string{"UpperDir": "/var/lib/docker/elsewhere/abc/diff"}}, ""},
		{storage.DriverData{Name: "overlay2", Data: map[string]string{"UpperDir": "overlay2/abc/diff"}}, ""},
		{storage.DriverData{Name: "overlay2", Data: map[string]string{"UpperDir": "/var/lib/docker/overlay2/abc/merged"}}, ""},
	} {
		if got := overlay2Root(c.gd); got != c.want {
			t.Errorf("overlay2Root(%v) = %q, want %q", c.gd, got, c.want)
		}
	}
}
