package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadRails8Kamal(t *testing.T) {
	t.Setenv("KAMAL_REGISTRY_PASSWORD", "ghp_registry_token")
	c, err := Load(Options{File: "testdata/rails8/config/deploy.yml"})
	if err != nil {
		t.Fatalf("a Rails 8 Kamal config was refused:\n%v", err)
	}
	if c.Service != "storefront" || c.Image != "acme/storefront" {
		t.Errorf("service/image = %q/%q", c.Service, c.Image)
	}
	if len(c.Roles) != 2 || c.PrimaryRole != "web" {
		t.Fatalf("roles = %d, primary %q", len(c.Roles), c.PrimaryRole)
	}
	web, job := c.Role("web"), c.Role("job")
	if web.Proxy == nil || !web.Proxy.SSL || web.Proxy.Hosts[0] != "shop.example.com" {
		t.Errorf("web proxy = %+v, want ssl for shop.example.com", web.Proxy)
	}
	if job.Proxy != nil {
		t.Errorf("job role is behind the proxy; Kamal puts only the primary role there by default")
	}
	if got := web.Options.Get("add-host"); len(got) != 1 || got[0] != "host.docker.internal:host-gateway" {
		t.Errorf("web add-host = %v", got)
	}
	if job.Cmd != "bin/jobs" || job.Options.Get("memory")[0] != "512m" {
		t.Errorf("job = %+v", job)
	}
	if c.Registry.Password.Reveal() != "ghp_registry_token" {
		t.Errorf("registry password not resolved from $KAMAL_REGISTRY_PASSWORD")
	}
	if c.Env.Clear["SOLID_QUEUE_IN_PUMA"] != "true" || c.Env.Clear["WEB_CONCURRENCY"] != "2" {
		t.Errorf("clear env = %v", c.Env.Clear)
	}
	if len(c.Env.Secrets) != 1 || c.Env.Secrets[0].Value.Reveal() != "f00dfacecafe0123456789abcdef" {
		t.Errorf("RAILS_MASTER_KEY from $(cat config/master.key) = %+v", c.Env.Secrets)
	}
	if !c.Volumes[0].IsHostPath() || c.Volumes[0].Target != "/rails/storage" {
		t.Errorf("volume = %+v", c.Volumes[0])
	}
	ls := c.Accessories[0]
	if ls.Name != "litestream" || ls.Cmd != "replicate" || ls.Files[0].Remote != "/etc/litestream.yml" || ls.Hosts[0] != "192.168.0.1" {
		t.Errorf("litestream accessory = %+v", ls)
	}
	if got := ls.Env.Secrets[1].Value.Reveal(); got != "s3cr3t-$(not-run)" {
		t.Errorf("single-quoted secret = %q, want it taken literally", got)
	}
	if c.SSH.User != "deploy" || c.SSH.Port != 22 || c.RetainContainers != 5 {
		t.Errorf("defaults: ssh %+v retain %d", c.SSH, c.RetainContainers)
	}
	if c.SecretsFiles[0] != ".kamal/secrets" {
		t.Errorf("secrets files = %v, want the Kamal fallback", c.SecretsFiles)
	}
}

// write lays out a project in a temp dir: files maps relative paths to content.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t *testing.T, dir string, opts Options) (*Config, error) {
	t.Helper()
	if opts.File == "" {
		opts.File = filepath.Join(dir, "config/deploy.yml")
	}
	return Load(opts)
}

func TestEveryMistakeReportedWithLocation(t *testing.T) {
	dir := write(t, map[string]string{
		"config/deploy.yml": `service: My App
image: acme/app:latest
serivce: typo
servers:
  web:
    hosts:
      - bad host
      - 10.0.0.1:99999
    options:
      memroy: 1g
      cpus: lots
volumes:
  - ./storage:/rails/storage
proxy:
  app_port: 70000
deploy_timeout: soon
`,
	})
	_, err := load(t, dir, Options{})
	problems, ok := err.(Problems)
	if !ok {
		t.Fatalf("error %v is not Problems", err)
	}
	file := filepath.Join(dir, "config/deploy.yml")
	want := []string{
		file + `:1:10: service: "My App" may contain only lowercase letters`,
		file + `:2:8: image: "acme/app:latest" has a tag`,
		file + `:3:1: serivce: unknown key (did you mean "service"?)`,
		file + `:7:9: servers.web.hosts[0]: host "bad host" is not a valid host name`,
		file + `:8:9: servers.web.hosts[1]: host "10.0.0.1:99999": port "99999"`,
		file + `:10:7: servers.web.options.memroy: unknown option`,
		file + `:11:13: servers.web.options.cpus: "lots": should be a positive number`,
		file + `:13:5: volumes[0]: volume source "./storage": a host path must be absolute`,
		file + `:15:13: proxy.app_port: 70000 is out of range`,
		file + `:16:17: deploy_timeout: should be a duration`,
	}
	if len(problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(problems), len(want), err)
	}
	for i, w := range want {
		if i >= len(problems) || !strings.HasPrefix(problems[i].String(), w) {
			got := "(none)"
			if i < len(problems) {
				got = problems[i].String()
			}
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got, w)
		}
	}
}

