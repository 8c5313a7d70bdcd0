package database

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/config"
)

// readHeader is what statScript reads on the host: the first 100 bytes
// and the file's size.
func readHeader(t *testing.T, file string) ([]byte, int64) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 100 {
		t.Fatalf("%s has %d bytes", file, len(b))
	}
	return b[:100], int64(len(b))
}

// The header of a real SQLite file gives its page size (65536 is stored
// as 1), its page count as SQLite counts it, and whether it is in WAL mode.
func TestParseHeader(t *testing.T) {
	needSQLite3(t)
	tests := []struct {
		name     string
		mode     string
		pageSize int
		rows     int
	}{
		{"wal 4096", "wal", 4096, 300},
		{"wal 65536", "wal", 65536, 300},
		{"delete 4096", "delete", 4096, 300},
		{"delete 65536", "delete", 65536, 300},
		{"delete 4096 one page", "delete", 4096, 0},
		{"truncate 4096", "truncate", 4096, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "app.db")
			sql := "PRAGMA page_size = " + strconv.Itoa(tt.pageSize) + "; PRAGMA journal_mode = " + tt.mode + ";"
			if tt.rows > 0 {
				sql += " CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB);" +
					" INSERT INTO t SELECT value, randomblob(300) FROM generate_series(1, " + strconv.Itoa(tt.rows) + ");"
			} else {
				sql += " PRAGMA user_version = 7;"
			}
			sqlite(t, db, sql)
			// The CLI checkpointed the WAL when it closed; make sure.
			sqlite(t, db, "PRAGMA wal_checkpoint(TRUNCATE)")
			want, err := strconv.ParseInt(sqlite(t, db, "PRAGMA page_count"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			b, size := readHeader(t, db)
			h, err := parseHeader(b, size)
			if err != nil {
				t.Fatalf("parseHeader: %v", err)
			}
			if h.pageSize != tt.pageSize {
				t.Errorf("pageSize = %d, want %d", h.pageSize, tt.pageSize)
			}
			if h.pageCount != want {
				t.Errorf("pageCount = %d, PRAGMA page_count = %d", h.pageCount, want)
			}
			if h.pageCount != size/int64(tt.pageSize) {
				t.Errorf("pageCount = %d, file has %d pages", h.pageCount, size/int64(tt.pageSize))
			}
			if h.wal != (tt.mode == "wal") {
				t.Errorf("wal = %v in journal mode %s", h.wal, tt.mode)
			}
		})
	}
}

// A header whose size field is stale (the change counter does not match
// "version valid for", as older writers leave it) or zero is not trusted:
// the page count comes from the file's size.
func TestParseHeaderStaleSize(t *testing.T) {
	needSQLite3(t)
	db := filepath.Join(t.TempDir(), "app.db")
	sqlite(t, db, "PRAGMA page_size = 4096; CREATE TABLE t(b); INSERT INTO t SELECT randomblob(1000) FROM generate_series(1, 40);")
	b, size := readHeader(t, db)
	pages := size / 4096

	stale := bytes.Clone(b)
	copy(stale[28:32], []byte{0, 0, 0x10, 0}) // 4096 pages: wrong
	stale[95]++                               // version-valid-for no longer matches
	if h, err := parseHeader(stale, size); err != nil || h.pageCount != pages {
		t.Errorf("stale header: pageCount = %d, %v; want %d from the file size", h.pageCount, err, pages)
	}

	zero := bytes.Clone(b)
	copy(zero[28:32], []byte{0, 0, 0, 0})
	if h, err := parseHeader(zero, size); err != nil || h.pageCount != pages {
		t.Errorf("zero size in header: pageCount = %d, %v; want %d", h.pageCount, err, pages)
	}
}

func TestParseHeaderNotSQLite(t *testing.T) {
	tests := map[string][]byte{
		"empty":        nil,
		"text":         bytes.Repeat([]byte("hello world\n"), 20),
		"short header": []byte("SQLite format 3\x00\x10\x00"),
		"sqlite 2":     append([]byte("** This file contains an SQLite 2.1 database **"), make([]byte, 100)...),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if h, err := parseHeader(b, int64(len(b))); err == nil {
				t.Errorf("parseHeader = %+v, want an error", h)
			}
		})
	}
}

