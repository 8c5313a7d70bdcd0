// Package audit keeps a log on every host of what ship did there: one JSON
// object per line (JSON Lines), appended under a lock, shown by ship audit.
package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Entry is one action. Its fields are written to the host as given, so
// callers must never put secrets or env values in them: an Entry carries
// names, versions and outcomes only.
//
// On the host an entry is one line of JSON, {"time", "performer",
// "command", "versions", "result"}; ship audit --json prints entries with
// the same keys. Within schema version 1 keys are only ever added.
type Entry struct {
	Time      time.Time `json:"time,omitzero"` // UTC; zero only for a legacy line without a time
	Performer string    `json:"performer"`     // who, as Performer returns
	Command   string    `json:"command"`       // e.g. "deploy web", "rollback web", "db restore"
	Versions  string    `json:"versions"`      // e.g. "abc123 -> def456", or "abc123"
	Result    string    `json:"result"`        // e.g. "deployed", "failed: health check timed out"
	// Order is a deploy's place among its source's deploys, for people:
	// "run 63 of acme/shop/.github/workflows/deploy.yml", "commit
	// 4f9c2e1a8b3d on main". Empty for other commands, and for deploys
	// without a source (queue.Order).
	Order string `json:"order,omitempty"`
	// Text is a legacy entry: a line that is not JSON, as ship wrote them
	// before the log became JSON Lines. It holds the line after its leading
	// time (parsed into Time, when there is one); the other fields are
	// empty, since performers contain spaces and such lines cannot be split
	// back into fields reliably.
	Text string `json:"text,omitempty"`
}

// Line is the entry as one line for people, e.g.
// "2026-11-21T06:30:00Z alice deploy abc123 -> def456: ok", or with an
// order "… abc123 -> def456 (run 63 of …): ok". Empty fields are left out; a legacy entry is its line as it was written. Control characters
// are escaped, so that an error message with newlines in it can neither
// split an entry nor forge another on a terminal.
func (e Entry) Line() string {
	if e.Text != "" {
		if e.Time.IsZero() {
			return oneLine(e.Text)
		}
		return e.Time.UTC().Format(time.RFC3339) + " " + oneLine(e.Text)
	}
	words := []string{e.Time.UTC().Format(time.RFC3339)}
	for _, f := range []string{e.Performer, e.Command, e.Versions} {
		if f != "" {
			words = append(words, oneLine(f))
		}
	}
	if e.Order != "" {
		words = append(words, "("+oneLine(e.Order)+")")
	}
	line := strings.Join(words, " ")
	if e.Result != "" {
		line += ": " + oneLine(e.Result)
	}
	return line
}

// marshal is the entry as it is stored: one line of JSON, without the
// newline, its time in UTC. JSON escapes every control character (and
// U+2028, U+2029), so the line holds no line break whatever the fields
// hold. <, > and & are left as they are, for people who read the file.
func (e Entry) marshal() ([]byte, error) {
	e.Time = e.Time.UTC()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// parse reads one stored line: a JSON object, or else a legacy line,
// "TIME REST", kept whole in Text (after the time, if it has one).
func parse(line string) Entry {
	var e Entry
	if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &e) == nil {
		e.Time = e.Time.UTC()
		return e
	}
	if first, rest, _ := strings.Cut(line, " "); first != "" {
		if t, err := time.Parse(time.RFC3339, first); err == nil {
			return Entry{Time: t.UTC(), Text: rest}
		}
	}
	return Entry{Text: line}
}

// parseLog reads the lines of a log; blank lines carry nothing and are
// skipped.
func parseLog(s string) []Entry {
	var out []Entry
	for line := range strings.Lines(s) {
		line = strings.TrimSuffix(line, "\n")
		if strings.TrimSpace(line) == "" {
			continue
		}
		out = append(out, parse(line))
	}
	return out
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
