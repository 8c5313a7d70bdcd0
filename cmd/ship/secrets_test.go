package main

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
)

// vendorCLI writes a stand-in for a password manager's CLI into dir: a
// script that logs each run's arguments, one [arg] each, to NAME.argv,
// and answers as script says (sh, with "$*" to match on).
func vendorCLI(t *testing.T, dir, name, script string) (argvLog string) {
	t.Helper()
	argvLog = filepath.Join(dir, name+".argv")
	body := "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done >> '" + argvLog + "'\necho >> '" + argvLog + "'\n" + script
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return argvLog
}

func readArgv(t *testing.T, log string) string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A Kamal project's .kamal/secrets, fetching from 1Password with `kamal
// secrets`, deploys through ship on a machine with neither Ruby nor Kamal:
// ship runs those lines itself, drives `op` as Kamal does, and the app's
// env file on the host holds the value. The secret is in no command line
// and in none of ship's output but `secrets print`'s.
func TestKamalSecretsFileDeploysWith1Password(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	secret := "op-" + rand.Text()
	bin := t.TempDir()
	// op stays on PATH until the app is removed, when the test ends: the
	// removal loads the config, and so the secrets, too.
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	a := deployedApp(t, "vaultop", h1)
	argvLog := vendorCLI(t, bin, "op", `case "$1" in
--version) echo 2.30.3 ;;
account) exit 0 ;;
item) cat <<'JSON'
[
  {"id": "f1", "section": {"id": "s", "label": "app"}, "type": "CONCEALED", "label": "APP_SECRET",
   "value": "`+secret+`", "reference": "op://Deploy/vaultop/app/APP_SECRET"},
  {"id": "f2", "type": "CONCEALED", "label": "OTHER", "value": "other-value", "reference": "op://Deploy/vaultop/OTHER"}
]
JSON
;;
*) exit 1 ;;
esac
`)
	for _, absent := range []string{"kamal", "ruby"} {
		if p, err := exec.LookPath(absent); err == nil {
			t.Fatalf("%s is on PATH (%s): this test shows ship needs no Kamal", absent, p)
		}
	}
	os.Remove(filepath.Join(a.dir, ".ship/secrets"))
	os.MkdirAll(filepath.Join(a.dir, ".kamal"), 0o755)
	if err := os.WriteFile(filepath.Join(a.dir, ".kamal/secrets"), []byte(`# As kamal init writes it, option 3
SECRETS=$(kamal secrets fetch --adapter 1password --account my-team --from Deploy/vaultop app/APP_SECRET OTHER)
APP_SECRET=$(kamal secrets extract APP_SECRET ${SECRETS})
OTHER=$(kamal secrets extract OTHER $SECRETS)
`), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := testapp.ScanArgv(t, secret)

	var output strings.Builder
	output.WriteString(a.mustShip(t, "setup", "--skip-build", "--version", "v1"))
	if v := a.version(t); v != "v1" {
		t.Fatalf("after setup the app says %q, want v1", v)
	}
	if envFile := hostFile(t, h1, ".ship/apps/vaultop/env/web.env"); !strings.Contains(envFile, `APP_SECRET="`+secret+`"`) {
		t.Errorf("the env file on the host does not hold the secret from 1Password:\n%s", envFile)
	}
	if want := "[--version]\n[account][get][--account][my-team]\n" +
		"[item][get][vaultop][--vault][Deploy][--format][json][--account][my-team][--fields][label=app.APP_SECRET,label=OTHER]\n"; !strings.HasPrefix(readArgv(t, argvLog), want) {
		t.Errorf("op ran with:\n%s\nwant each load to run:\n%s", readArgv(t, argvLog), want)
	}
	cfg := a.mustShip(t, "config")
	output.WriteString(cfg)
	if strings.Contains(output.String(), secret) {
		t.Errorf("the secret appeared in ship's output:\n%s", output.String())
	}

	printed := a.mustShip(t, "secrets", "print")
	want := `SECRETS={"Deploy/vaultop/app/APP_SECRET":"` + secret + `","Deploy/vaultop/OTHER":"other-value"}` + "\n" +
		"APP_SECRET=" + secret + "\nOTHER=other-value\n"
	if printed != want {
		t.Errorf("secrets print:\n%s\nwant:\n%s", printed, want)
	}
	if found := argv.Stop(); len(found) > 0 {
		t.Errorf("the secret was in a command line: %q", found)
	}
}

// Each of Kamal's other adapters, through the built binary: `ship secrets
// fetch` drives a stand-in of the vendor's CLI with Kamal's arguments and
// prints Kamal's JSON of what the stand-in answered in the vendor's
// documented format.
func TestSecretsFetchAdapters(t *testing.T) {
	shipBin := shipBinary(t)
	for _, c := range []struct {
		name, cli, script string
		args              []string
		env               []string
		stdout, argv      string
	}{
		{
			name: "bitwarden", cli: "bw",
			script: `case "$1" in
status) if [ -n "$BW_SESSION" ]; then echo '{"serverUrl":null,"status":"unlocked"}'; else echo '{"serverUrl":null,"status":"locked"}'; fi ;;
unlock) echo "session-$$" ;;
get) [ -n "$BW_SESSION" ] || exit 1; echo '{"object":"item","name":"app","type":1,"login":{"username":"deploy","password":null},"fields":[{"name":"DB_PASSWORD","value":"bw-db","type":1},{"name":"KEY","value":"bw-key","type":1}]}' ;;
esac`,
			args:   []string{"--adapter", "bitwarden", "--account", "me@example.com", "--from", "app", "DB_PASSWORD", "KEY"},
			stdout: `{"app/DB_PASSWORD":"bw-db","app/KEY":"bw-key"}`,
			argv:   "[--version]\n[status]\n[unlock][--raw]\n[status]\n[sync]\n[get][item][app]\n",
		},
		{
			name: "bitwarden secrets manager", cli: "bws",
			script: `case "$1" in
project) [ "$BWS_ACCESS_TOKEN" = "0.token" ] || exit 1; echo '[]' ;;
secret) printf '%s\n' '[{"id":"1","key":"DB_PASSWORD","value":"bws-db","projectId":"p1"},{"id":"2","key":"KEY","value":"bws\nkey","projectId":"p1"}]' ;;
esac`,
			args:   []string{"-a", "bitwarden-sm", "--from", "p1", "all"},
			env:    []string{"BWS_ACCESS_TOKEN=0.token"},
			stdout: `{"DB_PASSWORD":"bws-db","KEY":"bws\nkey"}`,
			argv:   "[--version]\n[project][list]\n[secret][list][p1]\n",
		},
		{
			name: "lastpass", cli: "lpass",
			script: `case "$1" in
status) echo "Logged in as me@example.com." ;;
show) echo '[{"id":"1","name":"DB","fullname":"Deploy/DB","username":"","password":"lp-db","group":"Deploy","url":"","note":""}]' ;;
esac`,
			args:   []string{"-a", "lastpass", "--account", "me@example.com", "--from", "Deploy", "DB"},
			stdout: `{"Deploy/DB":"lp-db"}`,
			argv:   "[--version]\n[status][--color][never]\n[show][Deploy/DB][--json]\n",
		},
		{
			name: "aws secrets manager", cli: "aws",
			script: `printf '%s\n' '{"SecretValues":[{"ARN":"arn:aws:secretsmanager:eu-west-1:1:secret:app","Name":"app","VersionId":"v","SecretString":"{\"DB_PASSWORD\":\"aws-db\",\"PORT\":5432}","VersionStages":["AWSCURRENT"]}],"Errors":[]}'`,
			args:   []string{"-a", "aws_secrets_manager", "--account", "prod", "app"},
			stdout: `{"app/DB_PASSWORD":"aws-db","app/PORT":"5432"}`,
			argv:   "[--version]\n[secretsmanager][batch-get-secret-value][--secret-id-list][app][--profile][prod][--output][json]\n",
		},
		{
			name: "gcp secret manager", cli: "gcloud",
			script: `case "$1" in
auth) echo '[{"account":"me@example.com","status":"ACTIVE"}]' ;;
secrets) echo '{"name":"projects/1/secrets/db/versions/3","payload":{"data":"Z2NwLWRi","dataCrc32c":"1"}}' ;;
esac`,
			args:   []string{"-a", "gcp", "--account", "default|deployer@p.iam.gserviceaccount.com", "my-project/db/3"},
			stdout: `{"my-project/db":"gcp-db"}`,
			argv: "[--version]\n[auth][list][--format=json]\n" +
				"[secrets][versions][access][3][--secret=db][--project=my-project][--impersonate-service-account=deployer@p.iam.gserviceaccount.com][--format=json]\n",
		},
		{
			name: "doppler", cli: "doppler",
			script: `case "$1" in
me) echo '{"name":"me"}' ;;
secrets) echo '{"DB_PASSWORD":{"computed":"dp-db","computedVisibility":"unmasked","note":""},"KEY":{"computed":"dp-key","note":""}}' ;;
esac`,
			args:   []string{"-a", "doppler", "--from", "web/prd", "DB_PASSWORD", "KEY"},
			stdout: `{"DB_PASSWORD":"dp-db","KEY":"dp-key"}`,
			argv:   "[--version]\n[me][--json]\n[secrets][get][DB_PASSWORD][KEY][--json][-p][web][-c][prd]\n",
		},
		{
			name: "enpass", cli: "enpass-cli",
			script: `[ "$1" = version ] && exit 0
echo '[{"category":"login","label":"DB_PASSWORD","login":"","password":"ep-db","title":"App","type":"password"},{"category":"login","label":"OTHER","login":"","password":"x","title":"App","type":"password"}]'`,
			args:   []string{"-a", "enpass", "--from", "/vaults/primary", "App/DB_PASSWORD"},
			stdout: `{"App/DB_PASSWORD":"ep-db"}`,
			argv:   "[version]\n[-json][-vault][/vaults/primary][show][App]\n",
		},
		{
			name: "passbolt", cli: "passbolt",
			script: `case "$1 $2" in
"list folders") echo '[{"id":"f-1","folder_parent_id":"","name":"deploy","created_timestamp":"2025-01-01T00:00:00Z"}]' ;;
"list resources") echo '[{"id":"r-1","folder_parent_id":"f-1","name":"DB_PASSWORD","username":"","uri":"","password":"pb-db","description":""}]' ;;
esac`,
			args:   []string{"-a", "passbolt", "--from", "deploy", "DB_PASSWORD"},
			stdout: `{"DB_PASSWORD":"pb-db"}`,
			argv: "[--version]\n[verify]\n[list][folders][--filter][Name == \"deploy\"][--json]\n" +
				"[list][resources][--filter][(Name == \"DB_PASSWORD\" && FolderParentID == \"f-1\")][--folder][f-1][--column][name][--column][password][--json]\n",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			bin := t.TempDir()
			argvLog := vendorCLI(t, bin, c.cli, c.script)
			cmd := exec.Command(shipBin, append([]string{"secrets", "fetch"}, c.args...)...)
			cmd.Dir = t.TempDir() // no project: fetch reads no config
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			cmd.Env = append(cmd.Env, c.env...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("ship secrets fetch: %v\n%s\n%s ran with:\n%s", err, stderr.String(), c.cli, readArgv(t, argvLog))
			}
			if string(out) != c.stdout+"\n" {
				t.Errorf("stdout %s, want %s", out, c.stdout)
			}
			if got := readArgv(t, argvLog); got != c.argv {
				t.Errorf("%s ran with:\n%s\nwant:\n%s", c.cli, got, c.argv)
			}
		})
	}
}

