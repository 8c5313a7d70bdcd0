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

// envReadOnly is what ship sets to 1 in a replica role's containers
// (spec.EnvReadOnly).
const envReadOnly = "SHIP_DB_READONLY"

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
	// readOnly is SHIP_DB_READONLY=1, which ship sets in a replica role's
	// containers: every database is a follower's copy on a read-only
	// mount, opened read-only, never migrated, and writes are refused.
	readOnly bool
}

// configFromEnv reads the app's settings. STARTUP_LOG and
// FAIL_HEALTHCHECK_REASON let a test make the app say what an untrusted
// app could, in its log and in ship's errors: $VAR in them is the app's
// own variable (a secret it was given, say), and \n in STARTUP_LOG ends a
// line.
func configFromEnv(getenv func(string) string) (config, error) {
	readOnly := getenv(envReadOnly)
	if readOnly != "" && readOnly != "1" {
		return config{}, fmt.Errorf("%s=%q: set it to 1 for a read replica, or leave it unset", envReadOnly, readOnly)
	}
	return config{
		addr:          ":" + firstNonEmpty(getenv("PORT"), "3000"),
		dbPath:        firstNonEmpty(getenv("DATABASE_PATH"), "/data/app.sqlite3"),
		version:       firstNonEmpty(getenv("SHIP_VERSION"), getenv("KAMAL_VERSION"), "dev"),
		failHealth:    getenv("FAIL_HEALTHCHECK") == "1",
		failReason:    os.Expand(getenv("FAIL_HEALTHCHECK_REASON"), getenv),
		startupLog:    strings.ReplaceAll(os.Expand(getenv("STARTUP_LOG"), getenv), `\n`, "\n"),
		migrateAtBoot: getenv("MIGRATE_AT_BOOT"),
		extraDBs:      getenv("EXTRA_DATABASES"),
		readOnly:      readOnly == "1",
	}, nil
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
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
	// `app migrate STATEMENT...` runs one SQL statement on the app's database,
	// as `bin/rails db:migrate` would through `ship app exec`.
	if len(os.Args) >= 3 && os.Args[1] == "migrate" {
		statement := strings.Join(os.Args[2:], " ")
		if err := migrateCommand(cfg, statement); err != nil {
			fmt.Fprintln(os.Stderr, "app:", err)
			os.Exit(1)
		}
		fmt.Println("migrated:", statement)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}

// migrateCommand is `app migrate`, which a read replica refuses: its copy
// is the follower's, and the writer's migrations reach it through S3.
func migrateCommand(cfg config, statement string) error {
	if cfg.readOnly {
		return fmt.Errorf("%s=1: this is a read replica, whose database is a read-only copy; run migrations on the writer role", envReadOnly)
	}
	return migrate(cfg.dbPath, statement)
}

// run serves until ctx is cancelled, then shuts down gracefully and closes
// the database.
func run(ctx context.Context, cfg config, stdout io.Writer) (err error) {
	// The container's hostname: ship sets no variable naming the host, and
	// the engine names each container's host after its ID.
	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("read the hostname: %w", err)
	}
	open := openDB
	switch {
	case cfg.readOnly:
		open = openReadOnlyDB
		if cfg.migrateAtBoot != "" {
			fmt.Fprintf(stdout, "read replica (%s=1): not migrating at boot, the writer does\n", envReadOnly)
		}
	case cfg.migrateAtBoot != "":
		if err := migrate(cfg.dbPath, cfg.migrateAtBoot); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "migrated at boot: %s\n", cfg.migrateAtBoot)
	}
	db, err := open(cfg.dbPath)
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
		xdb, err := open(p)
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
	if cfg.readOnly {
		fmt.Fprintf(stdout, "read replica (%s=1) on host %s: databases opened read-only, writes refused\n", envReadOnly, host)
	}

	var fresh freshConns
	srv := &http.Server{
		Handler: (&app{db: db, version: cfg.version, failHealth: cfg.failHealth, failReason: cfg.failReason,
			readOnly: cfg.readOnly, host: host}).handler(extra...),
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
