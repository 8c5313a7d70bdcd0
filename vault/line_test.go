package vault

import (
	"context"
	"strings"
	"testing"
)

func TestLineFetchAndExtract(t *testing.T) {
	f := &fake{answers: answers("op item get Item --vault Vault --format json --account X --fields label=password",
		`{"reference":"op://Vault/Item/password","value":"pw"}`)}
	out, err := Line(context.Background(), f, func(string) string { return "" },
		[]string{"fetch", "Vault/Item", "--adapter", "1password", "--account=X", "--inline"})
	if err != nil || out != `{"Vault/Item":"pw"}` {
		t.Fatalf("fetch: %q, %v (ran %q)", out, err, f.ran)
	}
	v, err := Line(context.Background(), f, nil, []string{"extract", "Item", out, "--inline"})
	if err != nil || v != "pw" {
		t.Errorf("extract: %q, %v", v, err)
	}
	if _, err := Line(context.Background(), f, nil, []string{"print"}); err == nil {
		t.Error("print inside a secrets file ran")
	}
	if _, err := Line(context.Background(), f, nil, []string{"fetch", "A"}); err == nil || !strings.Contains(err.Error(), "--adapter") {
		t.Errorf("no adapter: %v", err)
	}
}

func TestLineTakesOptionsAnywhere(t *testing.T) {
	f := &fake{answers: answers("aws secretsmanager batch-get-secret-value --secret-id-list a b --output json", `{"SecretValues":[{"Name":"a","SecretString":"1"},{"Name":"b","SecretString":"x"}]}`)}
	out, err := Line(context.Background(), f, nil, []string{"fetch", "a", "-a", "aws_secrets_manager", "b"})
	if err != nil || out != `{"a":"1","b":"x"}` {
		t.Errorf("got %q, %v (ran %q)", out, err, f.ran)
	}
	if _, err := Line(context.Background(), f, nil, []string{"extract", "a"}); err == nil || !strings.Contains(err.Error(), "$SECRETS") {
		t.Errorf("extract without JSON: %v", err)
	}
}
