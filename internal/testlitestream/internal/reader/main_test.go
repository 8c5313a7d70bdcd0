package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	if s := read(db, false, false); !strings.Contains(s.Err, "no such table") {
		t.Errorf("read of an empty database = %+v, want a missing table error", s)
	}
	for _, q := range []string{
		"CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)",
		"CREATE TABLE writes (n INTEGER PRIMARY KEY)",
		"CREATE TABLE counter (v INTEGER NOT NULL)",
		"INSERT INTO accounts (balance) VALUES (600), (400)",
		"INSERT INTO writes (n) VALUES (1), (2), (5)",
		"INSERT INTO counter (v) VALUES (7)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	want := state{Count: 3, Max: 5, Sum: 1000, Counter: 7, Journal: "delete"}
	for _, shrink := range []bool{false, true} {
		if got := read(db, shrink, true); got != want {
			t.Errorf("read(shrink=%v) = %+v, want %+v", shrink, got, want)
		}
	}
}

func TestSameIgnoresTime(t *testing.T) {
	a := state{Time: 1, Count: 2}
	if !a.same(state{Time: 9, Count: 2}) {
		t.Error("states that differ only in time are not the same")
	}
	if a.same(state{Time: 1, Count: 3}) {
		t.Error("states with different counts are the same")
	}
}
