package testapp

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) failures() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errors, "\n")
}

// fakeRecords serves GET /records with ids, after failing the first few
// requests with 503 as an app in the middle of a deploy would.
func fakeRecords(t *testing.T, unavailable int, ids string) string {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if unavailable > 0 {
			unavailable--
			http.Error(w, "deploying", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, `{"count":3,"ids":%s}`, ids)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestDurable(t *testing.T) {
	tests := []struct {
		acked []int64
		want  string // in the failure, or "" for none
	}{
		{[]int64{1, 2, 3}, ""},
		{[]int64{2}, ""},
		{[]int64{1, 4, 2, 5}, "2 of 4 acknowledged writes lost from http://127.0.0.1:"},
		{[]int64{1, 2, 1}, "ids acknowledged twice"},
		{nil, "no acknowledged writes"},
	}
	for _, tt := range tests {
		r := &recorder{TB: t}
		Durable(r, fakeRecords(t, 1, "[1,2,3]"), tt.acked)
		got := r.failures()
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("Durable(%v) failed with %q, want %q", tt.acked, got, tt.want)
		}
	}
}

// TestWriter counts a 500 and a 201 without an id as failed writes.
func TestWriter(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/records" || r.FormValue("value") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		n++
		switch n % 3 {
		case 0:
			http.Error(w, "insert record failed", http.StatusInternalServerError)
		case 1:
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":%d,"version":"v"}`, n)
		case 2:
			w.WriteHeader(http.StatusCreated)
		}
	}))
	defer srv.Close()

	w := StartWriter(t, srv.URL, time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	acked, failed := w.Stop()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 5 || len(acked)+failed != n {
		t.Fatalf("Stop() = %d acked, %d failed; the server saw %d writes", len(acked), failed, n)
	}
	for i, id := range acked {
		if id != int64(3*i+1) {
			t.Fatalf("acked = %v, want 1, 4, 7, ...", acked)
		}
	}
	if again, _ := w.Stop(); len(again) != len(acked) {
		t.Errorf("a second Stop() returned %d ids, want %d", len(again), len(acked))
	}
}
