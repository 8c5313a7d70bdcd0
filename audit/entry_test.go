package audit

import (
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
