package audit

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	at := time.Date(2026, 11, 21, 7, 30, 0, 0, time.FixedZone("CET", 3600))
	for _, tt := range []struct {
		e    Entry
		want string
	}{
		{Entry{Time: at, Performer: "alice", Command: "deploy", Versions: "abc123 -> def456", Result: "ok"},
			"2026-11-21T06:30:00Z alice deploy abc123 -> def456: ok"},
		{Entry{Time: at, Performer: "alice", Command: "app stop"},
			"2026-11-21T06:30:00Z alice app stop"},
		{Entry{Time: at, Performer: "octocat", Command: "deploy web", Versions: "v62 -> v63", Order: "run 63 of acme/shop/.github/workflows/deploy.yml", Result: "deployed"},
			"2026-11-21T06:30:00Z octocat deploy web v62 -> v63 (run 63 of acme/shop/.github/workflows/deploy.yml): deployed"},
		{Entry{Time: at, Performer: "bob\tsmith", Command: "rollback", Versions: "abc123", Result: "failed: health check timed out\nstderr: boom\r\n"},
			`2026-11-21T06:30:00Z bob\tsmith rollback abc123: failed: health check timed out\nstderr: boom\r\n`},
		{Entry{Time: at, Performer: "eve", Command: "deploy", Result: "ok\x00\x1b[2J\u2028x\u0085"},
			`2026-11-21T06:30:00Z eve deploy: ok\u0000\u001b[2J\u2028x\u0085`},
	} {
		if got := tt.e.Line(); got != tt.want {
			t.Errorf("Line() = %q, want %q", got, tt.want)
		}
	}
}

func TestLineIsOneLine(t *testing.T) {
	forged := "ok\n2026-11-21T06:31:00Z mallory deploy evil: ok"
	line := Entry{Performer: "a\nb", Command: "deploy\r", Versions: "v\n", Result: forged}.Line()
	if strings.ContainsAny(line, "\n\r") {
		t.Errorf("Line() = %q spans lines", line)
	}
}

// TestStoredLineCannotSplitOrForge is the log's safety: a message with line
// breaks in it (an error from a remote command, say) is stored as one line
// of JSON, which reads back as exactly the entry that was written, never as
// two entries, whatever it tries to pass for.
func TestStoredLineCannotSplitOrForge(t *testing.T) {
	at := time.Date(2026, 11, 21, 6, 30, 0, 0, time.UTC)
	forgedJSON := `{"time":"2026-11-21T06:31:00Z","performer":"mallory","command":"deploy web","versions":"evil","result":"deployed"}`
	forgedText := "2026-11-21T06:31:00Z mallory deploy web evil: deployed"
	e := Entry{Time: at, Performer: "bob\nsmith", Command: "deploy web\r", Versions: "v1 -> v2\u2028",
		Result: "failed: boom\n" + forgedJSON + "\r\n" + forgedText + "\u2029\x00\x1b[2J\u0085"}
	line, err := e.marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(line, "\n\r\x00\x1b") || bytes.Contains(line, []byte("\u2028")) || bytes.Contains(line, []byte("\u2029")) {
		t.Errorf("stored line %q holds a line break or control character", line)
	}
	got := parseLog(string(line) + "\n")
	if len(got) != 1 || !reflect.DeepEqual(got[0], e) {
		t.Errorf("read back %#v, want only %#v", got, e)
	}
}

func TestStoredLineIsJSON(t *testing.T) {
	at := time.Date(2026, 11, 21, 7, 30, 0, 500_000_000, time.FixedZone("CET", 3600))
	line, err := Entry{Time: at, Performer: "Alice Smith <alice@example.com>", Command: "deploy web", Versions: "abc123 -> def456", Result: "deployed"}.marshal()
	if err != nil {
		t.Fatal(err)
	}
	// UTC, every key present (even empty ones), and <> left readable.
	want := `{"time":"2026-11-21T06:30:00.5Z","performer":"Alice Smith <alice@example.com>","command":"deploy web","versions":"abc123 -> def456","result":"deployed"}`
	if string(line) != want {
		t.Errorf("stored line\n%s\nwant\n%s", line, want)
	}
	line, _ = Entry{Time: at, Performer: "alice", Command: "app stop"}.marshal()
	if want := `{"time":"2026-11-21T06:30:00.5Z","performer":"alice","command":"app stop","versions":"","result":""}`; string(line) != want {
		t.Errorf("stored line\n%s\nwant\n%s", line, want)
	}
	// A deploy's order is a key of its own, added within schema version 1.
	line, _ = Entry{Time: at, Performer: "octocat", Command: "deploy web", Versions: "v63", Result: "deployed", Order: "run 63 of acme/shop/.github/workflows/deploy.yml"}.marshal()
	if want := `{"time":"2026-11-21T06:30:00.5Z","performer":"octocat","command":"deploy web","versions":"v63","result":"deployed","order":"run 63 of acme/shop/.github/workflows/deploy.yml"}`; string(line) != want {
		t.Errorf("stored line\n%s\nwant\n%s", line, want)
	}
}

// TestParseLegacy reads a log as older ship versions wrote it, text lines,
// mixed with JSON ones: nothing is lost, and ship audit shows each legacy
// line as it was.
func TestParseLegacy(t *testing.T) {
	at := time.Date(2026, 11, 21, 6, 30, 0, 0, time.UTC)
	log := "2026-11-21T06:30:00Z Alice Smith <alice@example.com> deploy web abc123 -> def456: deployed\n" +
		`2026-11-21T06:30:00Z bob\tsmith rollback web abc123: failed: health check timed out\nstderr: boom` + "\n" +
		"\n" +
		"garbage without a time\n" +
		`{"time":"2026-11-21T06:30:00Z","performer":"truncated` + "\n" +
		`{"time":"2026-11-21T07:30:00+01:00","performer":"carol","command":"db restore","versions":"","result":"restored the latest replica","future_field":1}` + "\n"
	want := []Entry{
		{Time: at, Text: "Alice Smith <alice@example.com> deploy web abc123 -> def456: deployed"},
		{Time: at, Text: `bob\tsmith rollback web abc123: failed: health check timed out\nstderr: boom`},
		{Text: "garbage without a time"},
		{Text: `{"time":"2026-11-21T06:30:00Z","performer":"truncated`},
		{Time: at, Performer: "carol", Command: "db restore", Result: "restored the latest replica"},
	}
	got := parseLog(log)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseLog =\n%#v\nwant\n%#v", got, want)
	}
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	for i, j := range []int{0, 1, 3, 4} {
		if got[i].Line() != lines[j] {
			t.Errorf("legacy Line() = %q, want the line as written, %q", got[i].Line(), lines[j])
		}
	}
	if l := got[4].Line(); l != "2026-11-21T06:30:00Z carol db restore: restored the latest replica" {
		t.Errorf("Line() = %q", l)
	}
	b, err := got[0].marshal()
	if want := `{"time":"2026-11-21T06:30:00Z","performer":"","command":"","versions":"","result":"","text":"Alice Smith <alice@example.com> deploy web abc123 -> def456: deployed"}`; err != nil || string(b) != want {
		t.Errorf("legacy entry as JSON: %s, %v; want %s", b, err, want)
	}
	if b, _ := json.Marshal(got[2]); strings.Contains(string(b), `"time"`) {
		t.Errorf("a legacy entry without a time has one in JSON: %s", b)
	}
}
