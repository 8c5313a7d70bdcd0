// Package delivery gets an image from the local Docker Engine onto a host
// without a registry: over the SSH connection, sending only the layers the
// host does not have yet.
//
// It relies on how `docker load` works on Engine 20.10's classic image
// store: for each layer of the archive's manifest, the engine first looks
// the layer's chain ID up in its layer store and reads the layer's file
// only when it is missing. So ship sends each host an archive whose
// manifest lists every layer but which carries only the files of the
// layers the host lacks; the image that ends up there is identical (same
// ID, same tag, checked after the load).
//
// Where it can, ship reads those layers straight from the local engine's
// layer store (layerstore.go), as the engine's own save copies every layer
// to a temp directory first. Where it may not (a docker-group user), it has
// the engine read them, through a helper container that is never started
// (enginestore.go). Otherwise it saves the image once and filters the
// archive.
//
// With the containerd image store (Docker 24+ with "containerd-snapshotter"
// enabled, the default from 29), load wants every layer's file, so ship
// sends the whole save there.
package delivery

import (
	"archive/tar"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/image"
	dockerstorage "github.com/docker/docker/api/types/storage"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/engine"
)

// Image is a local image, saved once and sent to as many hosts as need it.
type Image struct {
	Ref     string
	ID      string
	Size    int64
	diffIDs []string
	graph   dockerstorage.DriverData // where the local engine keeps it
	local   client.APIClient

	mu      sync.Mutex
	file    string           // the saved archive
	layers  []string         // archive path of each layer, in diffID order
	sizes   map[string]int64 // archive path -> bytes
	saveErr error
	src     layerSource // the local layer store, when readable
	srcErr  error       // why it is not
	// engineErr says why the local engine cannot read its layer store
	// for ship either, once that is known for good.
	engineErr error
}

// Open finds ref in the local engine.
func Open(ctx context.Context, local client.APIClient, ref string) (*Image, error) {
	info, err := local.ImageInspect(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("image %s in the local Docker Engine: %w", ref, err)
	}
	return &Image{Ref: ref, ID: info.ID, Size: info.Size, diffIDs: info.RootFS.Layers, graph: info.GraphDriver, local: local}, nil
}

// Close removes the saved archive.
func (img *Image) Close() {
	img.mu.Lock()
	defer img.mu.Unlock()
	if img.file != "" {
		os.Remove(img.file)
	}
}

// Route is where a delivery read the image's bytes from.
type Route int

// The routes, fastest first.
const (
	// FromLayerStore read only the missing layers from the local engine's
	// layer store on disk.
	FromLayerStore Route = iota + 1
	// FromEngine had the local engine read only the missing layers from
	// its layer store, through a helper container.
	FromEngine
	// FromSaveStream streamed the local engine's whole save.
	FromSaveStream
	// FromSavedArchive saved the image to a temp file, then sent it
	// without the layers the host has.
	FromSavedArchive
)

func (r Route) String() string {
	switch r {
	case FromLayerStore:
		return "read from the local layer store"
	case FromEngine:
		return "read through the local engine"
	case FromSaveStream:
		return "streamed from docker save"
	case FromSavedArchive:
		return "filtered from docker save"
	}
	return "not sent"
}

// Stats is what one delivery sent.
type Stats struct {
	Bytes        int64 // archive bytes sent over the connection
	Layers, Sent int   // layers in the image, layers sent
	Took         time.Duration
	AlreadyThere bool
	Route        Route
	// Note says why the delivery took a slower route, if it did.
	Note string
}

