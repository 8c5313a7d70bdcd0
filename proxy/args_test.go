package proxy

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/config"
)

// loadConfig loads deploy.yml, and secrets as .kamal/secrets, the way the
// CLI does.
func loadConfig(t *testing.T, deployYML, secrets string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"config/deploy.yml": deployYML}
	if secrets != "" {
		files[".kamal/secrets"] = secrets
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := config.Load(config.Options{File: filepath.Join(dir, "config/deploy.yml")})
	if err != nil {
		t.Fatalf("load:\n%s\n%v", deployYML, err)
	}
	return c
}

// webTarget routes service shop's web role to container shop-web-abc123,
// as a deploy does.
func webTarget(t *testing.T, c *config.Config) Target {
	t.Helper()
	r := c.Role("web")
	if r == nil || r.Proxy == nil {
		t.Fatalf("role web is not behind the proxy: %+v", r)
	}
	return Target{
		Service: "shop-web", App: "shop", Role: "web", Container: "shop-web-abc123", Proxy: r.Proxy,
		DeployTimeout: c.DeployTimeout, DrainTimeout: c.DrainTimeout,
	}
}

func checkArgs(t *testing.T, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("args:\n got %s\nwant %s", strings.Join(got, " "), strings.Join(want, " "))
	}
}

func TestDeployArgsSSL(t *testing.T) {
	c := loadConfig(t, `service: shop
image: acme/shop
servers:
  web: [10.0.0.1]
proxy:
  ssl: true
  host: shop.example.com
`, "")
	checkArgs(t, DeployArgs(webTarget(t, c)), []string{
		"kamal-proxy", "deploy", "shop-web",
		"--target=shop-web-abc123:80",
		"--host=shop.example.com",
		"--tls",
		"--deploy-timeout=30s",
		"--drain-timeout=30s",
		"--health-check-interval=1s",
		"--health-check-timeout=5s",
		"--health-check-path=/up",
		"--target-timeout=30s",
		"--buffer-requests=true",
		"--buffer-responses=true",
		"--tls-redirect=true",
		"--log-request-header=Cache-Control",
		"--log-request-header=Last-Modified",
		"--log-request-header=User-Agent",
	})
}

// Without ssl, nothing about TLS is passed: kamal-proxy's own --tls-redirect
// default does nothing for a plain HTTP service.
func TestDeployArgsPlainHTTP(t *testing.T) {
	c := loadConfig(t, `service: shop
image: acme/shop
servers:
  web: [10.0.0.1]
proxy:
  app_port: 3000
deploy_timeout: 45
drain_timeout: 1500ms
`, "")
	checkArgs(t, DeployArgs(webTarget(t, c)), []string{
		"kamal-proxy", "deploy", "shop-web",
		"--target=shop-web-abc123:3000",
		"--deploy-timeout=45s",
		"--drain-timeout=1.5s",
		"--health-check-interval=1s",
		"--health-check-timeout=5s",
		"--health-check-path=/up",
		"--target-timeout=30s",
		"--buffer-requests=true",
		"--buffer-responses=true",
		"--log-request-header=Cache-Control",
		"--log-request-header=Last-Modified",
		"--log-request-header=User-Agent",
	})
}

