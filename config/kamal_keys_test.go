package config

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// outcome is what ship does with a key of Kamal's configuration reference.
type outcome int

const (
	accepted outcome = iota // loads, and does what Kamal does with it
	warned                  // loads, with a warning naming the key and why
	refused                 // a FILE:LINE error naming the key and why
)

func (o outcome) String() string {
	return [...]string{"accepted", "warning", "refused"}[o]
}

// kamalKey is one key of Kamal 2.12's configuration reference
// (lib/kamal/configuration/docs/*.yml), set in a small deploy.yml.
type kamalKey struct {
	key     string // as docs/kamal-keys.md names it
	outcome outcome
	yml     string             // after service and image; servers: [10.0.0.1] unless set
	at      string             // the key path a warning or error names; key if empty
	want    string             // for refused: text the error must contain
	check   func(*Config) bool // for accepted: whether the parsed config holds the setting
	dest    string             // a destination to load with
}

// kamalKeys is every key path in Kamal 2.12's reference, with values taken
// from its examples. ROLE, NAME and TAG stand for names the user picks.
var kamalKeys = []kamalKey{
	// configuration.yml
	{key: "service", yml: "", check: func(c *Config) bool { return c.Service == "shop" }},
	{key: "image", yml: "", check: func(c *Config) bool { return c.Image == "acme/shop" }},
	{key: "labels", yml: "labels:\n  my-label: my-value\n", check: func(c *Config) bool { return c.Labels["my-label"] == "my-value" }},
	{key: "volumes", yml: "volumes:\n  - /path/on/host:/path/in/container:ro\n", check: func(c *Config) bool { return len(c.Volumes) == 1 && c.Volumes[0].ReadOnly() }},
	{key: "asset_path", yml: "asset_path: /path/to/assets\nproxy:\n  app_port: 3000\n", check: func(c *Config) bool { return c.AssetPath == "/path/to/assets" }},
	{key: "hooks_path", yml: "hooks_path: /user_home/kamal/hooks\n", check: func(c *Config) bool { return c.HooksPath == "/user_home/kamal/hooks" }},
	{key: "hooks_output", outcome: warned, yml: "hooks_output: :verbose\n"},
	{key: "hooks_output.HOOK", outcome: warned, at: "hooks_output", yml: "hooks_output:\n  pre-deploy: :verbose\n  pre-build: :quiet\n"},
	{key: "secrets_path", yml: "secrets_path: /user_home/kamal/secrets\n", check: func(c *Config) bool { return c.SecretsPath == "/user_home/kamal/secrets" }},
	{key: "error_pages_path", yml: "error_pages_path: public\n", check: func(c *Config) bool { return c.ErrorPagesPath == "public" }},
	{key: "require_destination", yml: "require_destination: true\n", dest: "staging", check: func(c *Config) bool { return c.Destination == "staging" }},
	{key: "primary_role", yml: "primary_role: workers\nservers:\n  web: [10.0.0.1]\n  workers: [10.0.0.2]\n", check: func(c *Config) bool { return c.PrimaryRole == "workers" && c.PrimaryHost() == "10.0.0.2" }},
	{key: "allow_empty_roles", yml: "allow_empty_roles: true\nservers:\n  web: [10.0.0.1]\n  workers: []\n", check: func(c *Config) bool { return len(c.Roles) == 2 }},
	{key: "retain_containers", yml: "retain_containers: 3\n", check: func(c *Config) bool { return c.RetainContainers == 3 }},
	{key: "minimum_version", outcome: warned, yml: "minimum_version: 1.3.0\n"},
	{key: "readiness_delay", yml: "readiness_delay: 4\n", check: func(c *Config) bool { return c.ReadinessDelay == 4*time.Second }},
	{key: "deploy_timeout", yml: "deploy_timeout: 10\n", check: func(c *Config) bool { return c.DeployTimeout == 10*time.Second }},
	{key: "drain_timeout", yml: "drain_timeout: 10\n", check: func(c *Config) bool { return c.DrainTimeout == 10*time.Second }},
	{key: "stop_timeout", yml: "stop_timeout: 30\n", check: func(c *Config) bool { return c.Roles[0].StopTimeout == 30*time.Second }},
	{key: "run_directory", outcome: warned, yml: "run_directory: /etc/kamal\n"},

	// servers.yml and role.yml
	{key: "servers", yml: "servers:\n  - 172.0.0.1\n  - 172.0.0.2\n", check: func(c *Config) bool { return c.Roles[0].Name == "web" && len(c.Roles[0].Hosts) == 2 }},
	{key: "servers[HOST: tags]", yml: "servers:\n  - 172.0.0.1\n  - 172.0.0.2: experiments\n  - 172.0.0.3: [ experiments, three ]\n", check: func(c *Config) bool { return slices.Equal(c.Roles[0].Hosts[2].Tags, []string{"experiments", "three"}) }},
	{key: "servers.ROLE", yml: "servers:\n  web:\n    - 172.1.0.1\n    - 172.1.0.2: experiment1\n", check: func(c *Config) bool { return c.Roles[0].Hosts[1].Tags[0] == "experiment1" }},
	{key: "servers.ROLE.hosts", yml: "servers:\n  workers:\n    hosts:\n      - 172.1.0.3\n      - 172.1.0.4: experiment1\n", check: func(c *Config) bool { return len(c.Role("workers").Hosts) == 2 }},
	{key: "servers.ROLE.cmd", yml: role(`cmd: "bin/jobs"`), check: func(c *Config) bool { return c.Role("workers").Cmd == "bin/jobs" }},
	{key: "servers.ROLE.stop_timeout", yml: role("stop_timeout: 30"), check: func(c *Config) bool { return c.Role("workers").StopTimeout == 30*time.Second }},
	{key: "servers.ROLE.options", yml: role("options:\n      memory: 2g\n      cpus: 4"), check: func(c *Config) bool { return c.Role("workers").Options.Get("memory")[0] == "2g" }},
	{key: "servers.ROLE.logging", yml: role("logging:\n      driver: json-file"), check: func(c *Config) bool { return c.Role("workers").Logging.Driver == "json-file" }},
	{key: "servers.ROLE.proxy", yml: role("proxy:\n      host: jobs.example.com"), check: func(c *Config) bool { return c.Role("workers").Proxy.Hosts[0] == "jobs.example.com" }},
	{key: "servers.ROLE.labels", yml: role("labels:\n      my-label: workers"), check: func(c *Config) bool { return c.Role("workers").Labels["my-label"] == "workers" }},
	{key: "servers.ROLE.env", yml: role("env:\n      QUEUE: default"), check: func(c *Config) bool { return c.Role("workers").Env.Clear["QUEUE"] == "default" }},
	{key: "servers.ROLE.asset_path", yml: role("asset_path: /public\n    proxy: true"), check: func(c *Config) bool { return c.Role("workers").AssetPath == "/public" }},

	// env.yml
	{key: "env.NAME", yml: "env:\n  DATABASE_HOST: mysql-db1\n  DATABASE_PORT: 3306\n", check: func(c *Config) bool { return c.Env.Clear["DATABASE_PORT"] == "3306" }},
	{key: "env.clear", yml: "env:\n  clear:\n    DB_USER: app\n", check: func(c *Config) bool { return c.Env.Clear["DB_USER"] == "app" }},
	{key: "env.secret", yml: "env:\n  secret:\n    - DB_PASSWORD\n", check: func(c *Config) bool { return c.Env.Secrets[0].Value.Reveal() == "db-secret" }},
	{key: "env.secret[NAME:SECRET]", yml: "env:\n  secret:\n    - DB_PASSWORD:MAIN_DB_PASSWORD\n", check: func(c *Config) bool {
		return c.Env.Secrets[0].Name == "DB_PASSWORD" && c.Env.Secrets[0].Value.Reveal() == "main-secret"
	}},
	{key: "env.tags.TAG", yml: "env:\n  tags:\n    monitoring:\n      MYSQL_USER: monitoring\n", check: func(c *Config) bool { return c.Env.Tags["monitoring"].Clear["MYSQL_USER"] == "monitoring" }},
	{key: "env.tags.TAG.clear", yml: "env:\n  tags:\n    replica:\n      clear:\n        MYSQL_USER: readonly\n", check: func(c *Config) bool { return c.Env.Tags["replica"].Clear["MYSQL_USER"] == "readonly" }},
	{key: "env.tags.TAG.secret", yml: "env:\n  tags:\n    secondary_db:\n      secret:\n        - DB_PASSWORD:SECONDARY_DB_PASSWORD\n", check: func(c *Config) bool {
		return c.Env.Tags["secondary_db"].Secrets[0].Value.Reveal() == "second-secret"
	}},

	// logging.yml
	{key: "logging.driver", yml: "logging:\n  driver: json-file\n", check: func(c *Config) bool { return c.Logging.Driver == "json-file" }},
	{key: "logging.options", yml: "logging:\n  options:\n    max-size: 100m\n", check: func(c *Config) bool { return c.Logging.Options["max-size"] == "100m" }},

	// registry.yml
	{key: "registry.server", yml: "registry:\n  server: localhost:5555\n", check: func(c *Config) bool { return c.Registry.Server == "localhost:5555" }},
	{key: "registry.username", yml: "registry:\n  username:\n    - DOCKER_USER\n  password:\n    - KAMAL_REGISTRY_PASSWORD\n", check: func(c *Config) bool { return c.Registry.Username == "acme" }},
	{key: "registry.password", yml: "registry:\n  server: ghcr.io\n  username: _json_key_base64\n  password:\n    - KAMAL_REGISTRY_PASSWORD\n", check: func(c *Config) bool { return c.Registry.Password.Reveal() == "registry-secret" }},
	{key: "registry.password[ERB command]", outcome: refused, yml: "registry:\n  server: 1.dkr.ecr.eu-west-1.amazonaws.com\n  username: AWS\n  password: <%= %x(aws ecr get-login-password) %>\n",
		want: ":7:13: unsupported ERB <%= %x(aws ecr get-login-password) %>: ship runs no command from the config; run it in the secrets file instead"},

	// proxy.yml
	{key: "proxy.host", yml: "proxy:\n  host: foo.example.com\n", check: func(c *Config) bool { return c.Roles[0].Proxy.Hosts[0] == "foo.example.com" }},
	{key: "proxy.hosts", yml: "proxy:\n  hosts:\n    - foo.example.com\n    - bar.example.com\n", check: func(c *Config) bool { return len(c.Roles[0].Proxy.Hosts) == 2 }},
	{key: "proxy.app_port", yml: "proxy:\n  app_port: 3000\n", check: func(c *Config) bool { return c.Proxy.AppPort == 3000 }},
	{key: "proxy.ssl", yml: "proxy:\n  host: foo.example.com\n  ssl: true\n", check: func(c *Config) bool { return c.Proxy.SSL && c.Proxy.Certificate == nil }},
	{key: "proxy.ssl.certificate_pem", yml: customCert, check: func(c *Config) bool { return c.Proxy.Certificate.CertificatePEM.Reveal() == "cert-pem" }},
	{key: "proxy.ssl.private_key_pem", yml: customCert, check: func(c *Config) bool { return c.Proxy.Certificate.PrivateKeyPEM.Reveal() == "key-pem" }},
	{key: "proxy.ssl_redirect", yml: "proxy:\n  ssl_redirect: false\n", check: func(c *Config) bool { return !c.Proxy.SSLRedirect }},
	{key: "proxy.forward_headers", yml: "proxy:\n  forward_headers: true\n", check: func(c *Config) bool { return *c.Proxy.ForwardHeaders }},
	{key: "proxy.response_timeout", yml: "proxy:\n  response_timeout: 10\n", check: func(c *Config) bool { return c.Proxy.ResponseTimeout == 10*time.Second }},
	{key: "proxy.path_prefix", yml: "proxy:\n  path_prefix: \"/api,/oauth_callback\"\n", check: func(c *Config) bool { return slices.Equal(c.Proxy.PathPrefixes, []string{"/api", "/oauth_callback"}) }},
	{key: "proxy.path_prefixes", yml: "proxy:\n  path_prefixes:\n    - \"/api\"\n    - \"/oauth_callback\"\n", check: func(c *Config) bool { return len(c.Proxy.PathPrefixes) == 2 }},
	{key: "proxy.strip_path_prefix", yml: "proxy:\n  strip_path_prefix: false\n", check: func(c *Config) bool { return !*c.Proxy.StripPathPrefix }},
	{key: "proxy.healthcheck.interval", yml: "proxy:\n  healthcheck:\n    interval: 3\n", check: func(c *Config) bool { return c.Proxy.Healthcheck.Interval == 3*time.Second }},
	{key: "proxy.healthcheck.path", yml: "proxy:\n  healthcheck:\n    path: /health\n", check: func(c *Config) bool { return c.Proxy.Healthcheck.Path == "/health" }},
	{key: "proxy.healthcheck.timeout", yml: "proxy:\n  healthcheck:\n    timeout: 3\n", check: func(c *Config) bool { return c.Proxy.Healthcheck.Timeout == 3*time.Second }},
	{key: "proxy.buffering.requests", yml: buffering("requests: true"), check: func(c *Config) bool { return c.Proxy.Buffering["requests"] == "true" }},
	{key: "proxy.buffering.responses", yml: buffering("responses: true"), check: func(c *Config) bool { return c.Proxy.Buffering["responses"] == "true" }},
	{key: "proxy.buffering.max_request_body", yml: buffering("max_request_body: 40_000_000"), check: func(c *Config) bool { return c.Proxy.Buffering["max_request_body"] == "40000000" }},
	{key: "proxy.buffering.max_response_body", yml: buffering("max_response_body: 0"), check: func(c *Config) bool { return c.Proxy.Buffering["max_response_body"] == "0" }},
	{key: "proxy.buffering.memory", yml: buffering("memory: 2_000_000"), check: func(c *Config) bool { return c.Proxy.Buffering["memory"] == "2000000" }},
	{key: "proxy.logging.request_headers", yml: "proxy:\n  logging:\n    request_headers:\n      - Cache-Control\n      - X-Forwarded-Proto\n", check: func(c *Config) bool { return c.Proxy.RequestHeaders[1] == "X-Forwarded-Proto" }},
	{key: "proxy.logging.response_headers", yml: "proxy:\n  logging:\n    response_headers:\n      - X-Request-ID\n", check: func(c *Config) bool { return c.Proxy.ResponseHeaders[0] == "X-Request-ID" }},
	{key: "proxy.run.http_port", yml: proxyRun("http_port: 8080"), check: func(c *Config) bool { return c.ProxyRun.HTTPPort == 8080 }},
	{key: "proxy.run.https_port", yml: proxyRun("https_port: 8443"), check: func(c *Config) bool { return c.ProxyRun.HTTPSPort == 8443 }},
	{key: "proxy.run.metrics_port", yml: proxyRun("metrics_port: 9090"), check: func(c *Config) bool { return c.ProxyRun.MetricsPort == 9090 }},
	{key: "proxy.run.debug", yml: proxyRun("debug: true"), check: func(c *Config) bool { return c.ProxyRun.Debug }},
	{key: "proxy.run.log_max_size", yml: proxyRun(`log_max_size: "30m"`), check: func(c *Config) bool { return c.ProxyRun.LogMaxSize == "30m" }},
	{key: "proxy.run.publish", yml: proxyRun("publish: false"), check: func(c *Config) bool { return !c.ProxyRun.Publish }},
	{key: "proxy.run.bind_ips", yml: proxyRun("bind_ips:\n      - 0.0.0.0"), check: func(c *Config) bool { return c.ProxyRun.BindIPs[0] == "0.0.0.0" }},
	{key: "proxy.run.registry", yml: proxyRun("registry: registry:4443"), check: func(c *Config) bool { return c.ProxyRun.Image == "registry:4443/basecamp/kamal-proxy:v0.9.2" }},
	{key: "proxy.run.repository", yml: proxyRun("repository: myrepo/kamal-proxy"), check: func(c *Config) bool { return c.ProxyRun.Image == "myrepo/kamal-proxy:v0.9.2" }},
	{key: "proxy.run.version", yml: proxyRun("version: v0.8.0"), check: func(c *Config) bool { return c.ProxyRun.Image == "basecamp/kamal-proxy:v0.8.0" }},
	{key: "proxy.run.options", yml: proxyRun("options:\n      memory: 512m"), check: func(c *Config) bool { return c.ProxyRun.Options.Get("memory")[0] == "512m" }},

	// builder.yml
	{key: "builder.arch", yml: "builder:\n  arch:\n    - amd64\n", check: func(c *Config) bool { return c.Builder.Arch[0] == "amd64" }},
	{key: "builder.remote", outcome: warned, yml: "builder:\n  remote: ssh://docker@docker-builder\n"},
	{key: "builder.local", yml: "builder:\n  local: true\n", check: func(c *Config) bool { return *c.Builder.Local }},
	{key: "builder.local[false]", outcome: warned, at: "builder.local", yml: "builder:\n  local: false\n"},
	{key: "builder.pack.builder", outcome: warned, at: "builder.pack", yml: "builder:\n  pack:\n    builder: heroku/builder:24\n"},
	{key: "builder.pack.buildpacks", outcome: warned, at: "builder.pack", yml: "builder:\n  pack:\n    buildpacks:\n      - heroku/ruby\n"},
	{key: "builder.cache.type", outcome: warned, at: "builder.cache", yml: "builder:\n  cache:\n    type: registry\n"},
	{key: "builder.cache.options", outcome: warned, at: "builder.cache", yml: "builder:\n  cache:\n    options: mode=max\n"},
	{key: "builder.cache.image", outcome: warned, at: "builder.cache", yml: "builder:\n  cache:\n    image: kamal-app-build-cache\n"},
	{key: "builder.context", yml: "builder:\n  context: .\n", check: func(c *Config) bool { return c.Builder.Context == "." }},
	{key: "builder.dockerfile", yml: "builder:\n  dockerfile: Dockerfile.production\n", check: func(c *Config) bool { return c.Builder.Dockerfile == "Dockerfile.production" }},
	{key: "builder.target", yml: "builder:\n  target: production\n", check: func(c *Config) bool { return c.Builder.Target == "production" }},
	{key: "builder.args", yml: "builder:\n  args:\n    ENVIRONMENT: production\n", check: func(c *Config) bool { return c.Builder.Args["ENVIRONMENT"] == "production" }},
	{key: "builder.secrets", outcome: warned, yml: "builder:\n  secrets:\n    - SECRET1\n"},
	{key: "builder.ssh", outcome: warned, yml: "builder:\n  ssh: default=$SSH_AUTH_SOCK\n"},
	{key: "builder.driver", yml: "builder:\n  driver: docker\n", check: func(c *Config) bool { return len(c.Builder.Refusals()) == 0 }},
	{key: "builder.driver[cloud]", outcome: warned, at: "builder.driver", yml: "builder:\n  driver: cloud org-name/builder-name\n"},
	{key: "builder.provenance", outcome: warned, yml: "builder:\n  provenance: mode=max\n"},
	{key: "builder.sbom", outcome: warned, yml: "builder:\n  sbom: true\n"},

	// accessory.yml
	{key: "accessories.NAME.service", yml: accessory("service: mysql"), check: func(c *Config) bool { return c.Accessories[0].Service == "mysql" }},
	{key: "accessories.NAME.image", yml: accessory(""), check: func(c *Config) bool { return c.Accessories[0].Image == "mysql:8.0" }},
	{key: "accessories.NAME.registry", yml: accessory("registry:\n      server: localhost:5555"), check: func(c *Config) bool { return c.Accessories[0].Registry.Server == "localhost:5555" }},
	{key: "accessories.NAME.host", yml: "accessories:\n  mysql:\n    image: mysql:8.0\n    host: mysql-db1\n", check: func(c *Config) bool { return c.Accessories[0].Hosts[0] == "mysql-db1" }},
	{key: "accessories.NAME.hosts", yml: "accessories:\n  mysql:\n    image: mysql:8.0\n    hosts:\n      - mysql-db1\n      - mysql-db2\n", check: func(c *Config) bool { return len(c.Accessories[0].Hosts) == 2 }},
	{key: "accessories.NAME.role", yml: "accessories:\n  mysql:\n    image: mysql:8.0\n    role: web\n", check: func(c *Config) bool { return c.Accessories[0].Roles[0] == "web" }},
	{key: "accessories.NAME.roles", yml: "accessories:\n  mysql:\n    image: mysql:8.0\n    roles:\n      - web\n", check: func(c *Config) bool { return c.Accessories[0].Roles[0] == "web" }},
	{key: "accessories.NAME.tag", yml: "servers:\n  - 10.0.0.1: writer\naccessories:\n  mysql:\n    image: mysql:8.0\n    tag: writer\n", check: func(c *Config) bool { return c.Accessories[0].Tags[0] == "writer" }},
	{key: "accessories.NAME.tags", yml: "servers:\n  - 10.0.0.1: [writer, reader]\naccessories:\n  mysql:\n    image: mysql:8.0\n    tags:\n      - writer\n      - reader\n", check: func(c *Config) bool { return len(c.Accessories[0].Tags) == 2 }},
	{key: "accessories.NAME.cmd", yml: accessory(`cmd: "bin/mysqld"`), check: func(c *Config) bool { return c.Accessories[0].Cmd == "bin/mysqld" }},
	{key: "accessories.NAME.port", yml: accessory(`port: "127.0.0.1:3306:3306"`), check: func(c *Config) bool { return c.Accessories[0].Port == "127.0.0.1:3306:3306" }},
	{key: "accessories.NAME.labels", yml: accessory("labels:\n      app: myapp"), check: func(c *Config) bool { return c.Accessories[0].Labels["app"] == "myapp" }},
	{key: "accessories.NAME.options", yml: accessory("options:\n      restart: always\n      cpus: 2"), check: func(c *Config) bool { return c.Accessories[0].Options.Get("cpus")[0] == "2" }},
	{key: "accessories.NAME.env", yml: accessory("env:\n      secret:\n        - DB_PASSWORD:MAIN_DB_PASSWORD"), check: func(c *Config) bool { return c.Accessories[0].Env.Secrets[0].Value.Reveal() == "main-secret" }},
	{key: "accessories.NAME.files", yml: accessory("files:\n      - config/my.cnf:/etc/mysql/my.cnf\n      - config/my.cnf:/etc/mysql/myoptions.cnf:ro"), check: func(c *Config) bool { return c.Accessories[0].Files[1].Options == "ro" }},
	{key: "accessories.NAME.files[].local", yml: accessoryFile(""), check: func(c *Config) bool { return c.Accessories[0].Files[0].Local == "config/my.cnf" }},
	{key: "accessories.NAME.files[].remote", yml: accessoryFile(""), check: func(c *Config) bool { return c.Accessories[0].Files[0].Remote == "/etc/mysql/secret.key" }},
	{key: "accessories.NAME.files[].mode", yml: accessoryFile(`mode: "0600"`), check: func(c *Config) bool { return c.Accessories[0].Files[0].Mode == "0600" }},
	{key: "accessories.NAME.files[].owner", yml: accessoryFile(`owner: "mysql:mysql"`), check: func(c *Config) bool { return c.Accessories[0].Files[0].Owner == "mysql:mysql" }},
	{key: "accessories.NAME.files[].options", yml: accessoryFile(`options: "Z"`), check: func(c *Config) bool { return c.Accessories[0].Files[0].Options == "Z" }},
	{key: "accessories.NAME.directories", yml: accessory("directories:\n      - mysql-data:/var/lib/mysql:z"), check: func(c *Config) bool { return c.Accessories[0].Directories[0].Options == "z" }},
	{key: "accessories.NAME.directories[].local", yml: accessoryDir(""), check: func(c *Config) bool { return c.Accessories[0].Directories[0].Local == "mysql-data" }},
	{key: "accessories.NAME.directories[].remote", yml: accessoryDir(""), check: func(c *Config) bool { return c.Accessories[0].Directories[0].Remote == "/var/lib/mysql" }},
	{key: "accessories.NAME.directories[].mode", yml: accessoryDir(`mode: "0750"`), check: func(c *Config) bool { return c.Accessories[0].Directories[0].Mode == "0750" }},
	{key: "accessories.NAME.directories[].owner", yml: accessoryDir(`owner: "mysql:mysql"`), check: func(c *Config) bool { return c.Accessories[0].Directories[0].Owner == "mysql:mysql" }},
	{key: "accessories.NAME.directories[].options", yml: accessoryDir(`options: "z"`), check: func(c *Config) bool { return c.Accessories[0].Directories[0].Options == "z" }},
	{key: "accessories.NAME.volumes", yml: accessory("volumes:\n      - /path/to/mysql-logs:/var/log/mysql"), check: func(c *Config) bool { return c.Accessories[0].Volumes[0].Target == "/var/log/mysql" }},
	{key: "accessories.NAME.network", yml: accessory("network: custom"), check: func(c *Config) bool { return c.Accessories[0].Network == "custom" }},
	{key: "accessories.NAME.proxy", outcome: warned, at: "accessories.mysql.proxy", yml: accessory("proxy:\n      host: db.example.com")},

	// ssh.yml
	{key: "ssh.user", yml: "ssh:\n  user: app\n", check: func(c *Config) bool { return c.SSH.User == "app" }},
	{key: "ssh.port", yml: "ssh:\n  port: \"2222\"\n", check: func(c *Config) bool { return c.SSH.Port == 2222 }},
	{key: "ssh.proxy", yml: "ssh:\n  proxy: root@proxy-host\n", check: func(c *Config) bool { return c.SSH.Proxy == "root@proxy-host" }},
	{key: "ssh.proxy_command", yml: "ssh:\n  proxy_command: \"ssh -W %h:%p user@proxy\"\n", check: func(c *Config) bool { return c.SSH.ProxyCommand == "ssh -W %h:%p user@proxy" }},
	{key: "ssh.log_level", outcome: warned, yml: "ssh:\n  log_level: debug\n"},
	{key: "ssh.keys_only", yml: "ssh:\n  keys_only: true\n", check: func(c *Config) bool { return c.SSH.KeysOnly }},
	{key: "ssh.keys", yml: "ssh:\n  keys: [ \"~/.ssh/id.pem\" ]\n", check: func(c *Config) bool { return c.SSH.Keys[0] == "~/.ssh/id.pem" }},
	{key: "ssh.key_data", yml: "ssh:\n  key_data:\n    - SSH_PRIVATE_KEY\n", check: func(c *Config) bool { return c.SSH.KeyData[0].Reveal() == "private-key" }},
	{key: "ssh.key_data[key]", yml: "ssh:\n  key_data:\n    - \"-----BEGIN OPENSSH PRIVATE KEY----- ...\"\n", check: func(c *Config) bool { return strings.HasPrefix(c.SSH.KeyData[0].Reveal(), "-----BEGIN") }},
	{key: "ssh.config", outcome: warned, yml: "ssh:\n  config: [ \"~/.ssh/myconfig\" ]\n"},
	{key: "ssh.forward_agent", yml: "ssh:\n  forward_agent: false\n", check: func(c *Config) bool { return !c.SSH.ForwardAgent }},
	{key: "ssh.forward_agent[true]", outcome: warned, at: "ssh.forward_agent", yml: "ssh:\n  forward_agent: true\n"},

	// sshkit.yml
	{key: "sshkit.max_concurrent_starts", outcome: warned, yml: "sshkit:\n  max_concurrent_starts: 10\n"},
	{key: "sshkit.pool_idle_timeout", outcome: warned, yml: "sshkit:\n  pool_idle_timeout: 300\n"},
	{key: "sshkit.dns_retries", outcome: warned, yml: "sshkit:\n  dns_retries: 3\n"},

	// boot.yml
	{key: "boot.limit", yml: "boot:\n  limit: 25%\n", check: func(c *Config) bool { return c.Boot.LimitPercent == 25 }},
	{key: "boot.wait", yml: "boot:\n  wait: 10\n", check: func(c *Config) bool { return c.Boot.Wait == 10*time.Second }},
	{key: "boot.parallel_roles", outcome: warned, yml: "boot:\n  parallel_roles: true\n"},

	// alias.yml
	{key: "aliases", yml: "aliases:\n  console: app exec -i --reuse \"bin/rails console\"\n", check: func(c *Config) bool { return c.Aliases["console"] == `app exec -i --reuse "bin/rails console"` }},

	// output.yml
	{key: "output.otel.endpoint", outcome: warned, yml: "output:\n  otel:\n    endpoint: http://otel-gateway:4318\n"},
	{key: "output.file.path", outcome: warned, yml: "output:\n  file:\n    path: /var/log/kamal/\n"},
}

