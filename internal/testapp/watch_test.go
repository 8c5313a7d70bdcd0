package testapp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testhost"
)

func TestWatcher(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	id := Image(t, h1.DockerHost, unique("image")+":v1", ImageOptions{})
	cli := dockerClient(t, h1.DockerHost)
	service := unique("svc")
	a := createApp(t, cli, id, map[string]string{"service": service, "role": "web"}, false)
	b := createApp(t, cli, id, map[string]string{"service": service, "role": "job"}, false)
	other := createApp(t, cli, id, map[string]string{"service": unique("other")}, false)

	w := Watch(t, h1.DockerHost, service)
	other.start() // another service's container does not count
	a.start()
	a.stop()
	b.start()
	b.stop()
	if got := w.MaxRunning(); got != 1 {
		t.Errorf("one after the other: MaxRunning() = %d, want 1; events:\n%s", got, lines(w.Events()))
	}
	if e, ok := w.Wait(func(e Event) bool { return e.ID == b.ID && e.Action == "start" }, time.Second); !ok || e.Role != "job" {
		t.Errorf("Wait for b's start = %v, %v; want it, with role job", e, ok)
	}

	a.start()
	b.start()
	if got := w.MaxRunning(); got != 2 {
		t.Errorf("both at once: MaxRunning() = %d, want 2; events:\n%s", got, lines(w.Events()))
	}
	if got := w.MaxRunningRole("web"); got != 1 {
		t.Errorf("MaxRunningRole(web) = %d, want 1", got)
	}
	if _, ok := w.Wait(func(e Event) bool { return e.Action == "destroy" }, 100*time.Millisecond); ok {
		t.Error("Wait found a destroy event that never happened")
	}
}

// TestWatcherCountsRunning starts a watch while a container runs: it is
// counted until its stop is seen.
func TestWatcherCountsRunning(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	id := Image(t, h1.DockerHost, unique("image")+":v1", ImageOptions{})
	cli := dockerClient(t, h1.DockerHost)
	service := unique("svc")
	a := createApp(t, cli, id, map[string]string{"service": service}, false)
	b := createApp(t, cli, id, map[string]string{"service": service}, false)

	a.start()
	swap := Watch(t, h1.DockerHost, service)
	a.stop()
	b.start()
	if got := swap.MaxRunning(); got != 1 {
		t.Errorf("stop then start: MaxRunning() = %d, want 1; events:\n%s", got, lines(swap.Events()))
	}

	overlap := Watch(t, h1.DockerHost, service) // b runs
	a.start()
	b.stop()
	if got := overlap.MaxRunning(); got != 2 {
		t.Errorf("start then stop: MaxRunning() = %d, want 2; events:\n%s", got, lines(overlap.Events()))
	}
}

// lines formats events one a line, for failure messages.
func lines(events []Event) string {
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintln(&b, e)
	}
	return b.String()
}