// Send makes sure the image is on the host behind remote, sending only the
// layers it lacks. progress is told how far it has got.
func (img *Image) Send(ctx context.Context, remote client.APIClient, progress func(Transfer)) (Stats, error) {
	start := time.Now()
	st := Stats{Layers: len(img.diffIDs)}
	if info, err := remote.ImageInspect(ctx, img.Ref); err == nil && info.ID == img.ID {
		st.AlreadyThere = true
		return st, nil
	}
	// The host's layers and the local layer store: at once. Only now:
	// beside the inspection above, they cost a deploy whose image is
	// there more than the round trip they save one that sends.
	var (
		wg      sync.WaitGroup
		full    bool
		present map[string]bool
		err     error
	)
	wg.Add(2)
	go func() { defer wg.Done(); present, full, err = lookUp(ctx, remote, img) }()
	go func() { defer wg.Done(); img.source(ctx) }() // remembers its error
	wg.Wait()
	if err != nil {
		return st, err
	}
	if full {
		present = nil
		st.Note = "the host keeps images in containerd, whose load needs every layer"
	} else {
		a, route, done, err := img.fromStore(ctx, present)
		if err == nil {
			defer done()
			st.Route = route
			return img.sendArchive(ctx, remote, a, st, start, progress)
		}
		if anyPresent(chainIDs(img.diffIDs), present) { // else none could send less
			st.Note = err.Error()
		}
	}
	if !img.saved() && !anyPresent(chainIDs(img.diffIDs), present) {
		// The host needs everything: stream the save straight into the
		// load, as `docker save | docker load` would, with no temp file.
		return img.stream(ctx, remote, st, start, progress)
	}
	if err := img.save(ctx); err != nil {
		return st, err
	}
	skip := img.skippable(present)
	var total int64
	for _, p := range uniq(img.layers) {
		if !skip[p] {
			total += img.sizes[p]
			st.Sent++
		}
	}
	st.Route = FromSavedArchive
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(img.writeArchive(pw, skip)) }()
	defer pr.CloseWithError(io.ErrClosedPipe) // stop the writer if load ended early
	return img.load(ctx, remote, pr, total, st, start, progress)
}

// fromStore opens, from the local layer store, the archive of the layers
// the host lacks: read here if this process may, else by the local engine.
// Call done once the archive is sent. An error says why neither serves.
func (img *Image) fromStore(ctx context.Context, present map[string]bool) (a *archive, route Route, done func(), err error) {
	tag, err := loadTag(img.Ref)
	if err != nil {
		return nil, 0, nil, err
	}
	need := missing(img.diffIDs, present)
	src, err := img.source(ctx)
	if err == nil {
		a, err := newArchive(src, img.ID, tag, img.diffIDs, need)
		return a, FromLayerStore, func() {}, err
	}
	if !anyPresent(chainIDs(img.diffIDs), present) {
		// The engine's save, streamed, is as fast as reading every layer
		// through the engine, and spools nothing here.
		return nil, 0, nil, err
	}
	img.mu.Lock()
	known := img.engineErr
	img.mu.Unlock()
	if known != nil {
		return nil, 0, nil, fmt.Errorf("%w; %w", err, known)
	}
	es, engineErr := readThroughEngine(ctx, img.local, img.ID, img.diffIDs, need)
	if engineErr != nil {
		engineErr = fmt.Errorf("reading it through the local engine: %w", engineErr)
		if errors.Is(engineErr, errNotOverlay2) { // no use trying again for another host
			img.mu.Lock()
			img.engineErr = engineErr
			img.mu.Unlock()
		}
		return nil, 0, nil, fmt.Errorf("%w; %w", err, engineErr)
	}
	if a, err = newArchive(es, img.ID, tag, img.diffIDs, need); err != nil {
		es.Close()
		return nil, 0, nil, err
	}
	return a, FromEngine, func() { es.Close() }, nil
}

// sendArchive streams a to the host's load.
func (img *Image) sendArchive(ctx context.Context, remote client.APIClient, a *archive, st Stats, start time.Time, progress func(Transfer)) (Stats, error) {
	st.Sent = len(a.parts)
	pr, pw := io.Pipe()
	go func() {
		_, err := a.WriteTo(pw)
		pw.CloseWithError(err)
	}()
	defer pr.CloseWithError(io.ErrClosedPipe) // stop the writer if load ended early
	return img.load(ctx, remote, pr, a.Total, st, start, progress)
}