func TestRequiredKeys(t *testing.T) {
	dir := write(t, map[string]string{"config/deploy.yml": "registry:\n  server: ghcr.io\n"})
	_, err := load(t, dir, Options{})
	for _, key := range []string{"service: is required", "image: is required", "servers: is required"} {
		if err == nil || !strings.Contains(err.Error(), ":1:1: "+key) {
			t.Errorf("error %v does not report %q at 1:1", err, key)
		}
	}
}

func TestDestinationDeepMerge(t *testing.T) {
	dir := write(t, map[string]string{
		"config/deploy.yml": `service: app
image: acme/app
servers:
  web:
    hosts: [10.0.0.1]
    cmd: bin/web
env:
  clear:
    A: base
    B: base
`,
		"config/deploy.staging.yml": `servers:
  web:
    hosts: [10.0.0.9]
env:
  clear:
    B: staging
    nonsense key: 1
`,
	})
	_, err := load(t, dir, Options{Destination: "staging"})
	if err == nil || !strings.Contains(err.Error(), "deploy.staging.yml:7:5: env.clear.nonsense key") {
		t.Fatalf("a mistake in the destination file should point into it, got %v", err)
	}
	os.WriteFile(filepath.Join(dir, "config/deploy.staging.yml"), []byte("servers:\n  web:\n    hosts: [10.0.0.9]\nenv:\n  clear:\n    B: staging\n"), 0o644)
	c, err := load(t, dir, Options{Destination: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	web := c.Role("web")
	if web.Hosts[0].Address != "10.0.0.9" || web.Cmd != "bin/web" {
		t.Errorf("web = %+v: hosts should be replaced and cmd kept", web)
	}
	if c.Env.Clear["A"] != "base" || c.Env.Clear["B"] != "staging" {
		t.Errorf("env = %v", c.Env.Clear)
	}
	if _, err := load(t, dir, Options{Destination: "production"}); err == nil || !strings.Contains(err.Error(), "deploy.production.yml: no such file") {
		t.Errorf("missing destination file: %v", err)
	}
}

func TestSecrets(t *testing.T) {
	dir := write(t, map[string]string{
		"config/deploy.yml": `service: app
image: acme/app
servers: [10.0.0.1]
env:
  secret:
    - DATABASE_PASSWORD
    - API_KEY:STAGING_API_KEY
    - MISSING_ONE
`,
		".ship/secrets-common": "DATABASE_PASSWORD=\"$(printf 'pw-%s' $TOKEN)\"\n",
		".ship/secrets":        "STAGING_API_KEY=${TOKEN}-api\n",
		".kamal/secrets":       "IGNORED=1\n",
	})
	t.Setenv("TOKEN", "tok")
	_, err := load(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "env.secret[2]: secret MISSING_ONE: it is not set in .ship/secrets-common or .ship/secrets") {
		t.Fatalf("missing secret: %v", err)
	}
	if !strings.Contains(err.Error(), "deploy.yml:8:7") {
		t.Errorf("missing secret not located at its line: %v", err)
	}
	os.WriteFile(filepath.Join(dir, ".ship/secrets"), []byte("STAGING_API_KEY=${TOKEN}-api\nMISSING_ONE=$(echo found)\n"), 0o644)
	c, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range c.Env.Secrets {
		got[s.Name] = s.Value.Reveal()
	}
	if got["DATABASE_PASSWORD"] != "pw-tok" {
		t.Errorf("DATABASE_PASSWORD = %q", got["DATABASE_PASSWORD"])
	}
	if got["API_KEY"] != "tok-api" || got["MISSING_ONE"] != "found" {
		t.Errorf("MISSING_ONE = %q", got["MISSING_ONE"])
	}
}

func TestTwoWritersOnOneHostRefused(t *testing.T) {
	dir := write(t, map[string]string{"config/deploy.yml": `service: shop
image: acme/shop
servers:
  web: [10.0.0.1]
  jobs:
    hosts: [10.0.0.1]
    cmd: bin/jobs
volumes:
  - storage:/rails/storage
`})
	_, err := load(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "deploy.yml:5:3: servers.jobs: roles web and jobs both run on 10.0.0.1") ||
		!strings.Contains(err.Error(), "SOLID_QUEUE_IN_PUMA") || !strings.Contains(err.Error(), ":ro") {
		t.Fatalf("two writers on one host: %v", err)
	}
	// Read-only volumes, or roles on different hosts, are fine.
	for _, yml := range []string{
		"service: shop\nimage: acme/shop\nservers:\n  web: [10.0.0.1]\n  jobs: [10.0.0.1]\nvolumes: [\"storage:/rails/storage:ro\"]\n",
		"service: shop\nimage: acme/shop\nservers:\n  web: [10.0.0.1]\n  jobs: [10.0.0.2]\nvolumes: [\"storage:/rails/storage\"]\n",
	} {
		dir := write(t, map[string]string{"config/deploy.yml": yml})
		if _, err := load(t, dir, Options{}); err != nil {
			t.Errorf("refused:\n%s\n%v", yml, err)
		}
	}
}

// Option values are checked by the code that applies them at deploy time,
// so what validates also deploys.
func TestOptionValuesCheckedLikeDeploy(t *testing.T) {
	dir := write(t, map[string]string{"config/deploy.yml": `service: shop
image: acme/shop
servers:
  web:
    hosts: [10.0.0.1]
    options:
      memory: [1g, 2g]
      tmpfs: relative/path
      security-opt: seccomp=/etc/profile.json
      restart: always
`})
	_, err := load(t, dir, Options{})
	for _, want := range []string{
		"deploy.yml:7:15: servers.web.options.memory: takes one value, got 2",
		"deploy.yml:8:14: servers.web.options.tmpfs",
		"deploy.yml:9:21: servers.web.options.security-opt",
		"deploy.yml:10:7: servers.web.options.restart: ship runs app containers with --restart unless-stopped",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// ssh.user and ssh.proxy_command reach a local shell: a user with shell
// syntax, a jump host user that is an option and a % token ship does not
// expand are refused on their line.
func TestSSHUserAndProxyCommand(t *testing.T) {
	for _, tc := range []struct{ ssh, want string }{
		{"  user: \"x; touch FILE\"\n  proxy_command: \"echo %r\"\n", `deploy.yml:5:9: ssh.user: user "x; touch FILE" may not contain`},
		{"  user: -oProxyCommand=id\n", `deploy.yml:5:9: ssh.user: user "-oProxyCommand=id" may not start with -`},
		{"  user: \"$(id)\"\n", `ssh.user: user "$(id)" may not contain`},
		{"  proxy_command: ssh -W %h:%p %C\n", `deploy.yml:5:18: ssh.proxy_command: %C is not a token ship expands`},
		{"  proxy_command: nc %h 100%\n", `ssh.proxy_command: it ends in a lone %`},
		{"  proxy: \"a;b@bastion.example.com\"\n", `deploy.yml:5:10: ssh.proxy: jump host "a;b@bastion.example.com": user "a;b" may not contain`},
	} {
		dir := write(t, map[string]string{"config/deploy.yml": "service: app\nimage: acme/app\nservers: [10.0.0.1]\nssh:\n" + tc.ssh})
		_, err := load(t, dir, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ssh:\n%s: error %v, want %q", tc.ssh, err, tc.want)
		}
	}
	dir := write(t, map[string]string{"config/deploy.yml": "service: app\nimage: acme/app\nservers: [10.0.0.1]\nssh:\n  user: deploy\n  proxy_command: ssh -W %h:%p -l %r bastion # 100%%\n"})
	if _, err := load(t, dir, Options{}); err != nil {
		t.Errorf("a usual proxy_command: %v", err)
	}
}
