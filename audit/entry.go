// Package audit keeps a log on every host of what ship did there: one line
// per action, appended under a lock, shown by ship audit.
package audit

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Entry is one action. Its fields are written to the host as given, so
// callers must never put secrets or env values in them: an Entry carries
// names, versions and outcomes only.
type Entry struct {
	Time      time.Time
	Performer string // who, as Performer returns
	Command   string // e.g. "deploy", "rollback", "app stop"
	Versions  string // e.g. "abc123 -> def456", or "abc123"
	Result    string // e.g. "ok", "failed: health check timed out", "rolled back"
}

// Line is the entry as one log line, e.g.
// "2026-11-21T06:30:00Z alice deploy abc123 -> def456: ok". Empty fields are
// left out. Control characters are escaped, so that an error message with
// newlines in it can neither split an entry nor forge another.
func (e Entry) Line() string {
	words := []string{e.Time.UTC().Format(time.RFC3339)}
	for _, f := range []string{e.Performer, e.Command, e.Versions} {
		if f != "" {
			words = append(words, oneLine(f))
		}
	}
	line := strings.Join(words, " ")
	if e.Result != "" {
		line += ": " + oneLine(e.Result)
	}
	return line
}

// oneLine escapes what could break a line: control characters, and the
// Unicode line and paragraph separators some viewers break on.
func oneLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
