package testapp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
)

// Event is an engine event of one of the watched service's containers.
type Event struct {
	Time   time.Time // the engine's clock
	ID     string    // container ID
	Name   string    // container name
	Role   string    // the container's role label, if any
	Action string    // "create", "start", "kill", "die", "stop", "destroy", ...
}

func (e Event) String() string {
	return fmt.Sprintf("%s %s %s", e.Time.Format("15:04:05.000000"), e.Action, e.Name)
}

// Watcher follows the containers of one service, labelled service=NAME as
// Kamal and ship label them, through an engine's event stream. It is safe
// for concurrent use.
type Watcher struct {
	t       testing.TB
	cli     *client.Client
	host    string
	service string
	cancel  context.CancelFunc
	done    chan struct{} // closed when the stream has ended

	mu      sync.Mutex
	events  []Event
	listed  map[string]string        // container ID → role, running when Watch listed them
	marks   map[string]chan struct{} // sync volume name → closed when its create event arrives
	arrived chan struct{}            // closed and replaced when an event arrives
	err     error                    // why the stream ended
}

// Watch starts following the service's containers on the engine at
// dockerHost. Start it before the action under test.
//
// The stream starts at the engine's current time and the running containers
// are listed after that, so none is missed. The event stream stays in the
// engine's order, and counting follows that order, not wall time.
func Watch(t testing.TB, dockerHost, service string) *Watcher {
	t.Helper()
	cli := dockerClient(t, dockerHost)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := cli.Info(ctx)
	if err != nil {
		t.Fatalf("testapp: watch %s on %s: %v", service, dockerHost, err)
	}
	since, err := time.Parse(time.RFC3339Nano, info.SystemTime)
	if err != nil {
		t.Fatalf("testapp: watch %s on %s: engine time: %v", service, dockerHost, err)
	}

	streamCtx, stop := context.WithCancel(context.Background())
	w := &Watcher{
		t: t, cli: cli, host: dockerHost, service: service, cancel: stop,
		done:    make(chan struct{}),
		listed:  map[string]string{},
		marks:   map[string]chan struct{}{},
		arrived: make(chan struct{}),
	}
	// Labels are filtered here rather than by the engine: the stream also
	// carries the volume events that sync uses as markers.
	msgs, errs := cli.Events(streamCtx, events.ListOptions{
		Since: fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()),
		Filters: filters.NewArgs(
			filters.Arg("type", string(events.ContainerEventType)),
			filters.Arg("type", string(events.VolumeEventType)),
		),
	})
	go w.read(msgs, errs)
	t.Cleanup(w.close)

	running, err := cli.ContainerList(ctx, container.ListOptions{
		Filters: filters.NewArgs(filters.Arg("label", "service="+service)),
	})
	if err != nil {
		t.Fatalf("testapp: watch %s on %s: list containers: %v", service, dockerHost, err)
	}
	w.mu.Lock()
	for _, c := range running {
		w.listed[c.ID] = c.Labels["role"]
	}
	w.mu.Unlock()
	return w
}

func (w *Watcher) close() {
	w.cancel()
	<-w.done
}

func (w *Watcher) read(msgs <-chan events.Message, errs <-chan error) {
	defer close(w.done)
	for {
		select {
		case m := <-msgs:
			w.record(m)
		case err := <-errs:
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			return
		}
	}
}

func (w *Watcher) record(m events.Message) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch m.Type {
	case events.VolumeEventType:
		if ch, ok := w.marks[m.Actor.ID]; ok && m.Action == events.ActionCreate {
			close(ch)
			delete(w.marks, m.Actor.ID)
		}
	case events.ContainerEventType:
		// A container's labels come as attributes of its events.
		attrs := m.Actor.Attributes
		if attrs["service"] != w.service {
			return
		}
		w.events = append(w.events, Event{
			Time:   time.Unix(0, m.TimeNano),
			ID:     m.Actor.ID,
			Name:   attrs["name"],
			Role:   attrs["role"],
			Action: string(m.Action),
		})
		close(w.arrived)
		w.arrived = make(chan struct{})
	}
}

