package deploy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// The words of results and health are schema version 1 of the --json
// documents (docs/json.md): scripts match on them, so they must not change.
func TestResultAndHealthJSONWords(t *testing.T) {
	for r, want := range map[Result]string{
		0:          `""`,
		Deployed:   `"deployed"`,
		RolledBack: `"rolled_back"`,
		Failed:     `"failed"`,
		Unchanged:  `"unchanged"`,
		Superseded: `"superseded"`,
	} {
		b, err := json.Marshal(r)
		if err != nil || string(b) != want {
			t.Errorf("Result %d encodes as %s (%v), want %s", int(r), b, err, want)
		}
		var back Result
		if err := json.Unmarshal(b, &back); err != nil || back != r {
			t.Errorf("%s decodes as %d (%v), want %d", b, int(back), err, int(r))
		}
		if s := r.String(); `"`+s+`"` != want {
			t.Errorf("Result %d String() = %q, want %s", int(r), s, want)
		}
	}
	for h, want := range map[Health]string{
		NotChecked: `""`,
		Healthy:    `"healthy"`,
		Unhealthy:  `"unhealthy"`,
	} {
		b, err := json.Marshal(h)
		if err != nil || string(b) != want {
			t.Errorf("Health %d encodes as %s (%v), want %s", int(h), b, err, want)
		}
		var back Health
		if err := json.Unmarshal(b, &back); err != nil || back != h {
			t.Errorf("%s decodes as %d (%v), want %d", b, int(back), err, int(h))
		}
	}
	if NotChecked.String() != "not checked" || Healthy.String() != "healthy" || Unhealthy.String() != "unhealthy" {
		t.Errorf("Health strings: %q %q %q", NotChecked, Healthy, Unhealthy)
	}

	if _, err := json.Marshal(Result(99)); err == nil {
		t.Error("an invalid Result encoded")
	}
	if _, err := json.Marshal(Health(99)); err == nil {
		t.Error("an invalid Health encoded")
	}
	var r Result
	if err := json.Unmarshal([]byte(`"Deployed"`), &r); err == nil {
		t.Error(`"Deployed" decoded as a Result`)
	}
}

// A whole document keeps its words, and health "" for a swap that ended
// before the check: present, not left out.
func TestReportJSONWords(t *testing.T) {
	r := &Report{Command: "deploy", Service: "shop", Version: "v2", StartedAt: time.Now(), Hosts: []OutcomeReport{}}
	r.Add([]Outcome{
		{Host: "web1", Role: "web", From: "v1", To: "v2", Result: Deployed, Health: Healthy},
		{Host: "web2", Role: "web", From: "v1", To: "v2", Result: Unchanged, Health: Healthy},
		{Host: "web3", Role: "web", From: "v1", To: "v2", Result: Failed, Err: errors.New("another container writes to the volume")},
		{Host: "web4", Role: "web", From: "v1", To: "v2", Result: Failed, Health: Unhealthy, Err: &restoredError{cause: errors.New("boom"), version: "shop-web-v1"}},
		{Host: "web5", Role: "web", From: "v2", To: "v1", Result: RolledBack, Health: Healthy},
	})
	r.Finish(errors.New("2 of 5 swaps failed"))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Result string `json:"result"`
		Hosts  []map[string]any
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Result != "failed" {
		t.Errorf("result %q, want failed", doc.Result)
	}
	want := [][2]string{{"deployed", "healthy"}, {"unchanged", "healthy"}, {"failed", ""}, {"failed", "unhealthy"}, {"rolled_back", "healthy"}}
	for i, h := range doc.Hosts {
		health, ok := h["health"]
		if h["result"] != want[i][0] || !ok || health != want[i][1] {
			t.Errorf("host %d: result %v, health %v (present: %v), want %q, %q", i, h["result"], health, ok, want[i][0], want[i][1])
		}
	}
	if md := r.Markdown(); !strings.Contains(md, "| web3 | web | `v1` | `v2` | 0.0s | not checked | ❌ failed |") ||
		!strings.Contains(md, "| web2 | web | `v1` | `v2` | 0.0s | healthy | ✅ unchanged |") ||
		!strings.Contains(md, "| web5 | web | `v2` | `v1` | 0.0s | healthy | ↩️ rolled_back |") {
		t.Errorf("summary:\n%s", md)
	}

	for cmd, want := range map[string]string{"deploy": `"result":"deployed"`, "rollback": `"result":"rolled_back"`} {
		r := &Report{Command: cmd}
		r.Add([]Outcome{{Result: Deployed}})
		r.Finish(nil)
		if b, _ := json.Marshal(r); !strings.Contains(string(b), want) {
			t.Errorf("%s: %s lacks %s", cmd, b, want)
		}
	}
	r = &Report{Command: "deploy", SupersededBy: &Newer{Command: "deploy", Version: "v3"}}
	r.Finish(nil)
	if b, _ := json.Marshal(r); !strings.Contains(string(b), `"result":"superseded"`) || !strings.Contains(r.Markdown(), "### ⏭️ deploy") {
		t.Errorf("superseded: %s\n%s", b, r.Markdown())
	}
}
