package vault

import (
	"strings"
	"testing"
)

func TestAWSSecretsManagerFetch(t *testing.T) {
	f := &fake{answers: answers(
		"aws secretsmanager batch-get-secret-value --secret-id-list app/db plain num --profile prod --output json",
		`{"SecretValues":[
			{"Name":"app/db","SecretString":"{\"user\":\"u\",\"port\":5432,\"opts\":{\"ssl\":true},\"none\":null}"},
			{"Name":"plain","SecretString":"just-text"},
			{"Name":"num","SecretString":"\"quoted\""}],"Errors":[]}`,
	)}
	got := fetchJSON(t, f, Request{Adapter: "aws_secrets_manager", Account: "prod", Secrets: []string{"app/db", "plain", "num"}})
	if want := `{"app/db/user":"u","app/db/port":"5432","app/db/opts":"{\"ssl\":true}","app/db/none":"null","plain":"just-text","num":"quoted"}`; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	wantRan(t, f, "aws --version", "aws secretsmanager batch-get-secret-value --secret-id-list app/db plain num --profile prod --output json")
}

func TestAWSSecretsManagerWithoutProfileAndErrors(t *testing.T) {
	f := &fake{answers: answers("aws secretsmanager batch-get-secret-value --secret-id-list app/A app/B --output json",
		`{"SecretValues":[],"Errors":[{"SecretId":"app/A","ErrorCode":"ResourceNotFoundException","Message":"not found."},{"SecretId":"app/B","Message":"denied."}]}`)}
	if msg := fetchErr(t, f, Request{Adapter: "aws_secrets_manager", From: "app", Secrets: []string{"A", "B"}}); msg != "app/A: not found. app/B: denied." {
		t.Errorf("errors: %s", msg)
	}
	f = &fake{fail: map[string]bool{"aws secretsmanager batch-get-secret-value --secret-id-list x --output json": true}}
	if msg := fetchErr(t, f, Request{Adapter: "aws_secrets_manager", Secrets: []string{"x"}}); !strings.Contains(msg, `Could not read ["x"] from AWS Secrets Manager`) || !strings.Contains(msg, "aws sso login") {
		t.Errorf("failure: %s", msg)
	}
}
