package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shipdeploy/ship/internal/testapp"
)

// sample is one request of the load.
type sample struct {
	start, end time.Time
	ok         bool
	failure    string // why it failed, in a few words
}

// shape is a load's clients and what they send.
type shape struct {
	clients  int
	interval time.Duration
	// writesOnly has every request a POST /records.
	writesOnly bool
	// host is the Host header kamal-proxy routes by; "" sends the URL's.
	host string
}

// mixed is the main table's load: four clients, writes and reads.
var mixed = shape{clients: clients, interval: interval}

// load is constant-rate clients against one base URL, each with a
// connection per request: a request succeeds or fails on the app's merits
// (or the proxy's), never on a pooled connection to a container that has
// since gone.
type load struct {
	url   string
	shape shape
	stop  chan struct{}
	wg    sync.WaitGroup

	mu          sync.Mutex
	samples     []sample
	acked       []int64
	lastSuccess time.Time
}

func startLoad(baseURL string, sh shape) *load {
	l := &load{url: baseURL, shape: sh, stop: make(chan struct{})}
	for c := range sh.clients {
		l.wg.Go(func() {
			// Staggered, so the clients' requests interleave evenly.
			select {
			case <-time.After(time.Duration(c) * sh.interval / time.Duration(sh.clients)):
			case <-l.stop:
				return
			}
			l.client(c)
		})
	}
	return l
}

// client sends a request every interval, or as soon as the previous one
// ends if that took longer (a held request holds its client): writes and
// reads alternate, and one read in five lists the records.
func (l *load) client(c int) {
	hc := benchClient(l.shape.host)
	tick := time.NewTicker(l.shape.interval)
	defer tick.Stop()
	for n := 0; ; n++ {
		s := sample{start: time.Now()}
		var id int64
		var err error
		switch {
		case n%2 == 0 || l.shape.writesOnly:
			id, err = testapp.Post(hc, l.url, fmt.Sprintf("bench client %d request %d", c, n))
		case n%10 == 1:
			_, err = testapp.Records(hc, l.url)
		default:
			err = getVersion(hc, l.url)
		}
		s.end = time.Now()
		s.ok = err == nil
		if err != nil {
			s.failure = failureKind(err)
		}
		l.mu.Lock()
		l.samples = append(l.samples, s)
		if s.ok {
			l.lastSuccess = s.end
			if id != 0 {
				l.acked = append(l.acked, id)
			}
		}
		l.mu.Unlock()
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
	}
}

// halt stops the clients after their requests in flight and returns every
// request's sample and the ids of the acknowledged writes.
func (l *load) halt() ([]sample, []int64) {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
	return l.samples, l.acked
}

// waitSuccessAfter waits until a request has succeeded after t: the app
// answers again.
func (l *load) waitSuccessAfter(ctx context.Context, t time.Time, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		l.mu.Lock()
		ok := l.lastSuccess.After(t)
		l.mu.Unlock()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no request to %s succeeded within %s", l.url, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func getVersion(hc *http.Client, baseURL string) error {
	_, err := version(hc, baseURL)
	return err
}

// version is what the app says it is.
func version(hc *http.Client, baseURL string) (string, error) {
	resp, err := hc.Get(baseURL + "/version")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", &testapp.StatusError{Request: "GET /version", Code: resp.StatusCode, Status: resp.Status, Body: strings.TrimSpace(string(body))}
	}
	return strings.TrimSpace(string(body)), nil
}

// failureKind names a failed request's cause for the notes under the
// table: a refused connection, a reset or cut one, a timeout, a status.
func failureKind(err error) string {
	var se *testapp.StatusError
	var ue *url.Error
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("HTTP %d", se.Code)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed (EOF)"
	case errors.As(err, &ue) && ue.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "server closed idle connection"):
		// net/http's words for a connection closed before any response.
		return "connection closed (EOF)"
	}
	return err.Error()
}

// lost returns the acknowledged ids missing from the app's records, and
// ids acknowledged twice, which only a database that started over gives.
// host is the Host header, if not the URL's. It retries for a while, should the app not answer at once.
func lost(ctx context.Context, baseURL, host string, acked []int64) (missing, twice []int64, err error) {
	hc := benchClient(host)
	var stored []int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		if stored, err = testapp.Records(hc, baseURL); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("GET %s/records: %w", baseURL, err)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	present := make(map[int64]bool, len(stored))
	for _, id := range stored {
		present[id] = true
	}
	seen := make(map[int64]bool, len(acked))
	for _, id := range acked {
		if seen[id] {
			twice = append(twice, id)
		}
		seen[id] = true
		if !present[id] {
			missing = append(missing, id)
		}
	}
	return missing, twice, nil
}

// window is when one swap ran: from the moment the swap command was
// started to the moment it returned.
type window struct{ start, end time.Time }

// gap is the longest stretch without a successful completion that
// overlaps w: the interval between two consecutive successful completions
// (of any client) that ends after w starts and begins before w ends. done
// is sorted, and holds a success after w, which the caller waited for.
func gap(done []time.Time, w window) time.Duration {
	i := sort.Search(len(done), func(i int) bool { return done[i].After(w.start) })
	var longest time.Duration
	for j := max(i, 1); j < len(done) && !done[j-1].After(w.end); j++ {
		longest = max(longest, done[j].Sub(done[j-1]))
	}
	return longest
}
