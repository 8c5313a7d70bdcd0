// Package queue serializes the mutating commands of one service on its
// primary host: FIFO, crash-safe, and coalescing bursts of deploys, so no
// two ship processes ever change a service's containers at once and nobody
// ever has to release a stale lock by hand.
package queue

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shipdeploy/ship/ssh"
)

var (
	//go:embed holder.sh
	holderScript string
	//go:embed list.sh
	listScript string
	//go:embed freeze.sh
	freezeScript string
	//go:embed unfreeze.sh
	unfreezeScript string
)

// Ticket is one request in the queue, shown to everyone waiting.
type Ticket struct {
	ID        string    `json:"-"` // set by the host: its clock orders the queue
	Performer string    `json:"performer"`
	Command   string    `json:"command"`
	Version   string    `json:"version,omitempty"`
	Since     time.Time `json:"since"`
	From      string    `json:"from"`
	// Coalesce marks a deploy that a newer waiting deploy may supersede.
	// Rollbacks, manual operations, --no-coalesce and re-runs never set
	// it.
	Coalesce bool `json:"coalesce,omitempty"`
	// Order places a deploy among its source's deploys; zero for other
	// commands and for deploys without a source.
	Order Order `json:"order,omitzero"`
}

func (t Ticket) String() string {
	s := t.Command
	if t.Version != "" {
		s += " " + t.Version
	}
	place := ""
	if o := t.Order.String(); o != "" {
		place = o + "; "
	}
	return fmt.Sprintf("%s (%srequested by %s at %s from %s)", s, place, t.Performer, t.Since.Local().Format("15:04:05"), t.From)
}

// Dir is the queue of a service (config.ServiceAndDestination), under the
// login user's home on the primary host.
func Dir(name string) string {
	return path.Join(".ship", "queue", name)
}

// Options tune waiting.
type Options struct {
	Lease   time.Duration // a holder that stops heartbeating loses the lock after this; default 5s
	Timeout time.Duration // how long to wait for the queue; default 30m
	Poll    time.Duration // default 250ms
	// Progress is told the state of the queue whenever it changes.
	Progress func(State)
}

func (o Options) withDefaults() Options {
	if o.Lease <= 0 {
		o.Lease = 5 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	return o
}

// SupersededError means a newer deploy does this one's work: one waiting
// in the queue, or, when Deployed, one already done.
type SupersededError struct {
	By Ticket
	// Reason says why By is newer, for people: "v63 (run 63) is newer".
	Reason string
	// Deployed is set when By has already been deployed, so this older
	// deploy would have taken production backwards.
	Deployed bool
}

func (e *SupersededError) Error() string {
	s := "superseded by " + e.By.String()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Held is the queue, held. Release it when done.
type Held struct {
	Ticket Ticket
	h      *holder
}

// Context is ctx, cancelled if the lock is lost (heartbeats failed), so a
// deployer that lost its place stops instead of racing the next one.
func (h *Held) Context(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(h.h.lostCtx, func() { cancel(errors.New("lost the deploy queue: the primary host stopped answering")) })
	return ctx, func() { stop(); cancel(nil) }
}

// Release gives up the queue.
func (h *Held) Release() { h.h.close() }

// Join enters the queue of dir on the primary host and waits, in arrival
// order, until it holds it. A coalescing deploy returns *SupersededError
// instead, at once, when the queue holds a newer deploy from its source,
// as far as the tickets alone can tell (State.supersederOf): commits that
// only git can order are left to the deployer, once it holds the queue.
func Join(ctx context.Context, r ssh.Runner, dir string, t Ticket, opts Options) (*Held, error) {
	opts = opts.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	h, err := startHolder(ctx, r, dir, t, opts.Lease)
	if err != nil {
		return nil, err
	}
	t.ID = h.id
	var last string // the queue as last read
	for {
		st, err := listFor(ctx, r, dir, t.ID)
		if err != nil {
			h.close()
			// The timeout may end a read midway: then the timeout is the
			// news, not how the read ended.
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, timedOut(opts.Timeout, last)
			}
			return nil, err
		}
		st.Me = slices.IndexFunc(st.Tickets, func(x Ticket) bool { return x.ID == t.ID })
		if s := st.summary(); s != last {
			last = s
			if opts.Progress != nil {
				opts.Progress(st)
			}
		}
		// A deploy with a newer deploy in the queue leaves at once,
		// wherever it waits: the newer one runs anyway, and a burst then
		// drains in one poll instead of one poll per request.
		if t.Coalesce && st.Me >= 0 {
			if newer, why := st.supersederOf(st.Me); newer != nil {
				h.close()
				return nil, &SupersededError{By: *newer, Reason: why}
			}
		}
		if st.Me == 0 && st.Freeze == nil {
			locked, err := h.lock()
			if err != nil {
				h.close()
				return nil, err
			}
			if locked {
				return &Held{Ticket: t, h: h}, nil
			}
		}
		select {
		case <-ctx.Done():
			h.close()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, timedOut(opts.Timeout, last)
			}
			return nil, ctx.Err()
		case <-h.lostCtx.Done():
			h.close()
			return nil, errors.New("lost the connection to the primary host while waiting in the deploy queue")
		case <-time.After(opts.Poll):
		}
	}
}