// Events returns the service's container events so far, including all that
// the engine emitted before the call.
func (w *Watcher) Events() []Event {
	w.t.Helper()
	w.catchUp()
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.events)
}

// MaxRunning returns the largest number of the service's containers running
// at the same instant since Watch, per the event stream, counting those
// already running when it began.
func (w *Watcher) MaxRunning() int {
	w.t.Helper()
	return w.maxRunning(func(string) bool { return true })
}

// MaxRunningRole is MaxRunning for the containers labelled role=ROLE.
func (w *Watcher) MaxRunningRole(role string) int {
	w.t.Helper()
	return w.maxRunning(func(r string) bool { return r == role })
}

func (w *Watcher) maxRunning(match func(role string) bool) int {
	w.t.Helper()
	w.catchUp()
	w.mu.Lock()
	defer w.mu.Unlock()

	// A container was running when the stream began if the first change
	// seen is it stopping, or if it was listed then and has not changed.
	first := map[string]Event{}
	for _, e := range w.events {
		if _, ok := first[e.ID]; !ok && (e.Action == "start" || stops(e.Action)) {
			first[e.ID] = e
		}
	}
	running := map[string]bool{}
	for id, e := range first {
		if stops(e.Action) && match(e.Role) {
			running[id] = true
		}
	}
	for id, role := range w.listed {
		if _, changed := first[id]; !changed && match(role) {
			running[id] = true
		}
	}

	most := len(running)
	for _, e := range w.events {
		if !match(e.Role) {
			continue
		}
		switch {
		case e.Action == "start":
			running[e.ID] = true
		case stops(e.Action), e.Action == "destroy":
			delete(running, e.ID)
		}
		most = max(most, len(running))
	}
	return most
}

// stops reports whether action means the container is no longer running.
// The engine sends "stop" once the container has exited, possibly before
// the "die" it sends from another goroutine, so either one ends a run.
func stops(action string) bool {
	return action == "die" || action == "stop"
}

// Wait returns the first event since Watch that matches fn, waiting up to
// timeout for it to arrive; ok is false if none did.
func (w *Watcher) Wait(fn func(Event) bool, timeout time.Duration) (e Event, ok bool) {
	w.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for seen := 0; ; {
		w.mu.Lock()
		// Elements below len are never written again, so the slice can be
		// read, and fn run, without the lock.
		events, arrived := w.events[seen:], w.arrived
		w.mu.Unlock()
		for _, e := range events {
			if fn(e) {
				return e, true
			}
		}
		seen += len(events)
		select {
		case <-arrived:
		case <-deadline.C:
			return Event{}, false
		case <-w.done:
			w.t.Errorf("testapp: watch %s on %s: event stream ended: %v", w.service, w.host, w.streamErr())
			return Event{}, false
		}
	}
}

func (w *Watcher) streamErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// catchUp waits until the watcher has received every event the engine
// emitted before the call, failing the test if it cannot.
func (w *Watcher) catchUp() {
	w.t.Helper()
	if err := w.sync(); err != nil {
		w.t.Errorf("testapp: watch %s on %s: %v", w.service, w.host, err)
	}
}

// sync creates and removes a volume, and waits for its create event: the
// stream is in the engine's order, so every event before it has arrived.
func (w *Watcher) sync() (err error) {
	name := "testapp-sync-" + strings.ToLower(rand.Text())
	arrived := make(chan struct{})
	w.mu.Lock()
	w.marks[name] = arrived
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.marks, name)
		w.mu.Unlock()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := w.cli.VolumeCreate(ctx, volume.CreateOptions{Name: name}); err != nil {
		return fmt.Errorf("create marker volume: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if rerr := w.cli.VolumeRemove(ctx, name, true); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove marker volume: %w", rerr))
		}
	}()
	select {
	case <-arrived:
		return nil
	case <-w.done:
		return fmt.Errorf("event stream ended: %w", w.streamErr())
	case <-ctx.Done():
		return fmt.Errorf("no event for marker volume %s: %w", name, ctx.Err())
	}
}
