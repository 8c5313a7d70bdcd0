package main

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite"
)

// pragmas are applied by the driver to every new connection.
var pragmas = []string{
	"journal_mode(WAL)",
	"synchronous(NORMAL)",
	"busy_timeout(5000)",
	"foreign_keys(ON)",
	"cache_size(-20000)",
	"mmap_size(134217728)",
	"temp_store(MEMORY)", // the scratch image has no /tmp
}

const schema = `CREATE TABLE IF NOT EXISTS records (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	value TEXT NOT NULL,
	version TEXT NOT NULL,
	created_at TEXT NOT NULL
)`

// openDB opens the database at path, creating its directory and the schema
// if missing.
func openDB(path string) (*sql.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	dsn := path + "?" + url.Values{"_pragma": pragmas}.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// One connection serialises this process's statements, so concurrent
	// requests queue in the pool instead of failing with SQLITE_BUSY.
	// busy_timeout covers the other processes that open the file: the
	// Litestream sidecar's checkpoints, and a sqlite3 shell.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema in %s: %w", path, err)
	}
	return db, nil
}

// readOnlyTimeout is the busy timeout of a read replica's connections, in
// ms: the follower holds its lock while it applies a batch.
const readOnlyTimeout = "busy_timeout(5000)"

// openReadOnlyDB opens the copy of a database that a Litestream follower
// keeps on a read replica (docs/replicas.md, "Decision"). It asks SQLite
// for a read-only open and sets nothing but the busy timeout: asking for
// WAL fails on a read-only connection, and the copy's schema is the
// writer's to change. It keeps no idle connection, so every query opens
// the file afresh: the follower writes pages in place without always
// telling other connections, and a kept page cache would go stale. Nothing
// is opened here, so an app whose copy is not there yet still starts, and
// its /up says so.
func openReadOnlyDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", fileURI(path, url.Values{"mode": {"ro"}, "_pragma": {readOnlyTimeout}}))
	if err != nil {
		return nil, fmt.Errorf("open database %s read-only: %w", path, err)
	}
	db.SetMaxIdleConns(0)
	return db, nil
}

// fileURI is SQLite's URI filename for path with query: the path escaped,
// so that a '?' or '#' in it is not read as the query's start.
func fileURI(path string, query url.Values) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + query.Encode()
}

// migrate runs one statement on the database at path.
func migrate(path, statement string) error {
	db, err := openDB(path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(statement); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
