// Command reader is the app side of testlitestream's follow-mode tests: a
// static program for a FROM scratch image that reads, in a loop, a SQLite
// database that a Litestream follower keeps updating, and prints one JSON
// line each time what it sees changes. The test reads those lines from the
// container's output: what the reader saw, when, and any error.
//
// Usage: reader DSN persistent|fresh|shrink
//
// DSN is handed to the modernc.org/sqlite driver as is, so the test picks
// the open mode (mode=ro, immutable=1, ...). persistent keeps one
// connection, and its page cache, for the whole run, as an app's pool does;
// fresh opens a new connection for every read; shrink keeps one connection
// but empties its page cache (PRAGMA shrink_memory) before every read.
package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"time"

	_ "modernc.org/sqlite"
)

// state is what one read saw. The writer keeps sum constant and writes
// dense, so any other sum, or count != max, is a torn read.
type state struct {
	Time    int64  `json:"t"` // Unix nanoseconds, when the read ended
	Count   int64  `json:"count"`
	Max     int64  `json:"max"`
	Sum     int64  `json:"sum"`
	Counter int64  `json:"counter"`
	Journal string `json:"journal"`
	Check   string `json:"check,omitempty"`
	Err     string `json:"err,omitempty"`
}

// same says whether two reads saw the same thing, ignoring when.
func (s state) same(o state) bool {
	s.Time, o.Time = 0, 0
	return s == o
}

// query reads everything in one statement, so in one read transaction.
const query = `SELECT
  (SELECT count(*) FROM writes),
  (SELECT coalesce(max(n), 0) FROM writes),
  (SELECT coalesce(sum(balance), 0) FROM accounts),
  (SELECT v FROM counter)`

func main() {
	if len(os.Args) != 3 || (os.Args[2] != "persistent" && os.Args[2] != "fresh" && os.Args[2] != "shrink") {
		fmt.Fprintln(os.Stderr, "usage: reader DSN persistent|fresh|shrink")
		os.Exit(2)
	}
	dsn, conns := os.Args[1], os.Args[2]
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if conns != "fresh" {
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
	} else {
		// No idle connection: every read opens a new one.
		db.SetMaxIdleConns(0)
	}
	enc := json.NewEncoder(os.Stdout)
	var last state
	for i := 0; ; i++ {
		s := read(db, conns == "shrink", i%50 == 0)
		if i == 0 || !s.same(last) || (s.Check != "" && s.Check != "ok") {
			s.Time = time.Now().UnixNano()
			if err := enc.Encode(s); err != nil {
				os.Exit(1)
			}
		}
		last = s
		time.Sleep(2 * time.Millisecond)
	}
}

// read reads the state, with shrink after emptying the page cache, and
// with check also runs quick_check. The check's "ok" is not kept, so that
// lines show only when the data changes.
func read(db *sql.DB, shrink, check bool) state {
	var s state
	if shrink {
		if _, err := db.Exec("PRAGMA shrink_memory"); err != nil {
			s.Err = "shrink_memory: " + err.Error()
			return s
		}
	}
	if err := db.QueryRow(query).Scan(&s.Count, &s.Max, &s.Sum, &s.Counter); err != nil {
		s.Err = err.Error()
		return s
	}
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&s.Journal); err != nil {
		s.Err = "journal_mode: " + err.Error()
		return s
	}
	if check {
		var c string
		if err := db.QueryRow("PRAGMA quick_check").Scan(&c); err != nil {
			s.Err = "quick_check: " + err.Error()
		} else if c != "ok" {
			s.Check = c
		}
	}
	return s
}
