package testapp

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Lag measures how long an acknowledged write takes to reach a replica:
// it posts Writes records to the writer at WriteURL, one every Pace, and
// times each from its acknowledgement until a read of ReadURL (every
// PollEvery, with Reader) lists it.
type Lag struct {
	Writer, Reader    *http.Client
	WriteURL, ReadURL string
	Writes            int
	Pace, PollEvery   time.Duration
	// ArriveWithin bounds the wait for the last writes after the last one.
	ArriveWithin time.Duration
}

// Run posts the writes and returns their lags, sorted, once every write
// has reached the replica; or an error saying how many had not within
// ArriveWithin.
func (l Lag) Run(ctx context.Context) ([]time.Duration, error) {
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
		for {
			ids, err := Records(l.Reader, l.ReadURL)
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
			case <-time.After(l.PollEvery):
			}
		}
	})
	defer polls.Wait()
	defer close(done)

	tick := time.NewTicker(l.Pace)
	defer tick.Stop()
	for i := range l.Writes {
		id, err := Post(l.Writer, l.WriteURL, fmt.Sprintf("lag %d", i))
		if err != nil {
			return nil, fmt.Errorf("write %d of %d: %w", i+1, l.Writes, err)
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
	deadline := time.Now().Add(l.ArriveWithin)
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
			return nil, fmt.Errorf("%d of %d writes had not reached the replica %s after the last write", left, l.Writes, l.ArriveWithin)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	mu.Lock()
	defer mu.Unlock()
	lags := make([]time.Duration, 0, len(sent))
	for _, w := range sent {
		lags = append(lags, w.lag)
	}
	slices.Sort(lags)
	return lags, nil
}
