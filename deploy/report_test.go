package deploy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/redact"
)

func TestReportResult(t *testing.T) {
	restored := &restoredError{cause: errors.New("health check timed out"), version: "v1"}
	for _, tt := range []struct {
		name     string
		command  string
		outcomes []Outcome
		err      error
		want     Result
	}{
		{"all deployed", "deploy", []Outcome{{Result: Deployed}, {Result: Unchanged}}, nil, Deployed},
		{"rollback", "rollback", []Outcome{{Result: RolledBack}}, nil, RolledBack},
		{"new version failed, old restored", "deploy", []Outcome{{Result: Deployed}, {Result: Failed, Err: restored}}, errors.New("1 of 2 swaps failed"), RolledBack},
		{"failed, not restored", "deploy", []Outcome{{Result: Failed, Err: restored}, {Result: Failed, Err: errors.New("stop: timeout")}}, errors.New("2 of 2 swaps failed"), Failed},
		{"rollback target failed", "rollback", []Outcome{{Result: Failed, Err: restored}}, errors.New("1 of 1 swaps failed"), Failed},
		{"never reached the hosts", "deploy", nil, errors.New("ssh: connection refused"), Failed},
		{"post-deploy hook failed", "deploy", []Outcome{{Result: Deployed}}, errors.New("hook post-deploy: exit 1"), Failed},
	} {
		r := &Report{Command: tt.command}
		r.Add(tt.outcomes)
		r.Finish(tt.err)
		if r.Result != tt.want {
			t.Errorf("%s: result %s, want %s", tt.name, r.Result, tt.want)
		}
	}
	r := &Report{Command: "deploy", SupersededBy: &SupersededBy{Command: "deploy", Version: "v3"}}
	r.Finish(errors.New("superseded"))
	if r.Result != Superseded {
		t.Errorf("superseded: result %s", r.Result)
	}
}

func TestReportMarkdownAndJSON(t *testing.T) {
	r := &Report{Command: "deploy", Service: "shop", Version: "abc123", StartedAt: time.Now()}
	r.Add([]Outcome{
		{Host: "web1", Role: "web", From: "v1", To: "abc123", Result: Deployed, Health: Healthy, Took: 1200 * time.Millisecond},
		{Host: "web2", Role: "web", From: "v1", To: "abc123", Result: Failed, Health: Unhealthy, Took: 9 * time.Second,
			Err: &restoredError{cause: errors.New("health check: GET /up: 500 | <b>boom</b>"), version: "shop-web-v1"}},
	})
	r.Finish(errors.New("1 of 2 swaps failed"))
	md := r.Markdown()
	for _, want := range []string{
		"### ↩️ deploy shop: abc123",
		"| web1 | web | `v1` | `abc123` | 1.2s | healthy | ✅ deployed |",
		"| web2 | web | `v1` | `abc123` | 9.0s | unhealthy | ❌ failed, previous version restored |",
		`500 \| &lt;b&gt;boom&lt;/b&gt;; shop-web-v1 is serving again`,
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(b, &doc)
	hosts := doc["hosts"].([]any)
	second := hosts[1].(map[string]any)
	if doc["result"] != "rolled_back" || second["restored"] != true || second["swap_seconds"] != 9.0 || second["health"] != "unhealthy" {
		t.Errorf("json: %s", b)
	}
}

// A secret that Markdown or JSON would escape ("|", "<", quotes) is gone
// from both once the report is redacted, as it is before either is made.
func TestReportRedact(t *testing.T) {
	secret := `p|a<s"s`
	r := &Report{Command: "deploy", Service: "shop", Version: "v2", Performer: "ci " + secret}
	r.Add([]Outcome{{Host: "10.0.0.1", Role: "web", Result: Failed, Err: errors.New("GET /up answered 503 " + secret)}})
	r.Finish(errors.New("1 of 1 swaps failed: " + secret))
	r.Redact(redact.New(secret))
	doc, _ := json.Marshal(r)
	md := r.Markdown()
	for _, text := range []string{string(doc), md} {
		if strings.Contains(text, "a<s") || strings.Contains(text, "a&lt;s") || strings.Contains(text, `a\u003cs`) {
			t.Errorf("the secret, or an escaped form of it, shows:\n%s", text)
		}
	}
	if r.Hosts[0].Error != "GET /up answered 503 [REDACTED]" || r.Performer != "ci [REDACTED]" || !strings.Contains(md, "[REDACTED]") {
		t.Errorf("report after Redact: %+v\n%s", r, md)
	}
}

// Workflow checks a version before it reaches a report; the summary keeps
// any version text anyway, as it keeps every other value.
func TestReportMarkdownKeepsTheVersionText(t *testing.T) {
	for _, result := range []Result{Deployed, RolledBack, Failed} {
		for _, command := range []string{"deploy", "rollback"} {
			r := &Report{Command: command, Service: "shop", Version: "v1|<img src=x>\n# forged", Result: result}
			md := r.Markdown()
			if strings.Contains(md, "<img") || strings.Contains(md, "\n# forged") {
				t.Errorf("%s %s: the version is Markdown:\n%s", command, result, md)
			}
		}
	}
}
