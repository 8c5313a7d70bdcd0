package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestMain starts the slow builds beside the first tests (prebuild), and
// removes what tests built once for the whole package: the ship binary and
// the release.
func TestMain(m *testing.M) {
	stop := prebuild()
	code := m.Run()
	stop()
	if binaryPath != "" {
		os.RemoveAll(filepath.Dir(binaryPath))
	}
	if releaseDistDir != "" {
		os.RemoveAll(releaseDistDir)
	}
	os.Exit(code)
}

// ship runs the CLI in-process, as `ship args...` in dir.
func ship(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"ship"}, args...), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestVersionAndUsage(t *testing.T) {
	out, _, code := ship(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "ship dev (") {
		t.Errorf("version: %q %d", out, code)
	}
	_, errOut, code := ship(t, "", "deploy-everything")
	if code != exitUsage || !strings.Contains(errOut, `unknown command "deploy-everything"`) {
		t.Errorf("unknown command: %q %d", errOut, code)
	}
	_, _, code = ship(t, "", "config", "--no-such-flag")
	if code != exitUsage {
		t.Errorf("unknown flag exit = %d, want 2", code)
	}
}

// A broken config must stop ship before it dials anything: the host here is
// a real listener that counts connections.
func TestInvalidConfigContactsNoHost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var dials atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			c.Close()
		}
	}()
	dir := project(t, map[string]string{"config/deploy.yml": `service: shop
image: acme/shop
servers:
  - ` + ln.Addr().String() + `
volumes:
  - storage
proxy:
  app_port: none
ssh:
  usr: root
`})
	for _, cmd := range []string{"details", "config"} {
		_, errOut, code := ship(t, dir, cmd)
		if code != exitUsage {
			t.Errorf("%s exit = %d, want 2", cmd, code)
		}
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		want := []string{
			"config/deploy.yml:6:5: volumes[0]: volume \"storage\" should be SOURCE:TARGET",
			"config/deploy.yml:8:13: proxy.app_port: should be a whole number",
			"config/deploy.yml:10:3: ssh.usr: unknown key (did you mean \"user\"?)",
			"ship: 3 problem(s) in the configuration; no host was contacted",
		}
		if len(lines) != len(want) {
			t.Fatalf("%s stderr:\n%s", cmd, errOut)
		}
		for i := range want {
			if !strings.HasPrefix(lines[i], want[i]) {
				t.Errorf("%s line %d:\n got %s\nwant %s", cmd, i, lines[i], want[i])
			}
		}
	}
	// deploy --json still tells a script how it ended.
	out, errOut, code := ship(t, dir, "deploy", "--skip-build", "--version", "v7", "--json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitUsage {
		t.Fatalf("deploy --json with a broken config: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if doc["result"] != "failed" || doc["version"] != "v7" || !strings.Contains(doc["error"].(string), "ssh.usr: unknown key") ||
		fmt.Sprint(doc["hosts"]) != "[]" || !strings.Contains(errOut, "3 problem(s)") {
		t.Errorf("deploy --json with a broken config:\n%s", out)
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("ship connected to the host %d times with an invalid config", n)
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	t.Setenv("DB_PASSWORD_FROM_ENV", "hunter2-from-env")
	dir := project(t, map[string]string{
		"config/deploy.yml": `service: shop
image: acme/shop
servers: [10.0.0.1]
registry:
  username: acme
  password: [REGISTRY_PASSWORD]
env:
  secret: [DB_PASSWORD, API_TOKEN]
`,
		".ship/secrets": "REGISTRY_PASSWORD=registry-pw-value\nDB_PASSWORD=$DB_PASSWORD_FROM_ENV\nAPI_TOKEN=$(echo token-from-command)\n",
	})
	out, errOut, code := ship(t, dir, "config")
	if code != 0 {
		t.Fatalf("config exit %d: %s", code, errOut)
	}
	for _, secret := range []string{"registry-pw-value", "hunter2-from-env", "token-from-command"} {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("ship config printed the secret %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"password: '[REDACTED]'", "- DB_PASSWORD", "- API_TOKEN"} {
		if !strings.Contains(out, want) {
			t.Errorf("config output lacks %q:\n%s", want, out)
		}
	}
}

func TestInitThenConfig(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := ship(t, dir, "init")
	if code != 0 || !strings.Contains(out, "created config/deploy.yml") || !strings.Contains(out, "created .ship/secrets") {
		t.Fatalf("init: %d %q %q", code, out, errOut)
	}
	if _, errOut, code := ship(t, dir, "config"); code != 0 {
		t.Errorf("config after init: %d %s", code, errOut)
	}
	_, errOut, code = ship(t, dir, "init")
	if code != exitFailed || !strings.Contains(errOut, "already exists") {
		t.Errorf("second init: %d %q", code, errOut)
	}
}

func TestDestinationFlagAfterCommand(t *testing.T) {
	dir := project(t, map[string]string{
		"config/deploy.yml":         "service: shop\nimage: acme/shop\nservers: [10.0.0.1]\n",
		"config/deploy.staging.yml": "servers: [10.0.0.2]\n",
	})
	for _, args := range [][]string{{"config", "-d", "staging"}, {"-d", "staging", "config"}} {
		out, errOut, code := ship(t, dir, args...)
		if code != 0 || !strings.Contains(out, "10.0.0.2") || strings.Contains(out, "10.0.0.1") {
			t.Errorf("ship %v: %d\n%s%s", args, code, out, errOut)
		}
	}
}

// The acceptance case: a Rails 8 production-shaped Kamal config, with a
// Litestream accessory, is taken by ship config as it is.
func TestConfigAcceptsRails8KamalConfig(t *testing.T) {
	t.Setenv("KAMAL_REGISTRY_PASSWORD", "ghp_from_env")
	root, _ := filepath.Abs("../../config/testdata/rails8")
	out, errOut, code := ship(t, root, "-v", "config")
	if code != 0 {
		t.Fatalf("ship config exit %d:\n%s", code, errOut)
	}
	if !strings.Contains(out, "service: storefront") || strings.Contains(out, "ghp_from_env") {
		t.Errorf("output:\n%s", out)
	}
	if !strings.Contains(errOut, "secrets: .kamal/secrets") {
		t.Errorf("-v does not say which secrets file was read:\n%s", errOut)
	}
}