func TestDeployArgsCustomCertificate(t *testing.T) {
	const certPEM = "-----BEGIN CERTIFICATE-----MIIBcertificatebody-----END CERTIFICATE-----"
	const keyPEM = "-----BEGIN PRIVATE KEY-----MIIEprivatekeybody-----END PRIVATE KEY-----"
	c := loadConfig(t, `service: shop
image: acme/shop
servers:
  web: [10.0.0.1]
proxy:
  host: shop.example.com
  ssl:
    certificate_pem: CERTIFICATE_PEM
    private_key_pem: PRIVATE_KEY_PEM
`, "CERTIFICATE_PEM='"+certPEM+"'\nPRIVATE_KEY_PEM='"+keyPEM+"'\n")
	tg := webTarget(t, c)
	cert := tg.Proxy.Certificate
	if cert == nil || cert.CertificatePEM.Reveal() != certPEM || cert.PrivateKeyPEM.Reveal() != keyPEM {
		t.Fatalf("certificate not read from the secrets: %+v", tg.Proxy)
	}
	certPath, keyPath := TLSPaths("shop", "web")
	if certPath != "/home/kamal-proxy/.apps-config/shop/tls/web/cert.pem" || keyPath != "/home/kamal-proxy/.apps-config/shop/tls/web/key.pem" {
		t.Errorf("TLSPaths = %s, %s", certPath, keyPath)
	}
	args := DeployArgs(tg)
	checkArgs(t, args, []string{
		"kamal-proxy", "deploy", "shop-web",
		"--target=shop-web-abc123:80",
		"--host=shop.example.com",
		"--tls",
		"--tls-certificate-path=" + certPath,
		"--tls-private-key-path=" + keyPath,
		"--deploy-timeout=30s",
		"--drain-timeout=30s",
		"--health-check-interval=1s",
		"--health-check-timeout=5s",
		"--health-check-path=/up",
		"--target-timeout=30s",
		"--buffer-requests=true",
		"--buffer-responses=true",
		"--tls-redirect=true",
		"--log-request-header=Cache-Control",
		"--log-request-header=Last-Modified",
		"--log-request-header=User-Agent",
	})
	for _, a := range args {
		for _, secret := range []string{certPEM, keyPEM, "MIIB", "MIIE", "BEGIN"} {
			if strings.Contains(a, secret) {
				t.Errorf("argument %q carries the certificate or key (%q)", a, secret)
			}
		}
	}
}

// The certificate's directory is the app's, SERVICE-DEST with a destination.
func TestDeployArgsCustomCertificateDestination(t *testing.T) {
	p := &config.Proxy{
		Hosts: []string{"staging.example.com"}, AppPort: 80, SSL: true, SSLRedirect: true,
		Certificate:     &config.Certificate{CertificatePEM: config.NewSecret("C"), PrivateKeyPEM: config.NewSecret("K")},
		ResponseTimeout: 30 * time.Second,
		Healthcheck:     config.ProxyHealthcheck{Path: "/up", Interval: time.Second, Timeout: 5 * time.Second},
	}
	args := DeployArgs(Target{Service: "shop-admin-staging", App: "shop-staging", Role: "admin", Container: "shop-admin-staging-v1", Proxy: p})
	want := []string{
		"--tls-certificate-path=/home/kamal-proxy/.apps-config/shop-staging/tls/admin/cert.pem",
		"--tls-private-key-path=/home/kamal-proxy/.apps-config/shop-staging/tls/admin/key.pem",
	}
	if len(args) < 8 || !reflect.DeepEqual(args[6:8], want) {
		t.Errorf("args = %q, want %q after --tls", args, want)
	}
}

func TestDeployArgsEveryOption(t *testing.T) {
	c := loadConfig(t, `service: shop
image: acme/shop
servers:
  web: [10.0.0.1]
proxy:
  hosts:
    - shop.example.com
    - www.shop.example.com
  app_port: 3000
  ssl: true
  ssl_redirect: false
  forward_headers: true
  path_prefixes:
    - /api
    - /admin
  strip_path_prefix: false
  response_timeout: 90
  healthcheck:
    path: /health
    interval: 3
    timeout: 2500ms
  buffering:
    requests: true
    responses: false
    memory: 2_000_000
    max_request_body: 40_000_000
    max_response_body: 0
  logging:
    request_headers: [X-Request-Id]
    response_headers: [X-Runtime, Content-Type]
deploy_timeout: 60
drain_timeout: 10
`, "")
	checkArgs(t, DeployArgs(webTarget(t, c)), []string{
		"kamal-proxy", "deploy", "shop-web",
		"--target=shop-web-abc123:3000",
		"--host=shop.example.com",
		"--host=www.shop.example.com",
		"--tls",
		"--deploy-timeout=60s",
		"--drain-timeout=10s",
		"--health-check-interval=3s",
		"--health-check-timeout=2.5s",
		"--health-check-path=/health",
		"--target-timeout=90s",
		"--buffer-requests=true",
		"--buffer-responses=false",
		"--buffer-memory=2000000",
		"--max-request-body=40000000",
		"--max-response-body=0",
		"--path-prefix=/api",
		"--path-prefix=/admin",
		"--strip-path-prefix=false",
		"--forward-headers=true",
		"--tls-redirect=false",
		"--log-request-header=X-Request-Id",
		"--log-response-header=X-Runtime",
		"--log-response-header=Content-Type",
	})
}

