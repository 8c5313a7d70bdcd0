package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type createResponse struct {
	ID      int64  `json:"id"`
	Version string `json:"version"`
}

type listResponse struct {
	Count int     `json:"count"`
	IDs   []int64 `json:"ids"`
	Host  string  `json:"host"`
}

// newTestApp serves the app's handler over httptest on a fresh database in a
// directory that does not exist yet, so openDB has to create it.
func newTestApp(t *testing.T, version string, failHealth bool) (*httptest.Server, *sql.DB) {
	t.Helper()
	db, err := openDB(filepath.Join(t.TempDir(), "data", "app.sqlite3"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := httptest.NewServer((&app{db: db, version: version, failHealth: failHealth, host: testHost}).handler())
	t.Cleanup(srv.Close)
	return srv, db
}

func do(t *testing.T, method, url, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
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
	return resp.StatusCode, string(b)
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return v
}

func listIDs(t *testing.T, baseURL string) listResponse {
	t.Helper()
	status, body := do(t, "GET", baseURL+"/records", "", "")
	if status != http.StatusOK {
		t.Fatalf("GET /records = %d %q", status, body)
	}
	return decode[listResponse](t, body)
}

func TestRecords(t *testing.T) {
	srv, db := newTestApp(t, "v1", false)

	if got := listIDs(t, srv.URL); got.Count != 0 || got.IDs == nil || len(got.IDs) != 0 {
		t.Fatalf("empty database: got %+v, want count 0 and ids []", got)
	}

	posts := []struct{ contentType, body, want string }{
		{"text/plain", "raw", "raw"},
		{"application/x-www-form-urlencoded", "value=from+form&other=1", "from form"},
		{"application/x-www-form-urlencoded", "hello", "hello"}, // what `curl -d hello` sends
	}
	var ids []int64
	for _, p := range posts {
		status, body := do(t, "POST", srv.URL+"/records", p.contentType, p.body)
		if status != http.StatusCreated {
			t.Fatalf("POST %q = %d %q, want 201", p.body, status, body)
		}
		created := decode[createResponse](t, body)
		if created.Version != "v1" {
			t.Errorf("POST version = %q, want v1", created.Version)
		}
		ids = append(ids, created.ID)

		var value, version string
		err := db.QueryRow("SELECT value, version FROM records WHERE id = ?", created.ID).Scan(&value, &version)
		if err != nil {
			t.Fatal(err)
		}
		if value != p.want || version != "v1" {
			t.Errorf("stored (%q, %q), want (%q, v1)", value, version, p.want)
		}
	}

	got := listIDs(t, srv.URL)
	if got.Count != len(ids) || !slices.Equal(got.IDs, ids) {
		t.Errorf("GET /records = %+v, want ids %v", got, ids)
	}

	if status, body := do(t, "GET", srv.URL+"/version", "", ""); status != http.StatusOK || body != "v1" {
		t.Errorf("GET /version = %d %q", status, body)
	}
	status, body := do(t, "GET", srv.URL+"/", "", "")
	if status != http.StatusOK || !strings.Contains(body, "ship example app") ||
		!strings.Contains(body, "v1") || !strings.Contains(body, "Records: 3") {
		t.Errorf("GET / = %d %q", status, body)
	}
	if status, _ := do(t, "DELETE", srv.URL+"/records", "", ""); status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /records = %d, want 405", status)
	}
	if status, _ := do(t, "GET", srv.URL+"/nope", "", ""); status != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", status)
	}
}