// warn says what the user must act on, and nothing else.
func TestWarn(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	recent := now.Add(-5 * time.Second)
	old := now.Add(-10 * time.Minute)
	healthy := func() Status {
		return Status{
			Exists: true, Size: 10 << 20, WALSize: 1 << 20, PageSize: 4096, PageCount: 2560, JournalMode: "wal",
			Replication: Replication{Running: true, State: "replicating", LastSync: &recent},
		}
	}
	tests := []struct {
		name   string
		change func(s *Status)
		want   []string // one substring per warning, in order
	}{
		{"healthy", func(s *Status) {}, nil},
		{"WAL larger than a small database, below 1000 pages", func(s *Status) {
			s.Size, s.WALSize = 8192, 2<<20 // 512 pages of 4 KiB
		}, nil},
		{"WAL of exactly 1000 pages", func(s *Status) {
			s.Size, s.WALSize = 8192, 1000*4096
		}, nil},
		{"WAL above the database and 1000 pages", func(s *Status) {
			s.Size, s.WALSize = 1<<20, 10<<20
		}, []string{"checkpoints are not completing"}},
		{"big WAL, bigger database", func(s *Status) {
			s.Size, s.WALSize = 200<<20, 100<<20
		}, nil},
		{"big WAL with 64 KiB pages is below 1000 pages", func(s *Status) {
			s.PageSize, s.Size, s.WALSize = 65536, 1<<20, 20<<20
		}, nil},
		{"rollback journal", func(s *Status) {
			s.JournalMode, s.WALSize = "rollback", 0
		}, []string{"not WAL"}},
		{"Litestream not running", func(s *Status) {
			s.Replication = Replication{State: "stopped"}
		}, []string{"Litestream is not running"}},
		{"Litestream state unknown", func(s *Status) {
			s.Replication.Error = "litestream list: connection refused"
		}, []string{"connection refused"}},
		{"Litestream not replicating", func(s *Status) {
			s.Replication.State = "not configured"
		}, []string{"not configured, not replicating"}},
		{"lag above lag_warning", func(s *Status) {
			s.Replication.LagSeconds = 90
		}, []string{"1m30s behind"}},
		{"lag below lag_warning", func(s *Status) {
			s.Replication.LagSeconds = 30
		}, nil},
		{"last sync long ago", func(s *Status) {
			s.Replication.LastSync = &old
		}, []string{"last synced 10m0s ago"}},
		{"missing file", func(s *Status) {
			*s = Status{Replication: Replication{State: "stopped"}}
		}, []string{"does not exist"}},
		{"missing file, healthy Litestream", func(s *Status) {
			s.Exists = false
		}, []string{"does not exist"}},
		{"everything wrong", func(s *Status) {
			s.Size, s.WALSize, s.JournalMode = 1<<20, 10<<20, "rollback"
			s.Replication = Replication{State: "stopped", LagSeconds: 600}
		}, []string{"checkpoints are not completing", "not WAL", "Litestream is not running", "behind"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := healthy()
			tt.change(&s)
			warn(&s, time.Minute, now)
			if len(s.Warnings) != len(tt.want) {
				t.Fatalf("warnings = %q, want %d matching %q", s.Warnings, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(s.Warnings[i], w) {
					t.Errorf("warning %d = %q, want it to mention %q", i, s.Warnings[i], w)
				}
			}
		})
	}
}

// The checkpoint warning names both sizes the way people read them.
func TestWarnCheckpointSizes(t *testing.T) {
	s := Status{Exists: true, Size: 1 << 20, WALSize: 10 << 20, PageSize: 4096, JournalMode: "wal",
		Replication: Replication{Running: true, State: "replicating"}}
	warn(&s, time.Minute, time.Now())
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "WAL (10.0 MiB)") || !strings.Contains(s.Warnings[0], "database (1.0 MiB)") {
		t.Errorf("warnings = %q", s.Warnings)
	}
}

