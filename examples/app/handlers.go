package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxValueBytes bounds request bodies so one client cannot exhaust memory.
const maxValueBytes = 1 << 20

// hostHeader names, on every response, the host that answered: with read
// replicas, kamal-proxy spreads reads over several.
const hostHeader = "X-Ship-Host"

type app struct {
	db         *sql.DB
	extra      map[string]*sql.DB // by name, for ?db=NAME
	version    string
	failHealth bool
	failReason string // of the 503 when failHealth; "" is the standard one
	// readOnly is a read replica's mode (SHIP_DB_READONLY=1): the
	// databases are a follower's copies, and writes are refused.
	readOnly bool
	// host is what hostHeader and GET /records report.
	host string
}

// namedDB is one of the app's further databases, as Rails 8 has cache,
// queue and cable beside the primary one.
type namedDB struct {
	name string
	db   *sql.DB
}

// handler routes the app's requests, a.db and extra being its databases.
func (a *app) handler(extra ...namedDB) http.Handler {
	a.extra = map[string]*sql.DB{}
	for _, e := range extra {
		a.extra[e.name] = e.db
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.index)
	mux.HandleFunc("GET /up", a.up)
	mux.HandleFunc("GET /version", a.showVersion)
	mux.HandleFunc("GET /records", a.listRecords)
	mux.HandleFunc("POST /records", a.createRecord)
	var h http.Handler = mux
	if a.readOnly {
		h = a.refuseWrites(h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(hostHeader, a.host)
		h.ServeHTTP(w, r)
	})
}

// refuseWrites answers every request but GET and HEAD with 503 on a read
// replica: those are the requests kamal-proxy sends to read targets, so
// any other one reached a replica by mistake, and its copy cannot take it.
func (a *app) refuseWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		writeJSON(w, http.StatusServiceUnavailable, struct {
			Error string `json:"error"`
			Host  string `json:"host"`
		}{fmt.Sprintf("%s %s refused: this is a read replica (SHIP_DB_READONLY=1), "+
			"which serves only GET and HEAD; send writes to the writer role, as kamal-proxy does", r.Method, r.URL.Path), a.host})
	})
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<title>ship example app</title>
<h1>ship example app</h1>
<p>Version: {{.Version}}</p>
<p>Records: {{.Count}}</p>
`))

func (a *app) index(w http.ResponseWriter, r *http.Request) {
	var count int64
	if err := a.db.QueryRowContext(r.Context(), "SELECT COUNT(*) FROM records").Scan(&count); err != nil {
		serverError(w, "count records", err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := indexPage.Execute(w, struct {
		Version string
		Count   int64
	}{a.version, count})
	if err != nil {
		log.Printf("render index: %v", err)
	}
}

func (a *app) up(w http.ResponseWriter, r *http.Request) {
	if a.failHealth && a.failReason != "" {
		failWithReason(w, a.failReason, a.host)
		return
	}
	if a.failHealth {
		http.Error(w, "failing on purpose (FAIL_HEALTHCHECK=1)", http.StatusServiceUnavailable)
		return
	}
	if err := a.check(r.Context()); err != nil {
		log.Printf("health check: %v", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok")
}

// check asks the database a question. A replica's question reads the
// records table its reads need, so a copy that is not the app's database
// fails it too. SQLite itself answers SELECT 1 without reading the file;
// modernc.org/sqlite fails it on a copy it cannot open (missing, or still
// the first restore's WAL-mode file on a read-only mount), but a health
// check should not rest on that.
func (a *app) check(ctx context.Context) error {
	var one int
	if !a.readOnly {
		return a.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	}
	err := a.db.QueryRowContext(ctx, "SELECT 1 FROM records LIMIT 1").Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // an empty table is a readable copy
	}
	return err
}

// failWithReason answers 503 with reason as the status line's reason
// phrase, which a net/http handler cannot otherwise choose.
func failWithReason(w http.ResponseWriter, reason, host string) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, reason, http.StatusServiceUnavailable)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		log.Printf("health check: %v", err)
		return
	}
	defer conn.Close()
	oneLine := strings.NewReplacer("\r", " ", "\n", " ")
	fmt.Fprintf(buf, "HTTP/1.1 503 %s\r\n%s: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		oneLine.Replace(reason), hostHeader, oneLine.Replace(host))
	buf.Flush()
}

func (a *app) showVersion(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, a.version)
}

// pick is the database a request names with ?db=NAME (a further
// database's file name without its extension), or the primary one.
func (a *app) pick(w http.ResponseWriter, r *http.Request) (*sql.DB, bool) {
	name := r.URL.Query().Get("db")
	if name == "" {
		return a.db, true
	}
	db, ok := a.extra[name]
	if !ok {
		http.Error(w, fmt.Sprintf("no database %q: the app has EXTRA_DATABASES for those", name), http.StatusNotFound)
	}
	return db, ok
}

func (a *app) listRecords(w http.ResponseWriter, r *http.Request) {
	db, ok := a.pick(w, r)
	if !ok {
		return
	}
	rows, err := db.QueryContext(r.Context(), "SELECT id FROM records ORDER BY id")
	if err != nil {
		serverError(w, "list records", err)
		return
	}
	defer rows.Close()
	ids := []int64{} // encodes as [] rather than null when empty
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			serverError(w, "scan record id", err)
			return
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		serverError(w, "list records", err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Count int     `json:"count"`
		IDs   []int64 `json:"ids"`
		Host  string  `json:"host"`
	}{len(ids), ids, a.host})
}

// createRecord answers 201 only once the INSERT has committed: the statement
// runs in autocommit mode, so a nil error from Exec means it is in the WAL.
func (a *app) createRecord(w http.ResponseWriter, r *http.Request) {
	db, ok := a.pick(w, r)
	if !ok {
		return
	}
	value, err := readValue(w, r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res, err := db.ExecContext(r.Context(),
		"INSERT INTO records (value, version, created_at) VALUES (?, ?, ?)",
		value, a.version, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		serverError(w, "insert record", err)
		return
	}
	id, err := res.LastInsertId()
	if err != nil {
		serverError(w, "read inserted id", err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		ID      int64  `json:"id"`
		Version string `json:"version"`
	}{id, a.version})
}

// readValue returns the form field "value" of a urlencoded body, otherwise
// the raw body. The fallback keeps `curl -d hello` storing "hello", since
// curl labels such bodies as form data.
func readValue(w http.ResponseWriter, r *http.Request) (string, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxValueBytes))
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/x-www-form-urlencoded" {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Has("value") {
			return form.Get("value"), nil
		}
	}
	return string(body), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("write response: %v", err)
	}
}

func serverError(w http.ResponseWriter, what string, err error) {
	log.Printf("%s: %v", what, err)
	http.Error(w, what+" failed", http.StatusInternalServerError)
}