// postConcurrently sends n POSTs at once to each base URL and returns the
// acknowledged ids; every POST must be acknowledged.
func postConcurrently(t *testing.T, n int, baseURLs ...string) []int64 {
	t.Helper()
	var (
		mu  sync.Mutex
		ids []int64
		wg  sync.WaitGroup
	)
	for _, u := range baseURLs {
		for i := range n {
			wg.Go(func() {
				resp, err := http.Post(u+"/records", "text/plain", strings.NewReader(fmt.Sprint("value ", i)))
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("POST = %d %q, want 201", resp.StatusCode, body)
					return
				}
				var created createResponse
				if err := json.Unmarshal(body, &created); err != nil {
					t.Errorf("decode %q: %v", body, err)
					return
				}
				mu.Lock()
				ids = append(ids, created.ID)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	slices.Sort(ids)
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("duplicate ids acknowledged: %v", ids)
	}
	return ids
}

func TestConcurrentPosts(t *testing.T) {
	srv, _ := newTestApp(t, "v1", false)
	ids := postConcurrently(t, 50, srv.URL)
	if len(ids) != 50 {
		t.Fatalf("%d of 50 POSTs acknowledged", len(ids))
	}
	if got := listIDs(t, srv.URL); got.Count != 50 || !slices.Equal(got.IDs, ids) {
		t.Errorf("GET /records = %+v, want ids %v", got, ids)
	}
}

// During a deploy the old and the new container share the database file;
// writes to both must still be acknowledged and kept.
func TestTwoInstancesShareDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sqlite3")
	var urls []string
	for _, version := range []string{"old", "new"} {
		db, err := openDB(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		srv := httptest.NewServer((&app{db: db, version: version, host: testHost}).handler())
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}

	ids := postConcurrently(t, 50, urls...)
	if len(ids) != 100 {
		t.Fatalf("%d of 100 POSTs acknowledged", len(ids))
	}
	for _, u := range urls {
		if got := listIDs(t, u); !slices.Equal(got.IDs, ids) {
			t.Errorf("GET %s/records = %+v, want ids %v", u, got, ids)
		}
	}
}

func TestPragmas(t *testing.T) {
	_, db := newTestApp(t, "v1", false)
	tests := []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"busy_timeout", "5000"},
		{"foreign_keys", "1"},
		{"cache_size", "-20000"},
		{"mmap_size", "134217728"},
		{"temp_store", "2"}, // MEMORY
	}
	for _, tt := range tests {
		var got string
		if err := db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
		}
	}
}

func TestUp(t *testing.T) {
	srv, db := newTestApp(t, "v1", false)
	if status, body := do(t, "GET", srv.URL+"/up", "", ""); status != http.StatusOK || body != "ok" {
		t.Errorf("GET /up = %d %q, want 200 ok", status, body)
	}
	db.Close()
	if status, _ := do(t, "GET", srv.URL+"/up", "", ""); status != http.StatusServiceUnavailable {
		t.Errorf("GET /up with the database closed = %d, want 503", status)
	}
	if status, _ := do(t, "POST", srv.URL+"/records", "text/plain", "x"); status != http.StatusInternalServerError {
		t.Errorf("POST /records with the database closed = %d, want 500", status)
	}
}

