package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/shipdeploy/ship/internal/benchkit"
)

// hostHeader names the app instance that answered (examples/app).
const hostHeader = "X-Ship-Host"

// round is one timed read load against one scenario.
type round struct {
	took      time.Duration
	ok        int
	failed    int
	firstErr  error
	latencies []time.Duration // of the successful requests, sorted
	byHost    map[string]int  // successful answers by the instance that gave them
}

// rps is the round's successful requests per second.
func (r round) rps() float64 { return float64(r.ok) / r.took.Seconds() }

// readLoad runs clients concurrent clients, each sending GET /records
// through kamal-proxy (routed by host) as soon as its previous answer is
// read, over a kept-alive connection of its own, for d. No cookie jar: no
// client has written, so kamal-proxy's writer affinity never applies.
func readLoad(ctx context.Context, baseURL, host string, clients int, d time.Duration) round {
	var mu sync.Mutex
	r := round{byHost: map[string]int{}}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			hc := &http.Client{Timeout: requestTimeout, Transport: benchkit.HostTransport{Host: host, RT: &http.Transport{MaxIdleConnsPerHost: 1}}}
			defer hc.CloseIdleConnections()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				began := time.Now()
				answeredBy, err := get(hc, baseURL+"/records")
				took := time.Since(began)
				mu.Lock()
				if err != nil {
					r.failed++
					if r.firstErr == nil {
						r.firstErr = err
					}
				} else {
					r.ok++
					r.latencies = append(r.latencies, took)
					r.byHost[answeredBy]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.took = time.Since(start)
	slices.Sort(r.latencies)
	return r
}

// get reads url whole and returns who answered; any status but 200 is an
// error.
func get(hc *http.Client, url string) (string, error) {
	resp, err := hc.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %.200s", url, resp.Status, body)
	}
	return resp.Header.Get(hostHeader), nil
}

// summary is a scenario's rounds, as the table shows them: the medians
// over its rounds of each round's figure.
type summary struct {
	s                *scenario
	rounds           []round
	rps              float64
	p50, p99         time.Duration
	requests, failed int
	// onReplica is the share of successful reads a replica answered:
	// any instance but the writer.
	onReplica float64
}

func summarize(s *scenario, writer string, rounds []round) summary {
	sum := summary{s: s, rounds: rounds}
	var rps []float64
	var p50s, p99s []time.Duration
	total, replica := 0, 0
	for _, r := range rounds {
		rps = append(rps, r.rps())
		p50s = append(p50s, benchkit.Percentile(r.latencies, 0.50))
		p99s = append(p99s, benchkit.Percentile(r.latencies, 0.99))
		sum.requests += r.ok + r.failed
		sum.failed += r.failed
		for h, n := range r.byHost {
			total += n
			if h != writer {
				replica += n
			}
		}
	}
	slices.Sort(rps)
	if n := len(rps); n%2 == 1 {
		sum.rps = rps[n/2]
	} else if n > 0 {
		sum.rps = (rps[n/2-1] + rps[n/2]) / 2
	}
	sum.p50, sum.p99 = benchkit.Median(p50s), benchkit.Median(p99s)
	if total > 0 {
		sum.onReplica = float64(replica) / float64(total)
	}
	return sum
}
