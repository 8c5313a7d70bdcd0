// Command queue measures the deploy queue on a real primary host over real
// SSH: what it adds to one deploy, and the wall time of 11 deploy requests
// that arrive at once, with coalescing and without.
//
//	go run ./bench/queue
//
// It brings up the test hosts (as root, like make test) and uses h1 as the
// primary host. Each request has an SSH connection of its own, as each ship
// process does; the queue lives in a fresh directory, removed afterwards.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/ssh"
)

const (
	requests = 11
	work     = time.Second // how long each deploy holds the queue
	samples  = 20          // uncontended joins, for the median
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "bench/queue: %v\n", err)
		os.Exit(1)
	}
}

// result is one row of the table.
type result struct {
	scenario        string
	requests        int
	ran, superseded int
	wall            time.Duration
}

func run(ctx context.Context) error {
	h1, _, err := testhost.Up(ctx)
	if err != nil {
		return fmt.Errorf("test hosts: %w", err)
	}
	cfg := ssh.Config{User: h1.User, Keys: []string{h1.KeyPath}, KeysOnly: true, KnownHosts: []string{h1.KnownHostsPath}}
	var conns []*ssh.Conn
	for range requests {
		pool := ssh.NewPool(cfg)
		defer pool.Close()
		conn := pool.Conn(h1.Addr)
		// Connected before any clock starts: ship has its connection to the
		// primary host before it joins the queue.
		if _, err := conn.Client(ctx); err != nil {
			return err
		}
		conns = append(conns, conn)
	}
	dir := queue.Dir("bench-" + rand.Text()[:8])
	defer func() {
		// Not ctx: clean up after an interrupt too.
		cleanup := ssh.Cmd{Args: []string{"sh", "-c", `rm -rf "$HOME/$1"`, "sh", dir}}
		if err := conns[0].Run(context.WithoutCancel(ctx), cleanup); err != nil {
			fmt.Fprintf(os.Stderr, "bench/queue: remove %s on %s: %v\n", dir, h1.Addr, err)
		}
	}()

	fmt.Printf("deploy queue on %s (%s), %d requests, each deploy holding the queue for %s\n\n", h1.Name, h1.Addr, requests, work)
	var results []result
	r, err := uncontended(ctx, conns[0], dir)
	if err != nil {
		return err
	}
	results = append(results, r)
	for _, coalesce := range []bool{true, false} {
		r, err := burst(ctx, conns, dir, coalesce)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "scenario\trequests\tran\tsuperseded\twall time")
	for _, r := range results {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\n", r.scenario, r.requests, r.ran, r.superseded, r.wall.Round(time.Millisecond))
	}
	return w.Flush()
}

func ticket(i int, coalesce bool) queue.Ticket {
	return queue.Ticket{Performer: "bench", Command: "deploy", Version: fmt.Sprint("v", i), Since: time.Now(), From: "bench", Coalesce: coalesce}
}

var opts = queue.Options{Timeout: 2 * time.Minute}

// uncontended is the queue's cost to a deploy that finds it free: the
// median of Join and Release.
func uncontended(ctx context.Context, conn *ssh.Conn, dir string) (result, error) {
	var times []time.Duration
	for i := range samples {
		start := time.Now()
		held, err := queue.Join(ctx, conn, dir, ticket(i, true), opts)
		if err != nil {
			return result{}, err
		}
		held.Release()
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	return result{
		scenario: fmt.Sprintf("one deploy, queue free: join+release (median of %d)", samples),
		requests: 1, ran: 1, wall: times[samples/2],
	}, nil
}

// burst sends one deploy request per connection at once, and waits until
// every one has deployed or been superseded.
func burst(ctx context.Context, conns []*ssh.Conn, dir string, coalesce bool) (result, error) {
	r := result{scenario: fmt.Sprintf("%d deploys at once, FIFO, each deploying", len(conns)), requests: len(conns)}
	if coalesce {
		r.scenario = fmt.Sprintf("%d deploys at once, coalescing", len(conns))
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	gate := make(chan struct{})
	for i, conn := range conns {
		wg.Go(func() {
			<-gate
			held, err := queue.Join(ctx, conn, dir, ticket(i, coalesce), opts)
			var sup *queue.SupersededError
			mu.Lock()
			switch {
			case errors.As(err, &sup):
				r.superseded++
			case err != nil:
				errs = append(errs, fmt.Errorf("request %d: %w", i, err))
			default:
				r.ran++
			}
			mu.Unlock()
			if held != nil {
				time.Sleep(work)
				held.Release()
			}
		})
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	r.wall = time.Since(start)
	return r, errors.Join(errs...)
}
