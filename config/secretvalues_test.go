package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Every kind of secret a config can hold is listed, clear values are not.
func TestSecretValues(t *testing.T) {
	dir := write(t, map[string]string{
		"config/deploy.yml": litestreamBase + `registry:
  server: registry.example.com
  username: [REGISTRY_USER]
  password: [REGISTRY_PASSWORD]
env:
  clear:
    RAILS_ENV: production
  secret: [APP_SECRET]
  tags:
    big:
      secret: [TAG_SECRET]
proxy:
  host: shop.example.com
  ssl:
    certificate_pem: CERT_PEM
    private_key_pem: KEY_PEM
ssh:
  key_data: [SSH_KEY]
accessories:
  redis:
    image: redis:7
    host: 10.0.0.1
    env:
      secret: [REDIS_PASSWORD]
`,
		".ship/secrets": "S3_KEY=key-id-value\nS3_SECRET=very-secret\nREGISTRY_USER=robot-user\nREGISTRY_PASSWORD=registry-pw\n" +
			"APP_SECRET=app-secret-value\nTAG_SECRET=tag-secret-value\nREDIS_PASSWORD=redis-pw\nUNUSED=never-referenced\n" +
			"CERT_PEM=\"-----BEGIN CERTIFICATE-----\nMIIB-cert\n-----END CERTIFICATE-----\"\n" +
			"KEY_PEM=\"-----BEGIN PRIVATE KEY-----\nMIIE-key\n-----END PRIVATE KEY-----\"\n" +
			"SSH_KEY=\"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn-ssh\n-----END OPENSSH PRIVATE KEY-----\"\n",
	})
	c, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := c.SecretValues()
	for _, want := range []string{"key-id-value", "very-secret", "robot-user", "registry-pw", "app-secret-value", "tag-secret-value", "redis-pw"} {
		if !slices.Contains(got, want) {
			t.Errorf("SecretValues lacks %q: %q", want, got)
		}
	}
	for _, part := range []string{"MIIB-cert", "MIIE-key", "b3Blbn-ssh"} {
		if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, part) }) {
			t.Errorf("SecretValues lacks the PEM holding %q: %q", part, got)
		}
	}
	for _, not := range []string{"production", "never-referenced", "registry.example.com"} {
		if slices.Contains(got, not) {
			t.Errorf("SecretValues lists %q, which is no secret the config holds", not)
		}
	}
	// A username written in the config is no secret.
	os.WriteFile(filepath.Join(dir, "config/deploy.yml"), []byte("service: shop\nimage: acme/shop\nservers: [10.0.0.1]\nregistry:\n  username: robot-user\n  password: [REGISTRY_PASSWORD]\n"), 0o644)
	if c, err = load(t, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := c.SecretValues(); !slices.Equal(got, []string{"registry-pw"}) {
		t.Errorf("a literal username: SecretValues = %q", got)
	}
}

// A config that fails to load cannot tell a Redactor its secrets, so its
// problems come back with the secrets files' values already hidden: a
// $(command) that fails may print one read before it.
func TestFailedLoadRedactsSecrets(t *testing.T) {
	dir := write(t, map[string]string{
		"config/deploy.yml": "service: shop\nimage: acme/shop\nservers: [10.0.0.1]\nenv:\n  secret: [TOKEN, DERIVED]\n",
		".ship/secrets":     "TOKEN=tok-3f9a1c77\nDERIVED=$(echo \"cannot use $TOKEN\" >&2; exit 1)\n",
	})
	_, err := load(t, dir, Options{})
	if err == nil {
		t.Fatal("a failing $(command) loaded")
	}
	if strings.Contains(err.Error(), "tok-3f9a1c77") {
		t.Errorf("the problem shows a secret: %v", err)
	}
	problems := redactProblems(Problems{{File: ".ship/secrets", Line: 2, Message: "$(x) failed: exit status 1: cannot use tok-3f9a1c77"}},
		Secrets{"TOKEN": "tok-3f9a1c77"})
	if problems[0].Message != "$(x) failed: exit status 1: cannot use [REDACTED]" || problems[0].Line != 2 {
		t.Errorf("redactProblems = %+v", problems[0])
	}
}
