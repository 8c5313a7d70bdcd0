// Command app is the example web app that ship's demo and integration tests
// deploy. It keeps its data in SQLite and only acknowledges a write (201)
// after it has been committed, so tests can check that every acknowledged
// write survives a deploy.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// shutdownTimeout stays below docker stop's default 10 s grace period so
// in-flight requests finish and the database is closed before a SIGKILL.
const shutdownTimeout = 8 * time.Second

type config struct {
	addr       string
	dbPath     string
	version    string
	failHealth bool
	// failReason, with failHealth, is the reason phrase of /up's 503
	// status line, which ship quotes in its error.
	failReason string
	// startupLog is printed when the app starts.
	startupLog string
	// migrateAtBoot is SQL run on the database before the app serves, as
	// Rails 8 runs db:prepare when the server boots (ATTACH reaches the
	// further databases).
	migrateAtBoot string
	// extraDBs are further databases, comma-separated paths, as Rails 8
	// has cache, queue and cable beside the primary one: each gets the
	// records table, and ?db=NAME (its file name without the extension)
	// writes and lists there.
	extraDBs string
}

// configFromEnv reads the app's settings. STARTUP_LOG and
// FAIL_HEALTHCHECK_REASON let a test make the app say what an untrusted
// app could, in its log and in ship's errors: $VAR in them is the app's
// own variable (a secret it was given, say), and \n in STARTUP_LOG ends a
// line.
func configFromEnv(getenv func(string) string) config {
	return config{
		addr:          ":" + firstNonEmpty(getenv("PORT"), "3000"),
		dbPath:        firstNonEmpty(getenv("DATABASE_PATH"), "/data/app.sqlite3"),
		version:       firstNonEmpty(getenv("SHIP_VERSION"), getenv("KAMAL_VERSION"), "dev"),
		failHealth:    getenv("FAIL_HEALTHCHECK") == "1",
		failReason:    os.Expand(getenv("FAIL_HEALTHCHECK_REASON"), getenv),
		startupLog:    strings.ReplaceAll(os.Expand(getenv("STARTUP_LOG"), getenv), `\n`, "\n"),
		migrateAtBoot: getenv("MIGRATE_AT_BOOT"),
		extraDBs:      getenv("EXTRA_DATABASES"),
	}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func main() {
	// `app touch PATH` creates a file: a one-off command for `ship app exec`
	// tests, since the scratch image has no shell or coreutils.
	if len(os.Args) == 3 && os.Args[1] == "touch" {
		if err := os.WriteFile(os.Args[2], []byte("touched\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "app:", err)
			os.Exit(1)
		}
		fmt.Println("touched", os.Args[2])
		return
	}
	// `app migrate STATEMENT...` runs one SQL statement on the app's database,
	// as `bin/rails db:migrate` would through `ship app exec`.
	if len(os.Args) >= 3 && os.Args[1] == "migrate" {
		statement := strings.Join(os.Args[2:], " ")
		if err := migrate(configFromEnv(os.Getenv).dbPath, statement); err != nil {
			fmt.Fprintln(os.Stderr, "app:", err)
			os.Exit(1)
		}
		fmt.Println("migrated:", statement)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, configFromEnv(os.Getenv), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}

// run serves until ctx is cancelled, then shuts down gracefully and closes
// the database.
func run(ctx context.Context, cfg config, stdout io.Writer) (err error) {
	if cfg.migrateAtBoot != "" {
		if err := migrate(cfg.dbPath, cfg.migrateAtBoot); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "migrated at boot: %s\n", cfg.migrateAtBoot)
	}
	db, err := openDB(cfg.dbPath)
	if err != nil {
		return err
	}
	// Runs after the server has drained: closing the last connection
	// checkpoints the WAL into the database file.
	defer func() {
		if cerr := db.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()
	var extra []namedDB
	for _, p := range strings.Split(cfg.extraDBs, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		xdb, err := openDB(p)
		if err != nil {
			return err
		}
		defer xdb.Close()
		extra = append(extra, namedDB{name: strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)), db: xdb})
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	if cfg.startupLog != "" {
		fmt.Fprintln(stdout, cfg.startupLog)
	}
	fmt.Fprintf(stdout, "listening on %s version=%s database=%s\n", ln.Addr(), cfg.version, cfg.dbPath)

	var fresh freshConns
	srv := &http.Server{
		Handler:           newHandler(db, cfg.version, cfg.failHealth, cfg.failReason, extra...),
		ReadHeaderTimeout: 5 * time.Second,
		ConnState:         fresh.track,
	}
	srv.RegisterOnShutdown(fresh.closeAll)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	fmt.Fprintln(stdout, "shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}