// On its command line Litestream gets the S3 settings in the replica URL's
// query; other replicas are left as they are.
func TestReplicaURL(t *testing.T) {
	const db = "/rails/storage/production.sqlite3"
	tests := []struct {
		name    string
		replica config.LitestreamReplica
		scheme  string
		host    string
		path    string
		query   url.Values
	}{
		{
			name:    "s3 with every setting",
			replica: config.LitestreamReplica{URL: "s3://backups/shop", Endpoint: "http://10.0.0.9:7070", Region: "eu-central-1", ForcePathStyle: true},
			scheme:  "s3", host: "backups", path: "/shop/production.sqlite3",
			query: url.Values{"endpoint": {"http://10.0.0.9:7070"}, "region": {"eu-central-1"}, "forcePathStyle": {"true"}},
		},
		{
			name:    "s3 with a trailing slash and a region only",
			replica: config.LitestreamReplica{URL: "s3://backups/shop/", Region: "us-east-1"},
			scheme:  "s3", host: "backups", path: "/shop/production.sqlite3",
			query: url.Values{"region": {"us-east-1"}},
		},
		{
			name:    "s3 without settings",
			replica: config.LitestreamReplica{URL: "s3://backups"},
			scheme:  "s3", host: "backups", path: "/production.sqlite3",
			query: url.Values{},
		},
		{
			name:    "endpoint with a query of its own",
			replica: config.LitestreamReplica{URL: "s3://backups/shop", Endpoint: "https://s3.example.com:9000/?a=1&b=2"},
			scheme:  "s3", host: "backups", path: "/shop/production.sqlite3",
			query: url.Values{"endpoint": {"https://s3.example.com:9000/?a=1&b=2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &config.Litestream{Replica: tt.replica}
			got := replicaURL(l, db)
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("replicaURL = %q: %v", got, err)
			}
			if u.Scheme != tt.scheme || u.Host != tt.host || u.Path != tt.path {
				t.Errorf("replicaURL = %q, want %s://%s%s", got, tt.scheme, tt.host, tt.path)
			}
			q := u.Query()
			if len(q) != len(tt.query) {
				t.Errorf("query of %q = %v, want %v", got, q, tt.query)
			}
			for k, v := range tt.query {
				if q.Get(k) != v[0] || len(q[k]) != 1 {
					t.Errorf("query %s of %q = %q, want %q", k, got, q[k], v)
				}
			}
		})
	}

	for _, raw := range []string{"file:///var/backups/shop", "gs://bucket/shop", "abs://account@container/shop"} {
		l := &config.Litestream{Replica: config.LitestreamReplica{URL: raw, Endpoint: "http://x", Region: "r", ForcePathStyle: true}}
		if got, want := replicaURL(l, db), raw+"/production.sqlite3"; got != want {
			t.Errorf("replicaURL(%s) = %q, want %q unchanged", raw, got, want)
		}
	}
}

// A hand-written accessory's replica is listed by the database's path in
// its own configuration, whose credentials may be under any names; the
// section's by the replica's URL.
func TestLtxArgs(t *testing.T) {
	db := DB{Path: "/rails/storage/production.sqlite3", Litestream: "/data/production.sqlite3"}
	written := &config.Litestream{Written: &config.WrittenLitestream{Config: "/etc/litestream.yml", NoExpand: true}}
	if got, want := strings.Join(ltxArgs(written, db), " "), "ltx -json -level all -config /etc/litestream.yml -no-expand-env /data/production.sqlite3"; got != want {
		t.Errorf("hand-written: %q, want %q", got, want)
	}
	section := &config.Litestream{Replica: config.LitestreamReplica{URL: "file:///backups"}}
	if got, want := strings.Join(ltxArgs(section, db), " "), "ltx -json -level all file:///backups/production.sqlite3"; got != want {
		t.Errorf("section: %q, want %q", got, want)
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{1 << 20, "1.0 MiB"},
		{10 << 20, "10.0 MiB"},
		{5 << 30, "5.0 GiB"},
		{3 << 40, "3072.0 GiB"},
	}
	for _, tt := range tests {
		if got := HumanBytes(tt.n); got != tt.want {
			t.Errorf("HumanBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// statScript prints what fileStatus parses: the sizes of the database and
// its WAL, then the header's 100 bytes as decimal numbers; or "missing".
func TestStatScript(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	if out, stderr, err := runInVolume(t, statScript, db); err != nil || strings.TrimSpace(out) != "missing" {
		t.Fatalf("statScript on no file = %q, %v\n%s", out, err, stderr)
	}

	sqlite(t, db, "PRAGMA page_size = 4096; CREATE TABLE t(b); INSERT INTO t SELECT randomblob(2000) FROM generate_series(1, 20);")
	header, size := readHeader(t, db)
	for _, wal := range []int{0, 12345} {
		if wal > 0 {
			if err := os.WriteFile(db+"-wal", make([]byte, wal), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out, stderr, err := runInVolume(t, statScript, db)
		if err != nil {
			t.Fatalf("statScript: %v\n%s", err, stderr)
		}
		f := strings.Fields(out)
		if len(f) != 102 {
			t.Fatalf("statScript printed %d fields, want 102:\n%s", len(f), out)
		}
		if f[0] != strconv.FormatInt(size, 10) || f[1] != strconv.Itoa(wal) {
			t.Errorf("sizes = %s %s, want %d %d", f[0], f[1], size, wal)
		}
		for i, s := range f[2:] {
			if n, err := strconv.Atoi(s); err != nil || byte(n) != header[i] {
				t.Fatalf("byte %d = %q, want %d", i, s, header[i])
			}
		}
	}
}