const customCert = "proxy:\n  host: foo.example.com\n  ssl:\n    certificate_pem: CERTIFICATE_PEM\n    private_key_pem: PRIVATE_KEY_PEM\n"

func role(setting string) string {
	return "servers:\n  web: [10.0.0.1]\n  workers:\n    hosts: [10.0.0.2]\n    " + setting + "\n"
}

func buffering(setting string) string { return "proxy:\n  buffering:\n    " + setting + "\n" }

func proxyRun(setting string) string { return "proxy:\n  run:\n    " + setting + "\n" }

func accessory(setting string) string {
	return "accessories:\n  mysql:\n    image: mysql:8.0\n    host: 10.0.0.1\n    " + setting + "\n"
}

func accessoryFile(setting string) string {
	return accessory("files:\n      - local: config/my.cnf\n        remote: /etc/mysql/secret.key\n        " + setting)
}

func accessoryDir(setting string) string {
	return accessory("directories:\n      - local: mysql-data\n        remote: /var/lib/mysql\n        " + setting)
}

const kamalKeySecrets = `DB_PASSWORD=db-secret
MAIN_DB_PASSWORD=main-secret
SECONDARY_DB_PASSWORD=second-secret
DOCKER_USER=acme
KAMAL_REGISTRY_PASSWORD=registry-secret
CERTIFICATE_PEM=cert-pem
PRIVATE_KEY_PEM=key-pem
SSH_PRIVATE_KEY=private-key
`

