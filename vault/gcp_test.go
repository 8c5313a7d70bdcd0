package vault

import (
	"strings"
	"testing"
)

func gcpPayload(data string) string {
	return `{"name":"projects/1/secrets/s/versions/1","payload":{"data":"` + data + `","dataCrc32c":"1"}}`
}

func TestGCPSecretManagerFetch(t *testing.T) {
	f := &fake{answers: answers(
		"gcloud auth list --format=json", `[{"account":"me@example.com","status":"ACTIVE"}]`,
		"gcloud secrets versions access latest --secret=db --format=json", gcpPayload("c2VjcmV0MQ=="),
		"gcloud secrets versions access 7 --secret=key --project=other --account=me@example.com --impersonate-service-account=sa@example.com,sa2@example.com --format=json", gcpPayload("dmFsdWU="),
	)}
	if got := fetchJSON(t, f, Request{Adapter: "gcp", Account: "default", Secrets: []string{"db"}}); got != `{"default/db":"secret1"}` {
		t.Errorf("default: %s", got)
	}
	f.ran = nil
	got := fetchJSON(t, f, Request{Adapter: "gcp", Account: "me@example.com|sa@example.com,sa2@example.com", From: "other", Secrets: []string{"key/7"}})
	if got != `{"other/key":"value"}` {
		t.Errorf("impersonated: %s", got)
	}
	wantRan(t, f, "gcloud --version", "gcloud auth list --format=json",
		"gcloud secrets versions access 7 --secret=key --project=other --account=me@example.com --impersonate-service-account=sa@example.com,sa2@example.com --format=json")
}

func TestGCPSecretManagerLoginAndErrors(t *testing.T) {
	f := &fake{answers: answers("gcloud auth list --format=json", "[]")}
	if msg := fetchErr(t, f, Request{Adapter: "gcp", Account: "default", Secrets: []string{"db"}}); !strings.Contains(msg, "could not login to gcloud") {
		t.Errorf("login: %s", msg)
	}
	wantRan(t, f, "gcloud --version", "gcloud auth list --format=json", "gcloud auth login", "gcloud auth list --format=json")
	f = &fake{answers: answers("gcloud auth list --format=json", `[{}]`), fail: map[string]bool{"gcloud secrets versions access latest --secret=db --project=p --format=json": true}}
	if msg := fetchErr(t, f, Request{Adapter: "gcp", Account: "default", Secrets: []string{"p/db"}}); !strings.Contains(msg, "Could not read p/db from Google Secret Manager") {
		t.Errorf("missing: %s", msg)
	}
}
