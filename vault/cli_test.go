package vault

import (
	"strings"
	"testing"
)

func TestMissingCLINamesItAndHowToInstall(t *testing.T) {
	for adapter, cmd := range map[string]string{"1password": "op", "bitwarden": "bw", "bitwarden-sm": "bws", "lastpass": "lpass",
		"aws_secrets_manager": "aws", "gcp": "gcloud", "doppler": "doppler", "enpass": "enpass-cli", "passbolt": "passbolt"} {
		f := &fake{missing: true}
		msg := fetchErr(t, f, Request{Adapter: adapter, Account: "me", From: "x", Secrets: []string{"A"}})
		if !strings.Contains(msg, "is not installed") || !strings.Contains(msg, "`"+cmd+"` is not on PATH") || !strings.Contains(msg, "https://") {
			t.Errorf("%s: %s", adapter, msg)
		}
		if len(f.ran) != 1 {
			t.Errorf("%s ran more than the probe: %q", adapter, f.ran)
		}
	}
}

func TestFailedSaysHowToSignIn(t *testing.T) {
	c := cli{tool: lastPass{}.tool()}
	if got := c.failed("Failed to login to LastPass").Error(); !strings.HasPrefix(got, "Failed to login to LastPass (sign in with `lpass login ACCOUNT`") {
		t.Errorf("got %s", got)
	}
	if got := rubySplit("a//b//", "/"); strings.Join(got, "|") != "a||b" {
		t.Errorf("rubySplit kept trailing fields: %q", got)
	}
	if got := rubySplit("", "/"); len(got) != 0 {
		t.Errorf("rubySplit of nothing: %q", got)
	}
	if got := pathParts("proj/NAME/"); strings.Join(got, "|") != "proj|NAME" {
		t.Errorf("pathParts: %q", got)
	}
	if got := pathParts(""); len(got) != 1 || got[0] != "" {
		t.Errorf("pathParts of nothing: %q", got)
	}
}
