package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/shipdeploy/ship/internal/benchkit"
	"github.com/shipdeploy/ship/internal/testapp"
)

// lag posts writes through kamal-proxy (to the writer) one every pace,
// and times each from its acknowledgement until a fresh read of the
// replica at target (a new connection each, every pollEvery) lists it.
// It returns the lags, sorted, once every write has arrived, or fails
// after arriveWithin.
func lag(ctx context.Context, proxyURL, host, target string, writes int, pace time.Duration) ([]time.Duration, error) {
	type write struct {
		id  int64
		at  time.Time
		lag time.Duration
	}
	var mu sync.Mutex
	var sent []*write
	done := make(chan struct{})
	var polls sync.WaitGroup
	polls.Go(func() {
		poller := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
		for {
			ids, err := testapp.Records(poller, target)
			now := time.Now()
			if err == nil && len(ids) > 0 {
				top := slices.Max(ids)
				mu.Lock()
				for _, w := range sent {
					if w.lag == 0 && w.id <= top {
						w.lag = now.Sub(w.at)
					}
				}
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-time.After(pollEvery):
			}
		}
	})
	defer polls.Wait()
	defer close(done)

	writer := &http.Client{Timeout: requestTimeout, Transport: benchkit.HostTransport{Host: host, RT: &http.Transport{}}}
	tick := time.NewTicker(pace)
	defer tick.Stop()
	for i := range writes {
		id, err := testapp.Post(writer, proxyURL, fmt.Sprintf("lag %d", i))
		if err != nil {
			return nil, fmt.Errorf("write %d of %d: %w", i+1, writes, err)
		}
		mu.Lock()
		sent = append(sent, &write{id: id, at: time.Now()})
		mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
	deadline := time.Now().Add(arriveWithin)
	for {
		mu.Lock()
		left := 0
		for _, w := range sent {
			if w.lag == 0 {
				left++
			}
		}
		mu.Unlock()
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d writes had not reached the replica %s after the last write", left, writes, arriveWithin)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var lags []time.Duration
	for _, w := range sent {
		lags = append(lags, w.lag)
	}
	slices.Sort(lags)
	return lags, nil
}
