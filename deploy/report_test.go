package deploy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/queue"
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
	r := &Report{Command: "deploy", SupersededBy: &Newer{Command: "deploy", Version: "v3"}}
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

// The previous version serving on a schema it does not know is no
// rollback: the report says failed, and the summary says the data was not
// put back. Where it was, the summary says so too.
func TestReportDataUndo(t *testing.T) {
	restored := &restoredError{cause: errors.New("not healthy"), version: "shop-web-v1"}
	notBack := Outcome{Host: "web1", Role: "web", From: "v1", To: "v2", Result: Failed, Health: Unhealthy, Err: restored,
		Data: &DataUndo{Check: SchemaChanged, Note: "disk full", Databases: []DatabaseUndo{{Database: "/data/app.db", SchemaChanged: true}}}}
	back := Outcome{Host: "web2", Role: "web", From: "v1", To: "v2", Result: Failed, Health: Unhealthy, Err: restored,
		Data: &DataUndo{Check: SchemaChanged, Restored: true, Databases: []DatabaseUndo{{Database: "/data/app.db", SchemaChanged: true, SetAside: "/v/app.db.failed-v2-T"}}}}
	unchanged := Outcome{Host: "web3", Role: "web", From: "v1", To: "v2", Result: Failed, Health: Unhealthy, Err: restored,
		Data: &DataUndo{Check: SchemaUnchanged, Databases: []DatabaseUndo{{Database: "/data/app.db"}}}}
	for _, tt := range []struct {
		name     string
		outcomes []Outcome
		want     Result
	}{
		{"data not put back", []Outcome{notBack}, Failed},
		{"data put back", []Outcome{back}, RolledBack},
		{"schema unchanged", []Outcome{unchanged}, RolledBack},
		{"one of each", []Outcome{back, notBack}, Failed},
	} {
		r := &Report{Command: "deploy", Service: "shop", Version: "v2"}
		r.Add(tt.outcomes)
		r.Finish(errors.New("swaps failed"))
		if r.Result != tt.want {
			t.Errorf("%s: result %s, want %s", tt.name, r.Result, tt.want)
		}
	}
	r := &Report{Command: "deploy", Service: "shop", Version: "v2"}
	r.Add([]Outcome{notBack, back, unchanged})
	r.Finish(errors.New("3 of 3 swaps failed"))
	md := r.Markdown()
	for _, want := range []string{
		"| web1 | web | `v1` | `v2` | 0.0s | unhealthy | ❌ failed, schema changed, data NOT restored |",
		"| web2 | web | `v1` | `v2` | 0.0s | unhealthy | ❌ failed, previous version and its data restored |",
		"| web3 | web | `v1` | `v2` | 0.0s | unhealthy | ❌ failed, previous version restored |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	r2 := &Report{Command: "deploy", Service: "shop", Version: "v2"}
	r2.Add([]Outcome{back})
	r2.Finish(errors.New("1 of 1 swaps failed"))
	if md := r2.Markdown(); !strings.Contains(md, "**Rolled back**") || !strings.Contains(md, "the databases were put back as the previous version left them") {
		t.Errorf("summary of a rollback with its data:\n%s", md)
	}
	b, _ := json.Marshal(r)
	var doc struct {
		Hosts []map[string]any `json:"hosts"`
	}
	json.Unmarshal(b, &doc)
	if h := doc.Hosts[1]; h["data_restored"] != true || h["data_check"] != "schema_changed" ||
		h["databases"].([]any)[0].(map[string]any)["set_aside"] != "/v/app.db.failed-v2-T" {
		t.Errorf("json: %s", b)
	}
	if h := doc.Hosts[0]; h["data_restored"] != false {
		t.Errorf("json: %s", b)
	}
	// A swap that never started the new version says nothing of the data.
	r = &Report{Command: "deploy"}
	r.Add([]Outcome{{Host: "web1", Result: Deployed}})
	b, _ = json.Marshal(r)
	if strings.Contains(string(b), "data_check") || strings.Contains(string(b), `"databases"`) || !strings.Contains(string(b), `"data_restored":false`) {
		t.Errorf("json of a deploy: %s", b)
	}
}

// The summary says why a run stepped aside, and when a deliberate run
// replaced a newer version; --json carries the same, and the run's order.
func TestReportOrder(t *testing.T) {
	workflow := queue.GitHubSource("acme/shop/.github/workflows/deploy.yml")
	run := func(n int64, attempt int) *queue.Order {
		return &queue.Order{Source: workflow, Run: n, Attempt: attempt}
	}
	by := &Newer{Command: "deploy", Version: "v63", Performer: "octocat", Order: run(63, 1), Reason: "v63 (run 63) is newer"}
	for _, tt := range []struct {
		name     string
		report   *Report
		outcomes []Outcome
		want     []string
	}{
		{"superseded by a waiting run", &Report{Command: "deploy", Service: "shop", Version: "v62", Order: run(62, 1), SupersededBy: by}, nil, []string{
			"### ⏭️ deploy shop: v62 (run 62)",
			"**Superseded** by deploy `v63` (octocat): v63 (run 63) is newer. It is in the deploy queue too, and deploys instead; this run changed nothing.",
		}},
		{"superseded by a deployed run", &Report{Command: "deploy", Service: "shop", Version: "v60", Order: run(60, 1), SupersededBy: &Newer{
			Command: "deploy", Version: "v63", Performer: "octocat", Order: run(63, 1), Reason: "v63 (run 63) is newer", Deployed: true}}, nil, []string{
			"**Superseded** by deploy `v63` (octocat): v63 (run 63) is newer, and deployed already. This run changed nothing",
			"Re-run this job to deploy `v60` anyway.",
		}},
		{"a re-run replaced a newer run", &Report{Command: "deploy", Service: "shop", Version: "v60", Order: run(60, 2), ReplacedNewer: &Newer{
			Command: "deploy", Version: "v63", Performer: "octocat", Order: run(63, 1), Reason: "v63 (run 63) is newer", Deployed: true}},
			[]Outcome{{Host: "web1", Role: "web", From: "v63", To: "v60", Result: Deployed, Health: Healthy}}, []string{
				"### ✅ deploy shop: v60 (run 60)",
				"**It replaced a newer version**: `v63 (run 63)`, which octocat deployed, is newer than this one.",
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.report
			r.Add(tt.outcomes)
			r.Finish(nil)
			md := r.Markdown()
			for _, want := range tt.want {
				if !strings.Contains(md, want) {
					t.Errorf("summary lacks %q:\n%s", want, md)
				}
			}
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"order":{"source":"github:acme/shop/.github/workflows/deploy.yml","run":6`) ||
				!strings.Contains(string(b), `"reason":"v63 (run 63) is newer"`) {
				t.Errorf("json lacks the order or the reason: %s", b)
			}
		})
	}
}
