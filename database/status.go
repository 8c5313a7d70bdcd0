package database

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
)

// Status is one database's health and its replica's. Reading it takes no
// lock on the database: the header and sizes come from the files, the
// replication state from Litestream.
type Status struct {
	Database    string      `json:"database"`
	HostPath    string      `json:"host_path"`
	Exists      bool        `json:"exists"`
	Size        int64       `json:"size"`
	WALSize     int64       `json:"wal_size"`
	PageSize    int         `json:"page_size"`
	PageCount   int64       `json:"page_count"`
	JournalMode string      `json:"journal_mode"` // "wal", or "rollback" (delete, truncate or persist)
	Replication Replication `json:"replication"`
	Warnings    []string    `json:"warnings"`
}

// Replication is what Litestream says of a database.
type Replication struct {
	Replica     string     `json:"replica"`
	Running     bool       `json:"running"` // the Litestream container runs
	State       string     `json:"state"`   // Litestream's word: "replicating", ...
	LastSync    *time.Time `json:"last_sync,omitempty"`
	LocalTXID   string     `json:"local_txid,omitempty"`
	ReplicaTXID string     `json:"replica_txid,omitempty"`
	LastBackup  *time.Time `json:"last_backup,omitempty"` // newest file in the replica
	LagSeconds  float64    `json:"lag_seconds"`
	Error       string     `json:"error,omitempty"`
}

// autoCheckpointPages is SQLite's default wal_autocheckpoint.
const autoCheckpointPages = 1000

// header is what the first 100 bytes of an SQLite file say.
type header struct {
	pageSize  int
	pageCount int64
	wal       bool
}

func parseHeader(b []byte, fileSize int64) (header, error) {
	if len(b) < 100 || string(b[:16]) != "SQLite format 3\x00" {
		return header{}, fmt.Errorf("not an SQLite 3 database")
	}
	h := header{pageSize: int(binary.BigEndian.Uint16(b[16:18]))}
	if h.pageSize == 1 {
		h.pageSize = 65536
	}
	// Bytes 18 and 19 are the write and read versions: 2 means WAL.
	h.wal = b[18] == 2 && b[19] == 2
	h.pageCount = int64(binary.BigEndian.Uint32(b[28:32]))
	// The in-header size is valid only when the change counter matches
	// "version valid for"; older writers leave it stale.
	if h.pageCount == 0 || !bytes.Equal(b[24:28], b[92:96]) {
		if h.pageSize > 0 {
			h.pageCount = fileSize / int64(h.pageSize)
		}
	}
	return h, nil
}

//go:embed stat.sh
var statScript string

// fileStatus fills in what the files say.
func fileStatus(ctx context.Context, h *host.Host, db DB, s *Status) error {
	out, err := inVolume(ctx, h, db, statScript)
	if err != nil {
		return fmt.Errorf("read %s on %s: %w", db.HostPath, h.Name, err)
	}
	fields := strings.Fields(out)
	if len(fields) == 1 && fields[0] == "missing" {
		return nil
	}
	if len(fields) < 2 {
		return fmt.Errorf("read %s on %s: unexpected output %q", db.HostPath, h.Name, out)
	}
	s.Exists = true
	s.Size, _ = strconv.ParseInt(fields[0], 10, 64)
	s.WALSize, _ = strconv.ParseInt(fields[1], 10, 64)
	var b []byte
	for _, f := range fields[2:] {
		n, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("read %s on %s: unexpected output %q", db.HostPath, h.Name, out)
		}
		b = append(b, byte(n))
	}
	hd, err := parseHeader(b, s.Size)
	if err != nil {
		return fmt.Errorf("%s: %w", db.HostPath, err)
	}
	s.PageSize, s.PageCount = hd.pageSize, hd.pageCount
	s.JournalMode = "rollback"
	if hd.wal {
		s.JournalMode = "wal"
	}
	return nil
}

