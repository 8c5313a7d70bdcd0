package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/shipdeploy/ship/actions"
	"github.com/shipdeploy/ship/internal/testhost"
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
// ship writes (an annotation, a group), none is a group named by text
// planted by mark, no line of an annotation's message would be a command
// of its own, and the planted lines are still shown, escaped.
func checkOnlyShipCommands(t *testing.T, out, mark string, shown ...string) {
	t.Helper()
	unescape := strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%")
	for _, c := range runnerCommands(out) {
		own := strings.HasPrefix(c, "::group::") || c == "::endgroup::" ||
			strings.HasPrefix(c, "::error title=ship::") || strings.HasPrefix(c, "::warning file=")
		if !own || strings.HasPrefix(c, "::group::") && strings.Contains(c, mark) {
			t.Errorf("a runner would run %q", c)
		}
		_, data, _ := strings.Cut(strings.TrimPrefix(c, "::"), "::")
		if cmds := runnerCommands(unescape.Replace(data)); len(cmds) > 0 {
			t.Errorf("ship's command %q quotes lines that are commands: %q", c, cmds)
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

// hostFile reads a file under the login user's home on h over SSH, past
// ship, whose own output would redact it.
func hostFile(t *testing.T, h *testhost.Host, path string) string {
	t.Helper()
	key, err := os.ReadFile(h.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	hostKeys, err := knownhosts.New(h.KnownHostsPath)
	if err != nil {
		t.Fatal(err)
	}
	client, err := gossh.Dial("tcp", h.Addr, &gossh.ClientConfig{User: h.User, Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: hostKeys, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.Output(`cat "$HOME/` + path + `"`)
	if err != nil {
		t.Fatalf("read %s on %s: %v", path, h.Addr, err)
	}
	return string(out)
}

// addClearEnv adds variables to the app's clear env, as YAML lines.
func addClearEnv(t *testing.T, a *app, lines string) {
	t.Helper()
	file := filepath.Join(a.dir, "config/deploy.yml")
	cfg, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	const clear = "env:\n  clear:\n"
	if !strings.Contains(string(cfg), clear) {
		t.Fatalf("no clear env in:\n%s", cfg)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(cfg), clear, clear+lines, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The app's secret, printed by a failing command and a failing hook, and
// planted by the app in its log and in ship's error (the reason phrase of
// its failing health check), shows as [REDACTED] in all ship prints, in
// the --json document, the Actions step summary, outputs and annotations,
// and in the audit log on the host; never as itself.
func TestSecretsRedactedEverywhere(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "redact", h1)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	outputFile, summaryFile := actionsStep(t)
	var all strings.Builder

	// A command that fails, printing the env file, which holds the secret,
	// on stdout and on stderr, whose end its error quotes.
	envFile := "$HOME/.ship/apps/redact/env/web.env"
	out, errOut, code := a.ship(t, "server", "exec", "cat "+envFile+"; cat "+envFile+" >&2; exit 3")
	all.WriteString(out + errOut)
	if code != exitFailed || !strings.Contains(out, `APP_SECRET="[REDACTED]"`) ||
		!regexp.MustCompile(`(?m)^::error title=ship::.*exit status 3: .*APP_SECRET="\[REDACTED\]"`).MatchString(errOut) {
		t.Errorf("a failing command that prints the secret: exit %d\n%s%s", code, out, errOut)
	}

	// A pre-deploy hook that prints the secret, and fails.
	hook := filepath.Join(a.dir, ".ship/hooks/pre-deploy")
	os.MkdirAll(filepath.Dir(hook), 0o755)
	os.WriteFile(hook, []byte("#!/bin/sh\n. ./.ship/secrets\necho \"migrating with $APP_SECRET\"\necho \"cannot migrate: $APP_SECRET\" >&2\nexit 3\n"), 0o755)
	out, errOut, code = a.ship(t, "deploy", "--skip-build", "--version", "v2", "--json")
	all.WriteString(out + errOut)
	if code != exitFailed || !strings.Contains(errOut, "migrating with [REDACTED]") || !strings.Contains(errOut, "cannot migrate: [REDACTED]") {
		t.Errorf("a failing pre-deploy hook that prints the secret: exit %d\n%s%s", code, out, errOut)
	}
	os.Remove(hook)

	// A version that logs the secret and puts it in the reason phrase of
	// its failing health check, which ship quotes in its error.
	addClearEnv(t, a, "    STARTUP_LOG: 'starting, secret=$APP_SECRET'\n    FAIL_HEALTHCHECK_REASON: 'unwell $APP_SECRET'\n")
	out, errOut, code = a.ship(t, "deploy", "--skip-build", "--version", "bad", "--json")
	all.WriteString(out + errOut)
	if code != exitFailed || !strings.Contains(out+errOut, "last log lines of redact-web-bad") || !strings.Contains(out+errOut, "starting, secret=[REDACTED]") {
		t.Errorf("the failed version's log lines are not shown redacted: exit %d\n%s%s", code, out, errOut)
	}
	var doc struct {
		Result string `json:"result"`
		Hosts  []struct {
			Error string `json:"error"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Hosts) != 1 || !strings.Contains(doc.Hosts[0].Error, "answered 503 unwell [REDACTED]") {
		t.Errorf("deploy --json: %v\n%s", err, out)
	}
	summary, _ := os.ReadFile(summaryFile)
	if !strings.Contains(string(summary), "answered 503 unwell [REDACTED]") {
		t.Errorf("the step summary does not show the error redacted:\n%s", summary)
	}
	outputs, _ := os.ReadFile(outputFile)
	auditLog := hostFile(t, h1, ".ship/audit/redact.log")
	if !strings.Contains(auditLog, "answered 503 unwell [REDACTED]") {
		t.Errorf("the audit log on the host lacks the redacted error:\n%s", auditLog)
	}
	for name, text := range map[string]string{"ship's output": all.String(), "the step summary": string(summary),
		"the step outputs": string(outputs), "the audit log on the host": auditLog} {
		if strings.Contains(text, a.secret) {
			t.Errorf("%s shows the secret:\n%s", name, text)
		}
	}
	// The secret did reach the host, where the app needs it.
	if envFile := hostFile(t, h1, ".ship/apps/redact/env/web.env"); !strings.Contains(envFile, a.secret) {
		t.Errorf("the env file on the host lacks the secret:\n%s", envFile)
	}
}

// Under GitHub Actions, lines planted by an app in its log, by a host's
// stderr, in a lock message and in a performer's name come out escaped:
// no line ship prints runs as a workflow command unless ship wrote it as
// one, and ship's own groups and annotations are still there.
func TestPlantedWorkflowCommandsNeutralised(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "plant", h1)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	actionsStep(t)
	var all strings.Builder
	shipped := func(args ...string) {
		t.Helper()
		out, errOut, _ := a.ship(t, args...)
		all.WriteString(out + errOut)
	}

	addClearEnv(t, a, `    STARTUP_LOG: '::add-mask::x\n::error::pwned-log\n##[error]pwned-log\n  ::warning::pwned-log'`+"\n")
	shipped("deploy", "--skip-build", "--version", "v2") // healthy: it logs the lines
	logs := a.mustShip(t, "app", "logs")
	all.WriteString(logs)
	if !strings.Contains(logs, `##\[error]pwned-log`) || !strings.Contains(logs, "::add-mask::x") {
		t.Errorf("ship app logs does not show the planted lines, escaped:\n%s", logs)
	}
	out, errOut, code := a.ship(t, "deploy", "--skip-build", "--version", "bad") // fails: its last log lines are shown
	all.WriteString(out + errOut)
	if code != exitFailed || !strings.Contains(out+errOut, "last log lines of plant-web-bad") || !strings.Contains(out+errOut, `##\[error]pwned-log`) {
		t.Errorf("the failed version's last log lines: exit %d\n%s%s", code, out, errOut)
	}

	// A host's stderr, which a command's error quotes, line by line.
	shipped("server", "exec", "echo first >&2; echo '::error::pwned-stderr' >&2; exit 1")

	// A lock message and a performer's name, shown by ship queue and to a
	// deploy that waits behind the freeze.
	t.Setenv("GITHUB_ACTOR", "eve\n::error::pwned-performer")
	a.mustShip(t, "lock", "acquire", "-m", "migrating\n##[error]pwned-lock")
	t.Cleanup(func() { a.ship(t, "lock", "release") })
	shipped("queue")
	shipped("deploy", "--skip-build", "--version", "v2", "--queue-timeout", "3s")
	a.mustShip(t, "lock", "release")

	checkOnlyShipCommands(t, all.String(), "pwned",
		`\::error::pwned-stderr`, `\::error::pwned-performer`, `##\[error]pwned-lock`, "::group::"+h1.Addr+" web", "::endgroup::")
	if strings.Count(all.String(), "waiting for the deploy queue") == 0 {
		t.Errorf("no deploy waited behind the freeze:\n%s", all.String())
	}
}
