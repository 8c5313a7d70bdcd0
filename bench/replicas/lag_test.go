package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// Every write is timed, through the Host header, until the replica lists
// it: the fake replica lists each row 30 ms after the writer made it.
func TestLagTimesEachWriteUntilTheReplicaListsIt(t *testing.T) {
	var mu sync.Mutex
	var created []time.Time
	writer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Host != "one.bench.test" {
			http.Error(w, "want POST /records for one.bench.test", http.StatusBadRequest)
			return
		}
		mu.Lock()
		created = append(created, time.Now())
		id := len(created)
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]int{"id": id})
	}))
	defer writer.Close()
	replica := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids := []int{}
		for i, at := range created {
			if time.Since(at) >= 30*time.Millisecond {
				ids = append(ids, i+1)
			}
		}
		mu.Unlock()
		json.NewEncoder(w).Encode(map[string][]int{"ids": ids})
	}))
	defer replica.Close()

	lags, err := lag(context.Background(), writer.URL, "one.bench.test", replica.URL, 10, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(lags) != 10 || !slices.IsSorted(lags) || lags[0] <= 0 {
		t.Errorf("lags %v; want 10, sorted, each above 0", lags)
	}
}
