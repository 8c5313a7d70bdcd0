package main

import (
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testHost is the host name the tests' apps report.
const testHost = "host-1"

// newReplicaApp serves a read replica's handler on a copy at path.
func newReplicaApp(t *testing.T, path string) *httptest.Server {
	t.Helper()
	db, err := openReadOnlyDB(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := httptest.NewServer((&app{db: db, version: "v1", readOnly: true, host: testHost}).handler())
	t.Cleanup(srv.Close)
	return srv
}

// send sends a request and returns its status, X-Ship-Host and body.
func send(t *testing.T, method, url, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get(hostHeader), string(b)
}

// A replica serves reads from its copy and refuses every write with an
// error that says why, naming itself.
func TestReplicaRefusesWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sqlite3")
	makeCopy(t, path, "one", "two")
	srv := newReplicaApp(t, path)

	for _, r := range []struct{ method, path string }{
		{"POST", "/records"}, {"POST", "/records?db=cache"}, {"DELETE", "/records"}, {"PUT", "/"}, {"PATCH", "/nope"},
	} {
		status, host, body := send(t, r.method, srv.URL+r.path, "value=x")
		if status != http.StatusServiceUnavailable || host != testHost {
			t.Errorf("%s %s on a replica = %d (%s %q), want 503 from %s", r.method, r.path, status, hostHeader, host, testHost)
		}
		refused := decode[struct{ Error, Host string }](t, body)
		if !strings.Contains(refused.Error, "read replica") || !strings.Contains(refused.Error, "writer") || refused.Host != testHost {
			t.Errorf("%s %s on a replica answered %s, want an error naming the read replica, the writer and the host", r.method, r.path, body)
		}
	}

	status, host, body := send(t, "GET", srv.URL+"/records", "")
	got := decode[listResponse](t, body)
	if status != http.StatusOK || host != testHost || !slices.Equal(got.IDs, []int64{1, 2}) || got.Host != testHost {
		t.Errorf("GET /records on a replica = %d (%s %q) %s, want records 1 and 2 from %s", status, hostHeader, host, body, testHost)
	}
	if status, _, body := send(t, "GET", srv.URL+"/", ""); status != http.StatusOK || !strings.Contains(body, "Records: 2") {
		t.Errorf("GET / on a replica = %d %q", status, body)
	}
	if status, _, _ := send(t, "HEAD", srv.URL+"/records", ""); status != http.StatusOK {
		t.Errorf("HEAD /records on a replica = %d, want 200", status)
	}
}

// A replica is healthy only while its copy can be read: not before the
// follower has restored it, and again as soon as it has.
func TestReplicaUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sqlite3")
	srv := newReplicaApp(t, path)
	if status, host, _ := send(t, "GET", srv.URL+"/up", ""); status != http.StatusServiceUnavailable || host != testHost {
		t.Errorf("GET /up without a copy = %d (%s %q), want 503 from %s", status, hostHeader, host, testHost)
	}
	if status, _, _ := send(t, "GET", srv.URL+"/records", ""); status != http.StatusInternalServerError {
		t.Errorf("GET /records without a copy = %d, want 500", status)
	}

	// A file that is not the app's database: it opens, but has no records.
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec("CREATE TABLE other (x)"); err != nil {
		t.Fatal(err)
	}
	other.Close()
	if status, _, _ := send(t, "GET", srv.URL+"/up", ""); status != http.StatusServiceUnavailable {
		t.Errorf("GET /up on a copy without the records table = %d, want 503", status)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	makeCopy(t, path) // empty, as a new app's first restore
	if status, _, body := send(t, "GET", srv.URL+"/up", ""); status != http.StatusOK || body != "ok" {
		t.Errorf("GET /up once the copy is there = %d %q, want 200 ok", status, body)
	}
}

// Every answer of the writer names its host too, the health check's
// hand-written 503 included.
func TestHostHeader(t *testing.T) {
	srv, _ := newTestApp(t, "v1", false)
	for _, r := range []struct {
		method, path string
		status       int
	}{
		{"POST", "/records", http.StatusCreated},
		{"GET", "/records", http.StatusOK},
		{"GET", "/up", http.StatusOK},
		{"GET", "/nope", http.StatusNotFound},
		{"DELETE", "/records", http.StatusMethodNotAllowed},
	} {
		if status, host, body := send(t, r.method, srv.URL+r.path, "x"); status != r.status || host != testHost {
			t.Errorf("%s %s = %d (%s %q) %q, want %d from %s", r.method, r.path, status, hostHeader, host, body, r.status, testHost)
		}
	}
	if _, _, body := send(t, "GET", srv.URL+"/records", ""); decode[listResponse](t, body).Host != testHost {
		t.Errorf("GET /records = %s, want host %s", body, testHost)
	}

	db, err := openDB(filepath.Join(t.TempDir(), "app.sqlite3"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	failing := httptest.NewServer((&app{db: db, failHealth: true, failReason: "unwell", host: testHost}).handler())
	defer failing.Close()
	if status, host, _ := send(t, "GET", failing.URL+"/up", ""); status != http.StatusServiceUnavailable || host != testHost {
		t.Errorf("GET /up failing with a reason = %d (%s %q), want 503 from %s", status, hostHeader, host, testHost)
	}
}
