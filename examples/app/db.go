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