// Statuses reports every database of the litestream section.
func Statuses(ctx context.Context, h *host.Host, c *config.Config, now time.Time) ([]Status, error) {
	dbs, err := Locate(ctx, h, c)
	if err != nil {
		return nil, err
	}
	repl := replication(ctx, h, c, dbs, now)
	var out []Status
	for _, db := range dbs {
		s := Status{Database: db.Path, HostPath: db.HostPath, Warnings: []string{}}
		if err := fileStatus(ctx, h, db, &s); err != nil {
			return nil, err
		}
		s.Replication = repl[db.Path]
		s.Replication.Replica = db.Replica
		warn(&s, c.Litestream.LagWarning, now)
		out = append(out, s)
	}
	return out, nil
}

// warn adds the warnings a user must act on.
func warn(s *Status, lagWarning time.Duration, now time.Time) {
	add := func(format string, args ...any) { s.Warnings = append(s.Warnings, fmt.Sprintf(format, args...)) }
	if !s.Exists {
		add("the database file does not exist")
		return
	}
	// SQLite checkpoints once the WAL holds 1000 pages: a smaller WAL
	// is not stuck, however small the database.
	if s.WALSize > s.Size && s.WALSize > int64(autoCheckpointPages*s.PageSize) {
		add("the WAL (%s) is larger than the database (%s): checkpoints are not completing, most likely because a long read transaction holds them back", HumanBytes(s.WALSize), HumanBytes(s.Size))
	}
	if s.JournalMode != "wal" {
		add("journal mode is %s, not WAL: Litestream needs WAL, and readers block the writer (PRAGMA journal_mode=WAL)", s.JournalMode)
	}
	r := s.Replication
	switch {
	case !r.Running:
		add("Litestream is not running: nothing is being backed up (ship accessory boot litestream)")
	case r.Error != "":
		add("Litestream's state is unknown: %s", r.Error)
	case r.State != "replicating":
		add("Litestream is %s, not replicating", r.State)
	}
	if lag := time.Duration(r.LagSeconds * float64(time.Second)); lag > lagWarning {
		add("the replica is %s behind (lag_warning is %s)", lag.Round(time.Second), lagWarning)
	} else if r.Running && r.LastSync != nil && now.Sub(*r.LastSync) > lagWarning {
		add("Litestream last synced %s ago (lag_warning is %s)", now.Sub(*r.LastSync).Round(time.Second), lagWarning)
	}
}

