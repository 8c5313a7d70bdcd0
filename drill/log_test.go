package drill

import (
	"testing"
	"time"
)

func TestSummary(t *testing.T) {
	log := `{"time":"2026-12-04T10:00:00Z","ok":true,"problem":"","databases":[{"path":"/data/a.db","ok":true,"rows":{"t":1},"bytes":1000}]}
{"time":"2026-12-05T09:00:00Z","ok":true,"problem":"","databases":[{"path":"/data/a.db","ok":true,"rows":{"t":2},"bytes":4096}]}
{"time":"2026-12-05T11:00:00Z","ok":true,"problem":"","databases":[{"path":"/data/a.db","ok":true,"rows":{"t":3},"bytes":8192}]}
{"time":"2026-12-06T10:00:00Z","ok":false,"problem":"the replica was deleted","databases":[{"path":"/data/a.db","ok":false,"rows":null,"bytes":20480}]}
{"time":"2026-12-06T10:01:00Z","ok":tr`
	entries, err := parseLog(log)
	if err != nil || len(entries) != 4 {
		t.Fatalf("parseLog: %d entries, %v (a torn last line is skipped)", len(entries), err)
	}
	var s Summary
	summarize(&s, entries)
	at := func(e *Entry) string {
		if e == nil {
			return "none"
		}
		return e.Time.Format(time.RFC3339)
	}
	if at(s.Last) != "2026-12-06T10:00:00Z" || at(s.LastOK) != "2026-12-05T11:00:00Z" || at(s.DayBefore) != "2026-12-05T09:00:00Z" {
		t.Errorf("last %s, last ok %s, the day before %s", at(s.Last), at(s.LastOK), at(s.DayBefore))
	}
	if g := s.Growth(); len(g) != 1 || g["/data/a.db"] != 20480-4096 {
		t.Errorf("growth since the day before: %v", g)
	}

	var one Summary
	summarize(&one, entries[3:])
	if one.DayBefore != nil || one.Growth() != nil || one.LastOK != nil {
		t.Errorf("a single failed drill: %+v", one)
	}
}