// Every key of Kamal 2.12's configuration reference loads as
// docs/kamal-keys.md says: accepted with its effect, accepted with a
// warning that names it, or refused at its line with the reason.
func TestKamalReferenceKeys(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range kamalKeys {
		if seen[k.key] {
			t.Errorf("%s is in the table twice", k.key)
		}
		seen[k.key] = true
		t.Run(k.key, func(t *testing.T) {
			yml := k.yml
			if !strings.Contains(yml, "servers:") {
				yml = "servers: [10.0.0.1]\n" + yml
			}
			files := map[string]string{
				"config/deploy.yml": "service: shop\nimage: acme/shop\n" + yml,
				"config/my.cnf":     "[mysqld]\n",
				".ship/secrets":     kamalKeySecrets,
			}
			if k.dest != "" {
				files["config/deploy."+k.dest+".yml"] = "env:\n  clear:\n    STAGE: " + k.dest + "\n"
			}
			dir := write(t, files)
			c, err := load(t, dir, Options{Destination: k.dest})
			at := k.at
			if at == "" {
				at = k.key
			}
			switch k.outcome {
			case accepted:
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(c.Warnings) > 0 {
					t.Errorf("warnings: %v", c.Warnings)
				}
				if k.check == nil {
					t.Fatal("an accepted key needs a check of its effect")
				}
				if !k.check(c) {
					t.Errorf("the parsed config does not hold the setting:\n%s", yml)
				}
			case warned:
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(c.Warnings) != 1 || c.Warnings[0].Path != at || c.Warnings[0].Line == 0 {
					t.Fatalf("warnings %v, want one at %s", c.Warnings, at)
				}
				if msg := c.Warnings[0].Message; len(msg) < 30 {
					t.Errorf("warning %q does not say why", msg)
				}
			case refused:
				problems, ok := err.(Problems)
				if !ok || len(problems) != 1 {
					t.Fatalf("got %v, want one problem", err)
				}
				want := filepath.Join(dir, "config/deploy.yml") + k.want
				if got := problems[0].String(); !strings.HasPrefix(got, want) {
					t.Errorf("problem:\n%s\nwant prefix:\n%s", got, want)
				}
			}
		})
	}
}

// docs/kamal-keys.md lists the same keys with the same outcomes, and
// gives the reason for each warning and refusal.
func TestKamalKeysPage(t *testing.T) {
	data, err := os.ReadFile("../docs/kamal-keys.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([^`]+)` \\| (accepted|warning|refused) \\|(.*)\\|$")
	page := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if _, dup := page[m[1]]; dup {
			t.Errorf("docs/kamal-keys.md lists %s twice", m[1])
		}
		page[m[1]] = m[2]
		if m[2] != "accepted" && strings.TrimSpace(m[3]) == "" {
			t.Errorf("docs/kamal-keys.md: %s is %s without a reason", m[1], m[2])
		}
	}
	for _, k := range kamalKeys {
		got, ok := page[k.key]
		switch {
		case !ok:
			t.Errorf("docs/kamal-keys.md does not list %s (%s)", k.key, k.outcome)
		case got != k.outcome.String():
			t.Errorf("docs/kamal-keys.md says %s is %s; the config suite finds it %s", k.key, got, k.outcome)
		}
		delete(page, k.key)
	}
	for key := range page {
		t.Errorf("docs/kamal-keys.md lists %s, which the config suite does not test", key)
	}
}
