package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/actions"
)

// runnerCommands are the lines of out that a GitHub Actions runner would
// run as workflow commands, as it splits lines (at \n, \r and \r\n).
func runnerCommands(out string) []string {
	var cmds []string
	for _, line := range regexp.MustCompile(`\r\n|\r|\n`).Split(out, -1) {
		if actions.IsCommand(line) {
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// checkOnlyShipCommands fails unless every workflow command in out is one
// ship writes (an annotation, a group), none carries text planted by
// mark, and the planted lines are still shown, escaped.
func checkOnlyShipCommands(t *testing.T, out, mark string, shown ...string) {
	t.Helper()
	for _, c := range runnerCommands(out) {
		own := strings.HasPrefix(c, "::group::") || c == "::endgroup::" ||
			strings.HasPrefix(c, "::error title=ship::") || strings.HasPrefix(c, "::warning file=")
		if !own || strings.HasPrefix(c, "::group::") && strings.Contains(c, mark) {
			t.Errorf("a runner would run %q", c)
		}
	}
	for _, s := range shown {
		if !strings.Contains(out, s) {
			t.Errorf("the output does not show %q:\n%s", s, out)
		}
	}
}

// actionsStep makes this test a GitHub Actions step with its output and
// summary files.
func actionsStep(t *testing.T) (outputFile, summaryFile string) {
	t.Helper()
	dir := t.TempDir()
	outputFile, summaryFile = filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	for k, v := range map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": outputFile, "GITHUB_STEP_SUMMARY": summaryFile, "GITHUB_WORKSPACE": "",
		"GITHUB_ACTOR": "octocat", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "7",
	} {
		t.Setenv(k, v)
	}
	return outputFile, summaryFile
}

// Without any host: a pre-connect hook that prints a secret, split across
// writes, and lines a runner would run. Under GitHub Actions the output
// shows neither the secret nor a workflow command of the hook's, the JSON
// document is still JSON, and ship's own annotation and outputs are there.
func TestHookOutputGuarded(t *testing.T) {
	secret := "s3cret-hook-4e1f"
	dir := project(t, map[string]string{
		"config/deploy.yml": "service: shop\nimage: acme/shop\nservers: [127.0.0.1:1]\nenv:\n  secret: [APP_SECRET]\n",
		".ship/secrets":     "APP_SECRET=" + secret + "\n",
		".ship/hooks/pre-connect": "#!/bin/sh\n. ./.ship/secrets\n" +
			"printf 'hook sees %s' \"$(echo \"$APP_SECRET\" | cut -c1-6)\"; sleep 0.2; echo \"$APP_SECRET\" | cut -c7-\n" +
			"echo '::add-mask::x'; echo '  ::error::pwned' >&2; printf 'log ##[error]x\\r::warning::pwned\\n'; exit 1\n",
	})
	os.Chmod(filepath.Join(dir, ".ship/hooks/pre-connect"), 0o755)
	outputFile, summaryFile := actionsStep(t)
	out, errOut, code := ship(t, dir, "deploy", "--skip-build", "--version", "v1", "--json")
	if code != exitFailed {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	outputs, _ := os.ReadFile(outputFile)
	summary, _ := os.ReadFile(summaryFile)
	for name, text := range map[string]string{"stdout": out, "stderr": errOut, "outputs": string(outputs), "summary": string(summary)} {
		if strings.Contains(text, secret) || strings.Contains(text, "s3cret") {
			t.Errorf("%s shows the secret:\n%s", name, text)
		}
	}
	if !strings.Contains(errOut, "hook sees [REDACTED]") {
		t.Errorf("the hook's line is not shown redacted:\n%s", errOut)
	}
	checkOnlyShipCommands(t, out+errOut, "pwned", `\::add-mask::x`, `  \::error::pwned`, `log ##\[error]x`, `\::warning::pwned`, "::error title=ship::")
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc["result"] != "failed" {
		t.Errorf("stdout is not the JSON document of a failed deploy: %v\n%s", err, out)
	}
	if !strings.Contains(string(outputs), "result=failed") {
		t.Errorf("outputs:\n%s", outputs)
	}
}