// Kamal's comma-separated forms: host: a,b and path_prefix: /a,/b. Buffering
// keys left out keep their defaults.
func TestDeployArgsCommaForms(t *testing.T) {
	c := loadConfig(t, `service: shop
image: acme/shop
servers:
  web: [10.0.0.1]
proxy:
  host: shop.example.com,www.shop.example.com
  path_prefix: /api,/v2
  forward_headers: false
  buffering:
    max_request_body: 1_000
`, "")
	checkArgs(t, DeployArgs(webTarget(t, c)), []string{
		"kamal-proxy", "deploy", "shop-web",
		"--target=shop-web-abc123:80",
		"--host=shop.example.com",
		"--host=www.shop.example.com",
		"--deploy-timeout=30s",
		"--drain-timeout=30s",
		"--health-check-interval=1s",
		"--health-check-timeout=5s",
		"--health-check-path=/up",
		"--target-timeout=30s",
		"--buffer-requests=true",
		"--buffer-responses=true",
		"--max-request-body=1000",
		"--path-prefix=/api",
		"--path-prefix=/v2",
		"--forward-headers=false",
		"--log-request-header=Cache-Control",
		"--log-request-header=Last-Modified",
		"--log-request-header=User-Agent",
	})
}

// An empty request_headers list turns Kamal's default headers off: Kamal
// passes `proxy.logging.request_headers || DEFAULT_LOG_REQUEST_HEADERS`, and
// an empty list is set.
func TestDeployArgsNoRequestHeaders(t *testing.T) {
	c := loadConfig(t, `service: shop
image: acme/shop
servers:
  web: [10.0.0.1]
proxy:
  logging:
    request_headers: []
`, "")
	checkArgs(t, DeployArgs(webTarget(t, c)), []string{
		"kamal-proxy", "deploy", "shop-web",
		"--target=shop-web-abc123:80",
		"--deploy-timeout=30s",
		"--drain-timeout=30s",
		"--health-check-interval=1s",
		"--health-check-timeout=5s",
		"--health-check-path=/up",
		"--target-timeout=30s",
		"--buffer-requests=true",
		"--buffer-responses=true",
	})
}

// A role's proxy section overrides the top-level one key by key.
func TestDeployArgsRoleOverride(t *testing.T) {
	c := loadConfig(t, `service: shop
image: acme/shop
servers:
  web:
    hosts: [10.0.0.1]
    proxy:
      ssl_redirect: false
      app_port: 8080
proxy:
  ssl: true
  host: shop.example.com
  healthcheck:
    path: /healthz
`, "")
	checkArgs(t, DeployArgs(webTarget(t, c)), []string{
		"kamal-proxy", "deploy", "shop-web",
		"--target=shop-web-abc123:8080",
		"--host=shop.example.com",
		"--tls",
		"--deploy-timeout=30s",
		"--drain-timeout=30s",
		"--health-check-interval=1s",
		"--health-check-timeout=5s",
		"--health-check-path=/healthz",
		"--target-timeout=30s",
		"--buffer-requests=true",
		"--buffer-responses=true",
		"--tls-redirect=false",
		"--log-request-header=Cache-Control",
		"--log-request-header=Last-Modified",
		"--log-request-header=User-Agent",
	})
}