func timedOut(timeout time.Duration, state string) error {
	return fmt.Errorf("gave up waiting for the deploy queue after %s (--queue-timeout): %s", timeout, state)
}

// holder is the holder script's session on the primary host.
type holder struct {
	id      string
	stdin   *io.PipeWriter
	lines   chan string
	mu      sync.Mutex // one request and its reply at a time
	lostCtx context.Context
	lost    context.CancelFunc
	done    chan struct{}
}

func startHolder(ctx context.Context, r ssh.Runner, dir string, t Ticket, lease time.Duration) (*holder, error) {
	ticket, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	h := &holder{stdin: inW, lines: make(chan string, 16), done: make(chan struct{})}
	h.lostCtx, h.lost = context.WithCancel(context.Background())
	// In fractions of a second, as bash's read -t takes them: whole seconds
	// cut 1.9s to 1s, and 0.5s to 0, which read -t does not wait for.
	secs := strconv.FormatFloat(lease.Seconds(), 'f', -1, 64)
	go func() {
		// Not ctx: the session must outlive Join's wait while the lock is held.
		cmd := ssh.NamedScript("ship-queue", holderScript, dir, secs)
		cmd.Stdin, cmd.Stdout = inR, outW
		err := r.Run(context.WithoutCancel(ctx), cmd)
		// Writes to an ended session fail rather than wait forever for a
		// reader: a Run that never started (no connection to the primary
		// host) reads nothing, and the ticket's write would hang Join.
		if err == nil {
			err = errors.New("the queue's holder on the primary host ended")
		}
		inR.CloseWithError(err)
		outW.Close()
		close(h.done)
		h.lost()
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	if _, err := fmt.Fprintf(inW, "%s\n", ticket); err != nil {
		return nil, fmt.Errorf("join the deploy queue: %w", err)
	}
	ready, err := h.reply(ctx, lease*2)
	if err != nil || !strings.HasPrefix(ready, "READY ") {
		h.close()
		return nil, fmt.Errorf("join the deploy queue on the primary host (needs bash and flock there): %v %q", err, ready)
	}
	h.id = strings.TrimPrefix(ready, "READY ")
	go h.heartbeat(lease)
	return h, nil
}

// heartbeat keeps the holder alive, and notices when the primary host stops
// answering: then the lease has expired there, or soon will.
func (h *holder) heartbeat(lease time.Duration) {
	t := time.NewTicker(lease / 5)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
			if _, err := h.request("hb", lease/2); err != nil {
				h.lost()
				return
			}
		}
	}
}

func (h *holder) lock() (bool, error) {
	reply, err := h.request("lock", 10*time.Second)
	if err != nil {
		return false, fmt.Errorf("deploy queue: %w", err)
	}
	return reply == "LOCKED", nil
}

func (h *holder) request(cmd string, timeout time.Duration) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := fmt.Fprintln(h.stdin, cmd); err != nil {
		return "", err
	}
	return h.reply(context.Background(), timeout)
}

func (h *holder) reply(ctx context.Context, timeout time.Duration) (string, error) {
	select {
	case line, ok := <-h.lines:
		if !ok {
			return "", errors.New("the queue's holder on the primary host ended")
		}
		return line, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("no answer from the primary host within %s", timeout)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// close ends the holder: its locks go with it.
func (h *holder) close() {
	h.stdin.Close()
	select {
	case <-h.done:
	case <-time.After(5 * time.Second):
	}
	h.lost()
}