// source is the local engine's layer store, looked up once: found from
// the image's own overlay2 directories, else where `docker info` says.
func (img *Image) source(ctx context.Context) (layerSource, error) {
	img.mu.Lock()
	defer img.mu.Unlock()
	if img.src != nil || img.srcErr != nil {
		return img.src, img.srcErr
	}
	root, driver, containerd := overlay2Root(img.graph), "overlay2", false
	if root == "" {
		info, err := img.local.Info(ctx)
		if err != nil {
			img.srcErr = fmt.Errorf("docker info: %w", err)
			return nil, img.srcErr
		}
		root, driver, containerd = info.DockerRootDir, info.Driver, isContainerd(info.DriverStatus)
	}
	if s, err := openLayerStore(root, driver, containerd); err != nil {
		img.srcErr = err
	} else {
		img.src = s
	}
	return img.src, img.srcErr
}

// overlay2Root is the root directory of an engine whose classic store
// keeps an image in overlay2: ROOT/overlay2/ID/diff is its top layer's
// directory. It is "" for any other store.
func overlay2Root(gd dockerstorage.DriverData) string {
	upper := gd.Data["UpperDir"]
	if gd.Name != "overlay2" || !filepath.IsAbs(upper) || filepath.Base(upper) != "diff" {
		return ""
	}
	home := filepath.Dir(filepath.Dir(upper))
	if filepath.Base(home) != "overlay2" {
		return ""
	}
	return filepath.Dir(home)
}

// load feeds an archive to `docker load` on the host and checks that the
// image arrived whole.
func (img *Image) load(ctx context.Context, remote client.APIClient, archive io.Reader, total int64, st Stats, start time.Time, progress func(Transfer)) (Stats, error) {
	counted := &counter{r: archive, progress: func(n int64) {
		if progress != nil {
			progress(Transfer{Sent: n, Total: total, Layers: st.Sent, Of: st.Layers})
		}
	}}
	resp, err := remote.ImageLoad(ctx, counted, client.ImageLoadWithQuiet(true))
	if err != nil {
		return st, fmt.Errorf("load %s on the host: %w", img.Ref, err)
	}
	err = engine.ReadProgress(resp.Body)
	resp.Body.Close()
	st.Bytes, st.Took = counted.n, time.Since(start)
	if err != nil {
		return st, fmt.Errorf("load %s on the host: %w", img.Ref, err)
	}
	info, err := remote.ImageInspect(ctx, img.Ref)
	if errdefs.IsNotFound(err) {
		return st, fmt.Errorf("after loading, %s is not on the host: %w", img.Ref, ErrRemoved)
	}
	if err != nil || info.ID != img.ID {
		return st, fmt.Errorf("after loading, %s on the host is %q, want %s (%v)", img.Ref, info.ID, img.ID, err)
	}
	return st, nil
}

// ErrRemoved says the host loaded the image and something removed it
// before the load was checked, such as a prune: sending it again puts it
// back.
var ErrRemoved = errors.New("removed again before it was checked")

// stream sends the whole image without saving it first.
func (img *Image) stream(ctx context.Context, remote client.APIClient, st Stats, start time.Time, progress func(Transfer)) (Stats, error) {
	rc, err := img.local.ImageSave(ctx, []string{img.Ref})
	if err != nil {
		return st, fmt.Errorf("save %s: %w", img.Ref, err)
	}
	defer rc.Close()
	st.Sent, st.Route = len(uniq(img.diffIDs)), FromSaveStream
	return img.load(ctx, remote, rc, img.Size, st, start, progress)
}

func (img *Image) saved() bool {
	img.mu.Lock()
	defer img.mu.Unlock()
	return img.file != ""
}

func anyPresent(chains []string, present map[string]bool) bool {
	for _, c := range chains {
		if present[c] {
			return true
		}
	}
	return false
}

// save writes `docker save` of the image to a temp file, once.
func (img *Image) save(ctx context.Context) error {
	img.mu.Lock()
	defer img.mu.Unlock()
	if img.file != "" || img.saveErr != nil {
		return img.saveErr
	}
	img.saveErr = func() error {
		f, err := os.CreateTemp("", "ship-image-*.tar")
		if err != nil {
			return err
		}
		img.file = f.Name()
		defer f.Close()
		rc, err := img.local.ImageSave(ctx, []string{img.Ref})
		if err != nil {
			return fmt.Errorf("save %s: %w", img.Ref, err)
		}
		defer rc.Close()
		if _, err := io.Copy(f, rc); err != nil {
			return fmt.Errorf("save %s: %w", img.Ref, err)
		}
		return img.readManifest()
	}()
	return img.saveErr
}