// replication asks the running Litestream, inside its container, for each
// database's state: the last sync from its control socket, the local
// position from its status, the replica's position from the replica.
func replication(ctx context.Context, h *host.Host, c *config.Config, dbs []DB, now time.Time) map[string]Replication {
	out := map[string]Replication{}
	fail := func(msg string, running bool) map[string]Replication {
		for _, db := range dbs {
			out[db.Path] = Replication{Running: running, State: "unknown", Error: msg}
		}
		return out
	}
	a := Accessory(c)
	info, err := h.Docker.ContainerInspect(ctx, spec.AccessoryName(c, a))
	if err != nil || !info.State.Running {
		for _, db := range dbs {
			out[db.Path] = Replication{State: "stopped"}
		}
		return out
	}
	if c.Litestream.Version03() {
		return fail("Litestream 0.3 cannot report its state; use 0.5", true)
	}
	exec := func(args ...string) ([]byte, error) {
		var stdout, stderr bytes.Buffer
		status, err := accessories.Exec(ctx, h, c, a, append([]string{"litestream"}, args...), &stdout, &stderr)
		if err == nil && status != 0 {
			err = fmt.Errorf("litestream %s: %s", args[0], strings.TrimSpace(stderr.String()+stdout.String()))
		}
		return stdout.Bytes(), err
	}
	var list struct {
		Databases []struct {
			Path       string     `json:"path"`
			Status     string     `json:"status"`
			LastSyncAt *time.Time `json:"last_sync_at"`
		} `json:"databases"`
	}
	socket, noSocket := config.LitestreamSocket, ""
	if w := c.Litestream.Written; w != nil {
		socket = w.Socket
		noSocket = fmt.Sprintf("the litestream.yml of accessory %s enables no control socket, which ship db status asks for the last sync: "+
			"add socket: {enabled: true} to %s", w.Accessory, w.File)
	}
	var b []byte
	if socket != "" {
		b, err = exec("list", "-socket", socket, "-json")
		if err == nil {
			err = json.Unmarshal(b, &list)
		}
		if err != nil {
			return fail(err.Error(), true)
		}
	}
	var local []struct {
		Database  string `json:"database"`
		LocalTXID string `json:"local_txid"`
	}
	b, err = exec(append(append([]string{"status"}, c.Litestream.ConfigArgs()...), "-json")...)
	if err == nil {
		err = json.Unmarshal(b, &local)
	}
	if err != nil {
		return fail(err.Error(), true)
	}
	for _, db := range dbs {
		r := Replication{Running: true, State: "not configured"}
		if socket == "" {
			r.State, r.Error = "unknown", noSocket
		}
		for _, d := range list.Databases {
			if d.Path == db.Litestream {
				r.State, r.LastSync = d.Status, d.LastSyncAt
			}
		}
		for _, d := range local {
			if d.Database == db.Litestream {
				r.LocalTXID = d.LocalTXID
			}
		}
		var files []struct {
			MaxTXID   string    `json:"max_txid"`
			Timestamp time.Time `json:"timestamp"`
		}
		b, err := exec(ltxArgs(c.Litestream, db)...)
		if err == nil {
			err = json.Unmarshal(b, &files)
		}
		if err != nil {
			r.Error = err.Error()
		}
		for _, f := range files {
			if f.MaxTXID > r.ReplicaTXID { // fixed-width hex: text order is number order
				r.ReplicaTXID = f.MaxTXID
			}
			if r.LastBackup == nil || f.Timestamp.After(*r.LastBackup) {
				t := f.Timestamp
				r.LastBackup = &t
			}
		}
		// Behind means local transactions the replica lacks; they have
		// waited at most since the last successful sync.
		if r.LocalTXID > r.ReplicaTXID && r.LastSync != nil {
			r.LagSeconds = now.Sub(*r.LastSync).Seconds()
		}
		out[db.Path] = r
	}
	return out
}

// ltxArgs list a database's files in its replica: by the database's path
// in a hand-written configuration, whose credentials may be in variables
// of any name; by the replica's URL for the section's.
func ltxArgs(l *config.Litestream, db DB) []string {
	args := []string{"ltx", "-json", "-level", "all"}
	if l.Written != nil {
		return append(append(args, l.ConfigArgs()...), db.Litestream)
	}
	return append(args, replicaURL(l, db.Path))
}

// replicaURL is a database's replica as a URL Litestream takes on its
// command line without a config: the S3 settings ride in the query.
func replicaURL(l *config.Litestream, db string) string {
	u, err := url.Parse(l.ReplicaURL(db))
	if err != nil || u.Scheme != "s3" {
		return l.ReplicaURL(db)
	}
	q := u.Query()
	if l.Replica.Endpoint != "" {
		q.Set("endpoint", l.Replica.Endpoint)
	}
	if l.Replica.Region != "" {
		q.Set("region", l.Replica.Region)
	}
	if l.Replica.ForcePathStyle {
		q.Set("forcePathStyle", "true")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// HumanBytes prints a size the way people read it.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// ReplicaArg names a database's replica to a litestream command as
// ltxArgs does: its path in a hand-written configuration (with ConfigArgs),
// else the replica's URL with the S3 settings in its query.
func ReplicaArg(l *config.Litestream, db DB) string {
	if l.Written != nil {
		return db.Litestream
	}
	return replicaURL(l, db.Path)
}
