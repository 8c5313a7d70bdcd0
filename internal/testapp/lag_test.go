package testapp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// A fake writer and replica: the replica lists the first visible ids the
// writer created, the rest never.
func lagServers(t *testing.T, visible int) (writer, replica *httptest.Server) {
	var mu sync.Mutex
	n := 0
	writer = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		id := n
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]int{"id": id})
	}))
	replica = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids := []int{}
		for i := 1; i <= min(n, visible); i++ {
			ids = append(ids, i)
		}
		mu.Unlock()
		json.NewEncoder(w).Encode(map[string][]int{"ids": ids})
	}))
	t.Cleanup(writer.Close)
	t.Cleanup(replica.Close)
	return writer, replica
}

func TestLagTimesEveryWrite(t *testing.T) {
	writer, replica := lagServers(t, 1000)
	lags, err := Lag{Writer: writer.Client(), Reader: replica.Client(), WriteURL: writer.URL, ReadURL: replica.URL,
		Writes: 5, Pace: time.Millisecond, PollEvery: time.Millisecond, ArriveWithin: time.Second}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(lags) != 5 || lags[0] <= 0 || lags[0] > lags[4] {
		t.Errorf("lags %v: want 5, positive, sorted", lags)
	}
}

func TestLagSaysHowManyNeverArrived(t *testing.T) {
	writer, replica := lagServers(t, 3)
	_, err := Lag{Writer: writer.Client(), Reader: replica.Client(), WriteURL: writer.URL, ReadURL: replica.URL,
		Writes: 5, Pace: time.Millisecond, PollEvery: time.Millisecond, ArriveWithin: 50 * time.Millisecond}.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "2 of 5 writes had not reached the replica") {
		t.Errorf("Run: %v", err)
	}
}
