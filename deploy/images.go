package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/delivery"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
)

// Images is a deploy's image on its way to each of its hosts. SendImages
// starts the deliveries while the deploy still waits for the queue; step 1
// of the swap takes each host's over.
type Images struct {
	local  *localImage
	config *config.Config
	ref    string
	out    *fleet.Output
	stop   context.CancelFunc
	sent   map[string]*delivered // by host; none for a host not started early
	wg     sync.WaitGroup
}

// delivered is one host's early delivery.
type delivered struct {
	host    *host.Host
	done    chan struct{} // closed when it ended
	loaded  bool          // it put the image there
	err     error
	claimed atomic.Bool // step 1 took it over
}

// SendImages starts putting the request's version on each of its hosts,
// at most maxDeliveries at once, before the deploy queue admits the
// deploy: the transfer then overlaps the queue's wait and the repair
// check instead of following them. A load only adds an image, which no
// container uses yet and no admitted step needs gone, so it needs no
// admission (ship build pull never had one); what could remove it
// meanwhile (a prune of an older container of the same version, ship app
// remove) holds the queue, and step 1 checks under the queue that the
// image is still there. Close stops what is still on its way, and takes
// back an image that no swap took over.
func SendImages(ctx context.Context, req Request) *Images {
	im := newImages(req)
	if req.Rollback || req.Local == nil {
		return im
	}
	ctx, im.stop = context.WithCancel(ctx)
	slots := make(chan struct{}, maxDeliveries)
	hosts, _ := byHost(req.Units)
	for _, name := range hosts {
		h := req.Hosts[name]
		if h == nil {
			continue
		}
		d := &delivered{host: h, done: make(chan struct{})}
		im.sent[name] = d
		im.wg.Go(func() {
			defer close(d.done)
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-ctx.Done():
				d.err = ctx.Err()
				return
			}
			out := req.Out.Prefixed("[" + name + "] ")
			defer out.Close()
			d.loaded, d.err = ensureImage(ctx, h, im.local, im.config, im.ref, out)
		})
	}
	return im
}

func newImages(req Request) *Images {
	return &Images{
		local:  &localImage{engine: req.Local, terminal: req.Terminal},
		config: req.Config,
		ref:    spec.ImageRef(req.Config, req.Version),
		out:    req.Out,
		sent:   map[string]*delivered{},
	}
}

// ensure is step 1 on host h: the image is there. It waits for the host's
// early delivery, if one started, and checks its image was not removed
// since, if it ended before the deploy was admitted; otherwise, or if it
// was (or went as it arrived: delivery.ErrRemoved), it sends the image
// now.
func (im *Images) ensure(ctx context.Context, h *host.Host, out io.Writer) error {
	if d := im.sent[h.Name]; d != nil {
		d.claimed.Store(true)
		endedBefore := true
		select {
		case <-d.done:
		default:
			endedBefore = false
			select {
			case <-d.done:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		switch {
		case errors.Is(d.err, delivery.ErrRemoved): // as it arrived
		case d.err != nil || !endedBefore:
			// One that ended while this deploy held the queue needs no
			// check: whatever removes images holds the queue too.
			return d.err
		default:
			there, err := im.there(ctx, h)
			if err != nil || there {
				return err
			}
		}
		fmt.Fprintf(out, "image %s was removed while the deploy waited for the queue: sending it again\n", im.ref)
	}
	_, err := ensureImage(ctx, h, im.local, im.config, im.ref, out)
	return err
}

// there tells whether the host still has the image the early delivery
// left: the local engine's, when it has one.
func (im *Images) there(ctx context.Context, h *host.Host) (bool, error) {
	remote, err := h.Docker.ImageInspect(ctx, im.ref)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspect image %s: %w", im.ref, err)
	}
	if img, err := im.local.open(ctx, im.ref); err == nil && img.ID != remote.ID {
		return false, nil
	}
	return true, nil
}

// Close stops the deliveries still on their way, waits for them, and
// lets go of the local image. An image an early delivery put on a host
// whose swap never took it over (the deploy was superseded, timed out in
// the queue, or failed before step 1 there) is removed again: no prune
// would ever remove an image no container of the app used. One that a
// container uses meanwhile stays.
func (im *Images) Close() {
	if im.stop != nil {
		im.stop()
	}
	im.wg.Wait()
	im.local.close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for name, d := range im.sent {
		if !d.loaded || d.claimed.Load() {
			continue
		}
		out := im.out.Prefixed("[" + name + "] ")
		_, err := d.host.Docker.ImageRemove(ctx, im.ref, image.RemoveOptions{PruneChildren: true})
		switch {
		case err == nil:
			fmt.Fprintf(out, "removed image %s again: this deploy sent it, and never ran it\n", im.ref)
		case !errdefs.IsConflict(err) && !errdefs.IsNotFound(err):
			fmt.Fprintf(out, "remove image %s, which this deploy sent and never ran: %v\n", im.ref, err)
		}
		out.Close()
	}
}