// readManifest finds each layer's file in the saved archive.
func (img *Image) readManifest() error {
	f, err := os.Open(img.file)
	if err != nil {
		return err
	}
	defer f.Close()
	img.sizes = map[string]int64{}
	tr := tar.NewReader(f)
	var manifest []struct{ Layers []string }
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read saved image: %w", err)
		}
		img.sizes[h.Name] = h.Size
		if h.Name == "manifest.json" {
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				return fmt.Errorf("read saved image's manifest: %w", err)
			}
		}
	}
	if len(manifest) != 1 || len(manifest[0].Layers) != len(img.diffIDs) {
		return errors.New("the saved image's manifest does not match its layers")
	}
	img.layers = manifest[0].Layers
	return nil
}

// skippable lists the layer files the host does not need: those whose
// chain (the layer with everything below it) the host already has.
func (img *Image) skippable(present map[string]bool) map[string]bool {
	skip := map[string]bool{}
	need := map[string]bool{}
	for i, chain := range chainIDs(img.diffIDs) {
		if present[chain] {
			skip[img.layers[i]] = true
		} else {
			need[img.layers[i]] = true
		}
	}
	for p := range need { // one file may serve two positions
		delete(skip, p)
	}
	return skip
}

// writeArchive copies the saved archive without the skipped layer files.
func (img *Image) writeArchive(w io.Writer, skip map[string]bool) error {
	f, err := os.Open(img.file)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	tw := tar.NewWriter(w)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return tw.Close()
		}
		if err != nil {
			return err
		}
		if skip[h.Name] {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

// lookUp asks the host which of img's layers it has, and whether its
// engine keeps images in containerd, whose load needs every layer. The
// image tagged latest in img's repository answers both in one round trip:
// the version the host serves (ship tags it after each deploy, as Kamal
// does), which shares all but the top layers of a code-only change, and
// whose overlay2 directories only the classic store reports. Only when it
// cannot tell does `docker info` say which store it is: that runs runc
// and docker-init on the host on every call.
func lookUp(ctx context.Context, remote client.APIClient, img *Image) (present map[string]bool, full bool, err error) {
	var latest *image.InspectResponse
	if info, err := remote.ImageInspect(ctx, repository(img.Ref)+":latest"); err == nil {
		latest = &info
	}
	if latest != nil && classicStore(latest.GraphDriver) {
		present, err = presentChains(ctx, remote, img, latest)
		return present, false, err
	}
	var (
		wg      sync.WaitGroup
		infoErr error
	)
	wg.Go(func() { full, infoErr = containerdStore(ctx, remote) })
	present, err = presentChains(ctx, remote, img, latest)
	wg.Wait()
	return present, full, errors.Join(infoErr, err)
}

// classicStore tells whether an image's inspection comes from the classic
// image store: its graph driver gives the layers' directories, where the
// containerd store names its snapshotter and gives none.
func classicStore(gd dockerstorage.DriverData) bool {
	return len(gd.Data) > 0
}

// presentChains lists the layer chains the host's images hold, of those
// img is made of. Top-level images are enough: an intermediate image's
// chains are all in the image built on it. latest, the host's image
// tagged latest in img's repository if it has one, comes first: it
// shares all but the top layers of a code-only change, so mostly no
// listing of the host's images follows (20 ms with 200 of them). Else it
// lists them and inspects, a few at a time, the newest of img's
// repository, then the repository's others, then the rest, until every
// layer below the top shows. A top layer it then misses is one the host
// has only under another image: sent again, which the load skips.
func presentChains(ctx context.Context, remote client.APIClient, img *Image, latest *image.InspectResponse) (map[string]bool, error) {
	want := chainIDs(img.diffIDs)
	present := map[string]bool{}
	below := want[:max(len(want)-1, 0)]
	enough := func() bool {
		return len(below) > 0 && !slices.ContainsFunc(below, func(c string) bool { return !present[c] })
	}
	repo := repository(img.Ref)
	if latest != nil {
		addChains(present, latest.RootFS.Layers)
		if enough() {
			return present, nil
		}
	}
	list, err := remote.ImageList(ctx, image.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list images on the host: %w", err)
	}
	if slices.ContainsFunc(list, func(s image.Summary) bool { return s.ID == img.ID }) {
		for _, c := range want {
			present[c] = true // there under another name
		}
		return present, nil
	}
	ours := func(s image.Summary) bool {
		return slices.ContainsFunc(s.RepoTags, func(t string) bool { return repository(t) == repo })
	}
	mine, others := partition(list, ours)
	slices.SortStableFunc(mine, func(a, b image.Summary) int { return cmp.Compare(b.Created, a.Created) })
	newest := min(1, len(mine))
	for _, batch := range [][]image.Summary{mine[:newest], mine[newest:], others} {
		if enough() {
			break
		}
		inspectChains(ctx, remote, batch, present)
	}
	return present, ctx.Err()
}

// addChains adds the chains of an image made of layers to present.
func addChains(present map[string]bool, layers []string) {
	for _, c := range chainIDs(layers) {
		present[c] = true
	}
}

// partition splits list into the images f holds for and the rest.
func partition(list []image.Summary, f func(image.Summary) bool) (yes, no []image.Summary) {
	for _, s := range list {
		if f(s) {
			yes = append(yes, s)
		} else {
			no = append(no, s)
		}
	}
	return yes, no
}

// inspectChains adds the chains of each image in list to present,
// inspecting a few at a time.
func inspectChains(ctx context.Context, remote client.APIClient, list []image.Summary, present map[string]bool) {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		slots = make(chan struct{}, inspectsAtOnce)
	)
	for _, s := range list {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			info, err := remote.ImageInspect(ctx, s.ID)
			if err != nil {
				return // removed meanwhile
			}
			mu.Lock()
			defer mu.Unlock()
			addChains(present, info.RootFS.Layers)
		}()
	}
	wg.Wait()
}

