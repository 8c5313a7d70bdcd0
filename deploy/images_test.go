package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/delivery"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
)

// goneImages is the fake engine after a prune took the version's tag
// while the deploy waited for the queue.
type goneImages struct{ *fakeDocker }

func (g goneImages) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.record("ImageInspect", ref)
	return image.InspectResponse{}, errdefs.NotFound(errors.New("no such image: " + ref))
}

// earlyImages is an Images whose deliveries to hosts have ended as given,
// as SendImages leaves them once they are done.
func earlyImages(t *testing.T, out *bytes.Buffer, ended map[*host.Host]*delivered) *Images {
	t.Helper()
	im := newImages(Request{Config: swapConfig(t), Version: "v2", Out: fleet.NewOutput(out)})
	for h, d := range ended {
		d.host, d.done = h, make(chan struct{})
		close(d.done)
		im.sent[h.Name] = d
	}
	return im
}

func TestImagesEnsureTakesOverTheEarlyDelivery(t *testing.T) {
	d := newFakeDocker()
	h := &host.Host{Name: swapHost, Docker: d}
	var out bytes.Buffer
	im := earlyImages(t, &out, map[*host.Host]*delivered{h: {loaded: true}})
	if err := im.ensure(context.Background(), h, &out); err != nil {
		t.Fatal(err)
	}
	// Only the check that the image is still there: nothing sent again.
	if len(d.calls) != 1 || d.count("ImageInspect") != 1 {
		t.Errorf("engine calls:\n%s", d.log())
	}
	im.Close()
	if n := d.count("ImageRemove"); n != 0 {
		t.Errorf("Close removed the image a swap took over (%d removals)", n)
	}
}

// A delivery that ends while step 1 waits for it ended under the queue
// this deploy holds, which whatever removes images needs: no check.
func TestImagesEnsureTrustsADeliveryThatEndsUnderTheQueue(t *testing.T) {
	d := goneImages{newFakeDocker()} // a check would find it gone
	h := &host.Host{Name: swapHost, Docker: d}
	var out bytes.Buffer
	im := newImages(Request{Config: swapConfig(t), Version: "v2", Out: fleet.NewOutput(&out)})
	early := &delivered{host: h, done: make(chan struct{}), loaded: true}
	im.sent[h.Name] = early
	ensured := make(chan error)
	go func() { ensured <- im.ensure(context.Background(), h, &out) }()
	for !early.claimed.Load() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // step 1 waits
	close(early.done)
	if err := <-ensured; err != nil {
		t.Fatal(err)
	}
	if len(d.calls) != 0 {
		t.Errorf("engine calls after a delivery that ended under the queue:\n%s", d.log())
	}
}

// An image removed after its early delivery ended (a prune admitted
// meanwhile), or between its load and the load's check (the delivery
// failed with delivery.ErrRemoved): step 1 sends it again.
func TestImagesEnsureSendsAgainAnImageRemoved(t *testing.T) {
	for name, early := range map[string]*delivered{
		"meanwhile":     {loaded: true},
		"as it arrived": {err: fmt.Errorf("after loading, acme/shop:v2 is not on the host: %w", delivery.ErrRemoved)},
	} {
		t.Run(name, func(t *testing.T) {
			d := goneImages{newFakeDocker()}
			h := &host.Host{Name: swapHost, Docker: d}
			var out bytes.Buffer
			im := earlyImages(t, &out, map[*host.Host]*delivered{h: early})
			err := im.ensure(context.Background(), h, &out)
			if !strings.Contains(out.String(), "was removed while the deploy waited for the queue: sending it again") {
				t.Errorf("no word of the image sent again:\n%s", out.String())
			}
			// No local engine here: the second attempt says the image is nowhere.
			if err == nil || !strings.Contains(err.Error(), "neither on the host nor in the local Docker Engine") {
				t.Errorf("ensure: %v", err)
			}
		})
	}
}

func TestImagesEnsureReportsTheEarlyDeliverysError(t *testing.T) {
	d := newFakeDocker()
	h := &host.Host{Name: swapHost, Docker: d}
	var out bytes.Buffer
	failed := errors.New("load acme/shop:v2 on the host: no space left on device")
	im := earlyImages(t, &out, map[*host.Host]*delivered{h: {err: failed}})
	if err := im.ensure(context.Background(), h, &out); !errors.Is(err, failed) {
		t.Errorf("ensure: %v, want %v", err, failed)
	}
	if n := len(d.calls); n != 0 {
		t.Errorf("ensure called the engine after the delivery failed:\n%s", d.log())
	}
}

func TestImagesCloseRemovesOnlyWhatItSentAndNoSwapTookOver(t *testing.T) {
	sent, found, claimed := newFakeDocker(), newFakeDocker(), newFakeDocker()
	hosts := map[string]*host.Host{}
	for name, d := range map[string]*fakeDocker{"sent": sent, "found": found, "claimed": claimed} {
		hosts[name] = &host.Host{Name: name, Docker: d}
	}
	var out bytes.Buffer
	c := &delivered{loaded: true}
	c.claimed.Store(true)
	im := earlyImages(t, &out, map[*host.Host]*delivered{
		hosts["sent"]:    {loaded: true},  // sent, and the deploy never ran there
		hosts["found"]:   {loaded: false}, // on the host before: not this deploy's
		hosts["claimed"]: c,               // the swap took it over
	})
	im.Close()
	if len(sent.calls) != 1 || sent.index(0, "ImageRemove", "acme/shop:v2") != 0 {
		t.Errorf("the image sent and never used: engine calls:\n%s", sent.log())
	}
	if !strings.Contains(out.String(), "[sent] removed image acme/shop:v2 again: this deploy sent it, and never ran it") {
		t.Errorf("output:\n%s", out.String())
	}
	if len(found.calls)+len(claimed.calls) != 0 {
		t.Errorf("Close touched an image it did not send or a swap took over:\nfound: %s\nclaimed: %s", found.log(), claimed.log())
	}
}
