package testapp

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// requestTimeout bounds each request, so a hung app counts as failures
// instead of stalling the writer.
const requestTimeout = 2 * time.Second

// newHTTPClient opens a connection per request: a write then fails or
// succeeds on the app's merits, not on a pooled connection to a container
// that has since gone.
func newHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
}

// Writer posts records to the example app, one at a time, until stopped.
type Writer struct {
	t       testing.TB
	baseURL string
	timeout time.Duration
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once

	// Owned by the writing goroutine until done is closed.
	acked    []int64
	failed   int
	firstErr error
	lastErr  error
}

// StartWriter posts a record to baseURL/records every interval until Stop,
// keeping the ids of acknowledged writes (201 with an id) and counting the
// rest as failed. It stops by itself when the test ends.
func StartWriter(t testing.TB, baseURL string, interval time.Duration) *Writer {
	t.Helper()
	return StartPatientWriter(t, baseURL, interval, requestTimeout)
}

// StartPatientWriter is StartWriter with each request given timeout: a
// client that waits out a swap kamal-proxy holds for a whole failed health
// check, so that only the app's own answers can fail its writes.
func StartPatientWriter(t testing.TB, baseURL string, interval, timeout time.Duration) *Writer {
	t.Helper()
	w := &Writer{t: t, baseURL: baseURL, timeout: timeout, stop: make(chan struct{}), done: make(chan struct{})}
	go w.run(interval)
	t.Cleanup(func() { w.halt() })
	return w
}

func (w *Writer) run(interval time.Duration) {
	defer close(w.done)
	client := newHTTPClient(w.timeout)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n := 1; ; n++ {
		id, err := Post(client, w.baseURL, fmt.Sprintf("testapp writer %d", n))
		if err != nil {
			w.failed++
			if w.firstErr == nil {
				w.firstErr = err
			}
			w.lastErr = err
		} else {
			w.acked = append(w.acked, id)
		}
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
	}
}

// Stop stops the writer after its request in flight and returns the ids of
// the acknowledged writes, in order, and how many writes failed.
func (w *Writer) Stop() (acked []int64, failed int) {
	w.t.Helper()
	w.halt()
	if w.failed > 0 {
		w.t.Logf("testapp: writer to %s: %d acknowledged, %d failed (first: %v; last: %v)",
			w.baseURL, len(w.acked), w.failed, w.firstErr, w.lastErr)
	} else {
		w.t.Logf("testapp: writer to %s: %d acknowledged, none failed", w.baseURL, len(w.acked))
	}
	return slices.Clone(w.acked), w.failed
}

func (w *Writer) halt() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

// StatusError is an answer from the app with an unexpected status.
type StatusError struct {
	Request string // "POST /records"
	Code    int
	Status  string
	Body    string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Request, e.Status, e.Body)
}

func statusError(request string, resp *http.Response, body []byte) error {
	return &StatusError{Request: request, Code: resp.StatusCode, Status: resp.Status, Body: strings.TrimSpace(string(body))}
}

// Post creates one record and returns its id once the app has
// acknowledged it: 201 with an id.
func Post(client *http.Client, baseURL, value string) (int64, error) {
	resp, err := client.Post(baseURL+"/records", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"value": {value}}.Encode()))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("POST /records: read response: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return 0, statusError("POST /records", resp, body)
	}
	var created struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.ID <= 0 {
		return 0, fmt.Errorf("POST /records: 201 without an id: %q", body)
	}
	return created.ID, nil
}

// durableTimeout is how long Durable waits for the app to answer.
const durableTimeout = 30 * time.Second

// Durable fails the test unless every acked id is in baseURL/records. It
// waits up to 30 s for the app to answer. No acked id at all fails too, as
// a proof of nothing; so does an id acknowledged twice, since ids repeat
// only when the database was lost and started over.
func Durable(t testing.TB, baseURL string, acked []int64) {
	t.Helper()
	if len(acked) == 0 {
		t.Errorf("testapp: no acknowledged writes to look for in %s", baseURL)
		return
	}
	seen := make(map[int64]bool, len(acked))
	var twice []int64
	for _, id := range acked {
		if seen[id] {
			twice = append(twice, id)
		}
		seen[id] = true
	}
	if len(twice) > 0 {
		t.Errorf("testapp: ids acknowledged twice by %s, so its database was reset: %s", baseURL, abbreviate(twice))
	}
	stored, err := listRecords(baseURL)
	if err != nil {
		t.Fatalf("testapp: %v", err)
	}
	present := make(map[int64]bool, len(stored))
	for _, id := range stored {
		present[id] = true
	}
	var missing []int64
	for _, id := range acked {
		if !present[id] {
			missing = append(missing, id)
		}
	}
	switch {
	case len(missing) > 0:
		t.Errorf("testapp: %d of %d acknowledged writes lost from %s: ids %s",
			len(missing), len(acked), baseURL, abbreviate(missing))
	case len(twice) == 0:
		t.Logf("testapp: all %d acknowledged writes are in %s (%d records)", len(acked), baseURL, len(stored))
	}
}

// listRecords returns the ids in baseURL/records, retrying while the app
// does not answer, as during a deploy.
func listRecords(baseURL string) ([]int64, error) {
	client := newHTTPClient(requestTimeout)
	deadline := time.Now().Add(durableTimeout)
	for {
		ids, err := Records(client, baseURL)
		if err == nil {
			return ids, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no answer from the app for %s: %w", durableTimeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Records returns the ids the app at baseURL holds.
func Records(client *http.Client, baseURL string) ([]int64, error) {
	resp, err := client.Get(baseURL + "/records")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s/records: read response: %w", baseURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError("GET "+baseURL+"/records", resp, body)
	}
	var list struct {
		IDs []int64 `json:"ids"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("GET %s/records: %w", baseURL, err)
	}
	return list.IDs, nil
}

// abbreviate lists ids, cut short so a failure message stays readable.
func abbreviate(ids []int64) string {
	const limit = 20
	s := fmt.Sprint(ids[:min(len(ids), limit)])
	if len(ids) > limit {
		s += fmt.Sprintf(" and %d more", len(ids)-limit)
	}
	return s
}