// A vendor CLI that is not installed, or not signed in, is an error that
// says which and what to do.
func TestSecretsFetchSaysWhatIsMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, errOut, code := ship(t, t.TempDir(), "secrets", "fetch", "-a", "1password", "--account", "acme", "KEY")
	if code != exitFailed || !strings.Contains(errOut, "1Password CLI is not installed: `op` is not on PATH") || !strings.Contains(errOut, "op signin") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	_, errOut, code = ship(t, "", "secrets", "fetch", "-a", "1password", "KEY")
	if code != exitUsage || !strings.Contains(errOut, "No value provided for required options '--account'") {
		t.Errorf("no account: exit %d: %s", code, errOut)
	}
	_, errOut, code = ship(t, "", "secrets", "fetch", "KEY")
	if code != exitUsage || !strings.Contains(errOut, "No value provided for required options '--adapter'") {
		t.Errorf("no adapter: exit %d: %s", code, errOut)
	}
	bin := t.TempDir()
	vendorCLI(t, bin, "lpass", `case "$1" in status) echo "Not logged in." ;; login) echo "Error: no terminal" >&2; exit 1 ;; esac`)
	t.Setenv("PATH", bin)
	_, errOut, code = ship(t, "", "secrets", "fetch", "-a", "lastpass", "--account", "me@example.com", "KEY")
	if code != exitFailed || !strings.Contains(errOut, "Failed to login to LastPass") || !strings.Contains(errOut, "lpass login") {
		t.Errorf("not signed in: exit %d: %s", code, errOut)
	}
	out, _, code := ship(t, "", "secrets", "extract", "KEY", `{"Vault/Item/KEY":"v1"}`)
	if code != 0 || out != "v1\n" {
		t.Errorf("extract: %d %q", code, out)
	}
	_, errOut, code = ship(t, "", "secrets", "extract", "NOPE", `{"KEY":"v1"}`)
	if code != exitFailed || !strings.Contains(errOut, "Could not find secret NOPE") {
		t.Errorf("extract missing: %d %s", code, errOut)
	}
}
