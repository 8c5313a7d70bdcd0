package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeApp answers GET /records as examples/app does, naming itself
// host, through a check of the Host header kamal-proxy would route by.
func fakeApp(t *testing.T, host string, status int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "one.bench.test" {
			http.Error(w, "no route for "+r.Host, http.StatusNotFound)
			return
		}
		w.Header().Set(hostHeader, host)
		w.WriteHeader(status)
		w.Write([]byte(`{"ids":[1,2,3],"host":"` + host + `"}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestReadLoadCountsWhoAnswered(t *testing.T) {
	srv := fakeApp(t, "replica1", http.StatusOK)
	r := readLoad(context.Background(), srv.URL, "one.bench.test", 2, 100*time.Millisecond)
	if r.ok == 0 || r.failed != 0 || r.byHost["replica1"] != r.ok || len(r.latencies) != r.ok {
		t.Fatalf("readLoad: %d ok, %d failed (%v), by host %v, %d latencies", r.ok, r.failed, r.firstErr, r.byHost, len(r.latencies))
	}
	sum := summarize(&scenario{name: "B"}, "writer1", []round{r, r, r})
	if sum.onReplica != 1 || sum.requests != 3*r.ok || sum.rps != r.rps() {
		t.Errorf("summary: %.2f on a replica, %d requests, %.0f/s; want 1, %d, %.0f", sum.onReplica, sum.requests, sum.rps, 3*r.ok, r.rps())
	}
	if sum := summarize(&scenario{name: "A"}, "replica1", []round{r}); sum.onReplica != 0 {
		t.Errorf("all answered by the writer: %.2f on a replica, want 0", sum.onReplica)
	}
}

func TestReadLoadCountsFailures(t *testing.T) {
	srv := fakeApp(t, "replica1", http.StatusServiceUnavailable)
	r := readLoad(context.Background(), srv.URL, "one.bench.test", 1, 50*time.Millisecond)
	if r.ok != 0 || r.failed == 0 || r.firstErr == nil || !strings.Contains(r.firstErr.Error(), "503") {
		t.Errorf("readLoad of a 503: %d ok, %d failed, first %v; want only failures, naming the status", r.ok, r.failed, r.firstErr)
	}
}