func TestPauseArgs(t *testing.T) {
	checkArgs(t, PauseArgs("shop-web", 1500*time.Millisecond, 75*time.Second),
		[]string{"kamal-proxy", "pause", "shop-web", "--drain-timeout=1.5s", "--max-pause=75s"})
	checkArgs(t, PauseArgs("shop-web-staging", 30*time.Second, 90*time.Minute),
		[]string{"kamal-proxy", "pause", "shop-web-staging", "--drain-timeout=30s", "--max-pause=5400s"})
	checkArgs(t, PauseArgs("a", 250*time.Millisecond, 0),
		[]string{"kamal-proxy", "pause", "a", "--drain-timeout=0.25s", "--max-pause=0s"})
}

func TestMaxPause(t *testing.T) {
	// Stop and start twice over (a failed swap puts the old one back),
	// plus the margin.
	if got := MaxPause(10*time.Second, 30*time.Second); got != 90*time.Second {
		t.Errorf("MaxPause(10s, 30s) = %v, want 1m30s", got)
	}
}

// Kamal's app maintenance: kamal-proxy stop SERVICE --drain-timeout=Ns
// [--message=M], one argument each, so a message with spaces stays whole.
func TestMaintenanceArgs(t *testing.T) {
	checkArgs(t, MaintenanceArgs("shop-web", 30*time.Second, "Back at 10:00, sorry!"),
		[]string{"kamal-proxy", "stop", "shop-web", "--drain-timeout=30s", "--message=Back at 10:00, sorry!"})
	checkArgs(t, MaintenanceArgs("shop-web-staging", 1500*time.Millisecond, ""),
		[]string{"kamal-proxy", "stop", "shop-web-staging", "--drain-timeout=1.5s"})
	checkArgs(t, LiveArgs("shop-web"), []string{"kamal-proxy", "resume", "shop-web"})
}

// error_pages_path: Kamal passes the version's directory in the apps
// volume, last.
func TestDeployArgsErrorPages(t *testing.T) {
	c := loadConfig(t, `service: shop
image: acme/shop
servers:
  web: [10.0.0.1]
proxy:
  logging:
    request_headers: []
error_pages_path: public
`, "")
	tg := webTarget(t, c)
	tg.App = "shop-staging"
	tg.ErrorPages = ErrorPagesDir("shop-staging", "abc123")
	checkArgs(t, DeployArgs(tg), []string{
		"kamal-proxy", "deploy", "shop-web",
		"--target=shop-web-abc123:80",
		"--deploy-timeout=30s",
		"--drain-timeout=30s",
		"--health-check-interval=1s",
		"--health-check-timeout=5s",
		"--health-check-path=/up",
		"--target-timeout=30s",
		"--buffer-requests=true",
		"--buffer-responses=true",
		"--error-pages=/home/kamal-proxy/.apps-config/shop-staging/error_pages/abc123",
	})
}

func TestDeployArgsReadTargets(t *testing.T) {
	c := loadConfig(t, `service: shop
image: acme/shop
servers:
  web: [10.0.0.1]
proxy:
  app_port: 3000
`, "")
	target := webTarget(t, c)
	target.Proxy.WriterAffinityTimeout = 1500 * time.Millisecond
	target.ReadTargets = []string{"10.0.0.2:32768", "10.0.0.3:32770"}
	args := DeployArgs(target)
	checkArgs(t, args[len(args)-3:], []string{
		"--read-target=10.0.0.2:32768",
		"--read-target=10.0.0.3:32770",
		"--writer-affinity-timeout=1.5s",
	})
	target.ReadTargets = nil
	for _, a := range DeployArgs(target) {
		if strings.HasPrefix(a, "--writer-affinity-timeout") || strings.HasPrefix(a, "--read-target") {
			t.Errorf("no replicas, yet %s", a)
		}
	}
}