// repository is an image reference without its tag or digest.
func repository(ref string) string {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// inspectsAtOnce bounds presentChains' concurrent requests.
const inspectsAtOnce = 8

// chainIDs are the layer store's keys: the first layer's diffID, then
// sha256 of "PARENT_CHAIN DIFFID" for each layer above.
func chainIDs(diffIDs []string) []string {
	out := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		sum := sha256.Sum256([]byte(out[i-1] + " " + d))
		out[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}

// containerdStore reports whether the host's engine keeps images in
// containerd, whose load needs every blob.
func containerdStore(ctx context.Context, remote client.APIClient) (bool, error) {
	info, err := remote.Info(ctx)
	if err != nil {
		return false, fmt.Errorf("docker info: %w", err)
	}
	return isContainerd(info.DriverStatus), nil
}

// isContainerd reads `docker info`'s DriverStatus: the containerd image
// store reports driver-type io.containerd.snapshotter.v1.
func isContainerd(status [][2]string) bool {
	for _, kv := range status {
		if kv[0] == "driver-type" && strings.Contains(kv[1], "containerd") {
			return true
		}
	}
	return false
}

func uniq(paths []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// bodyChunk is the most a load's body hands the HTTP client per read,
// and so the size of each chunk of its chunked request: with the chunk's
// framing ("7ff8\r\n", "\r\n") it fills one SSH packet exactly (OpenSSH's
// 32 KB for a forwarded socket), which the engine client writes at once
// (engine.New). The engine does not read while it starts its untar
// helper, and every packet that reaches sshd meanwhile grows sshd's
// buffer for the socket by a copy of all the buffer holds, costly in the
// fresh sshd of each ship run: full packets are a third as many as the
// pipe's uneven reads made.
const bodyChunk = 32<<10 - 8

// counter reads the archive in full chunks (bodyChunk) and counts them.
type counter struct {
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := io.ReadFull(c.r, p[:min(len(p), bodyChunk)])
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil // the last chunk; EOF on the next read
	}
	c.n += int64(n)
	c.progress(c.n)
	return n, err
}