func TestUpFailHealthcheck(t *testing.T) {
	cfg, err := configFromEnv(func(k string) string { return map[string]string{"FAIL_HEALTHCHECK": "1"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newTestApp(t, "broken", cfg.failHealth)
	if status, _ := do(t, "GET", srv.URL+"/up", "", ""); status != http.StatusServiceUnavailable {
		t.Errorf("GET /up with FAIL_HEALTHCHECK=1 = %d, want 503", status)
	}
}

// What an untrusted app could say, for ship's tests: its own secret in
// its log and in the reason phrase of a failing health check.
func TestStartupLogAndFailReason(t *testing.T) {
	env := map[string]string{"FAIL_HEALTHCHECK": "1", "APP_SECRET": "s3cret",
		"STARTUP_LOG": `::error::pwned\nsecret=$APP_SECRET`, "FAIL_HEALTHCHECK_REASON": "unwell ${APP_SECRET}"}
	cfg, err := configFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.startupLog != "::error::pwned\nsecret=s3cret" || cfg.failReason != "unwell s3cret" {
		t.Errorf("config %+v", cfg)
	}
	db, err := openDB(filepath.Join(t.TempDir(), "app.sqlite3"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := httptest.NewServer((&app{db: db, version: "bad", failHealth: cfg.failHealth, failReason: cfg.failReason, host: testHost}).handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/up")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Status != "503 unwell s3cret" {
		t.Errorf("GET /up: %q", resp.Status)
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want config
	}{
		{nil, config{addr: ":3000", dbPath: "/data/app.sqlite3", version: "dev"}},
		{
			map[string]string{"PORT": "8080", "DATABASE_PATH": "/x/db", "KAMAL_VERSION": "k1", "FAIL_HEALTHCHECK": "1"},
			config{addr: ":8080", dbPath: "/x/db", version: "k1", failHealth: true},
		},
		{map[string]string{"SHIP_VERSION": "s1", "KAMAL_VERSION": "k1"}, config{addr: ":3000", dbPath: "/data/app.sqlite3", version: "s1"}},
		{
			map[string]string{"MIGRATE_AT_BOOT": "DROP TABLE x", "EXTRA_DATABASES": "/data/cache.sqlite3,/data/queue.sqlite3"},
			config{addr: ":3000", dbPath: "/data/app.sqlite3", version: "dev", migrateAtBoot: "DROP TABLE x", extraDBs: "/data/cache.sqlite3,/data/queue.sqlite3"},
		},
		{map[string]string{"SHIP_DB_READONLY": "1"}, config{addr: ":3000", dbPath: "/data/app.sqlite3", version: "dev", readOnly: true}},
	}
	for _, tt := range tests {
		if got, err := configFromEnv(func(k string) string { return tt.env[k] }); err != nil || got != tt.want {
			t.Errorf("configFromEnv(%v) = %+v, %v; want %+v", tt.env, got, err, tt.want)
		}
	}
	_, err := configFromEnv(func(k string) string { return map[string]string{"SHIP_DB_READONLY": "true"}[k] })
	if err == nil || !strings.Contains(err.Error(), `SHIP_DB_READONLY="true"`) || !strings.Contains(err.Error(), "set it to 1") {
		t.Errorf("configFromEnv with SHIP_DB_READONLY=true: %v, want an error naming the value and what to set", err)
	}
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestGracefulShutdown runs the real server, cancels it while a POST is
// blocked on a write lock held elsewhere, and checks that the POST is still
// acknowledged and its row survives the database being closed and reopened.
func TestGracefulShutdown(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "app.sqlite3")
	cfg := config{addr: freeLoopbackAddr(t), dbPath: dbPath, version: "v1"}
	base := "http://" + cfg.addr
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, &stdout) }()

	client := &http.Client{Timeout: 10 * time.Second}
	for deadline := time.Now().Add(5 * time.Second); ; {
		resp, err := client.Get(base + "/up")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	status, body := do(t, "POST", base+"/records", "text/plain", "before")
	if status != http.StatusCreated {
		t.Fatalf("POST = %d %q", status, body)
	}
	before := decode[createResponse](t, body)

	// Hold the write lock from another connection so the next POST stays in
	// flight until we release it.
	locker, err := openDB(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	lock, err := locker.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	type result struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := client.Post(base+"/records", "text/plain", strings.NewReader("in flight"))
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		inflight <- result{resp.StatusCode, string(b), err}
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case r := <-inflight:
		t.Fatalf("POST finished while the write lock was held: %+v", r)
	default:
	}

	cancel()
	// Wait until the server has stopped accepting connections, so the
	// shutdown is really under way before the POST can finish.
	for deadline := time.Now().Add(5 * time.Second); ; {
		conn, err := net.Dial("tcp", cfg.addr)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still accepting connections after cancel")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := lock.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}

	r := <-inflight
	if r.err != nil || r.status != http.StatusCreated {
		t.Fatalf("in-flight POST = %+v, want 201", r)
	}
	during := decode[createResponse](t, r.body)
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	wantLog := fmt.Sprintf("listening on %s version=v1 database=%s\n", cfg.addr, dbPath)
	if !strings.HasPrefix(stdout.String(), wantLog) {
		t.Errorf("stdout = %q, want it to start with %q", stdout.String(), wantLog)
	}

	db, err := openDB(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ids []int64
	rows, err := db.Query("SELECT id FROM records ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []int64{before.ID, during.ID}; !slices.Equal(ids, want) {
		t.Errorf("after reopening: ids %v, want %v", ids, want)
	}
}

// MIGRATE_AT_BOOT runs before the app serves, as Rails' db:prepare does,
// and can reach the further databases with ATTACH; ?db=NAME writes to and
// lists those.
func TestMigrateAtBootAndExtraDatabases(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache.sqlite3")
	cfg := config{addr: freeLoopbackAddr(t), dbPath: filepath.Join(dir, "app.sqlite3"), version: "v2",
		extraDBs: cache + ", " + filepath.Join(dir, "queue.sqlite3"),
		migrateAtBoot: "CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY AUTOINCREMENT, value TEXT NOT NULL, version TEXT NOT NULL, created_at TEXT NOT NULL);" +
			"ALTER TABLE records DROP COLUMN value; INSERT INTO records (version, created_at) VALUES ('v2', 'boot');" +
			"ATTACH DATABASE '" + cache + "' AS cache; CREATE TABLE IF NOT EXISTS cache.entries (k TEXT)"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out strings.Builder
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, &out) }()
	base := "http://" + cfg.addr
	waitUp(t, base)

	// The primary database lost its column before the app served: its
	// writes fail, as an old version's would on a new version's schema.
	if status, body := do(t, "POST", base+"/records", "", "x"); status != http.StatusInternalServerError {
		t.Errorf("POST /records on the migrated primary = %d %q, want 500", status, body)
	}
	if status, body := do(t, "POST", base+"/records?db=queue", "", "job"); status != http.StatusCreated {
		t.Errorf("POST /records?db=queue = %d %q", status, body)
	}
	if status, body := do(t, "GET", base+"/records?db=queue", "", ""); status != http.StatusOK || decode[listResponse](t, body).Count != 1 {
		t.Errorf("GET /records?db=queue = %d %s, want its 1 record", status, body)
	}
	if status, _ := do(t, "GET", base+"/records?db=nope", "", ""); status != http.StatusNotFound {
		t.Errorf("GET /records?db=nope = %d, want 404", status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "migrated at boot: CREATE TABLE") {
		t.Errorf("output:\n%s", out.String())
	}
	db, err := openDB(cache)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM entries").Scan(&n); err != nil {
		t.Errorf("the migration did not reach the attached database: %v", err)
	}

	// A migration that fails stops the app before it serves.
	cfg.migrateAtBoot = "ALTER TABLE nothing ADD COLUMN x"
	if err := run(context.Background(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Errorf("run with a failing migration: %v", err)
	}
}

// waitUp waits until the app at base answers /up.
func waitUp(t *testing.T, base string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		resp, err := http.Get(base + "/up")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A read replica's app serves its copy as it is: it runs no migration at
// boot, `app migrate` refuses, and it starts before the copy exists (its
// /up failing), creating nothing.
func TestReadOnlyRun(t *testing.T) {
	dir := t.TempDir()
	cfg := config{addr: freeLoopbackAddr(t), dbPath: filepath.Join(dir, "app.sqlite3"), version: "v1",
		readOnly: true, migrateAtBoot: "CREATE TABLE migrated (x)", extraDBs: filepath.Join(dir, "cache.sqlite3")}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out strings.Builder
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, &out) }()
	base := "http://" + cfg.addr
	waitUp(t, base)
	if status, _ := do(t, "GET", base+"/up", "", ""); status != http.StatusServiceUnavailable {
		t.Errorf("GET /up before the copy exists = %d, want 503", status)
	}
	makeCopy(t, cfg.dbPath, "one")
	if status, body := do(t, "GET", base+"/up", "", ""); status != http.StatusOK {
		t.Errorf("GET /up once the copy exists = %d %q, want 200", status, body)
	}
	if status, body := do(t, "POST", base+"/records", "", "x"); status != http.StatusServiceUnavailable {
		t.Errorf("POST /records = %d %q, want 503", status, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "not migrating at boot") || !strings.Contains(out.String(), "writes refused") {
		t.Errorf("output:\n%s", out.String())
	}
	db, err := openReadOnlyDB(cfg.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'migrated'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the replica migrated its copy at boot: %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cache.sqlite3")); !os.IsNotExist(err) {
		t.Errorf("the replica created its further database: %v", err)
	}

	err = migrateCommand(cfg, "CREATE TABLE migrated (x)")
	if err == nil || !strings.Contains(err.Error(), "read replica") || !strings.Contains(err.Error(), "writer") {
		t.Errorf("app migrate on a replica: %v, want a refusal that names the writer", err)
	}
}
