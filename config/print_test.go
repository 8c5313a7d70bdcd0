package config

import (
	"strings"
	"testing"
)

func TestYAMLRedactsSecrets(t *testing.T) {
	t.Setenv("KAMAL_REGISTRY_PASSWORD", "ghp_registry_token")
	c, err := Load(Options{File: "testdata/rails8/config/deploy.yml"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, secret := range []string{"ghp_registry_token", "f00dfacecafe", "AKIAEXAMPLE", "s3cr3t"} {
		if strings.Contains(s, secret) {
			t.Errorf("config output shows secret %q:\n%s", secret, s)
		}
	}
	for _, want := range []string{
		"password: '[REDACTED]'",
		"- RAILS_MASTER_KEY",
		"deploy_timeout: 30s",
		"- /var/lib/storefront/storage:/rails/storage",
		"add-host: host.docker.internal:host-gateway",
		"service: storefront",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("config output lacks %q:\n%s", want, s)
		}
	}
}

// A registry username given as a secret prints redacted, like the
// password; a literal one prints as written.
func TestYAMLRedactsASecretRegistryUsername(t *testing.T) {
	dir := write(t, map[string]string{
		"config/deploy.yml": "service: app\nimage: acme/app\nservers: [10.0.0.1]\n" +
			"registry:\n  server: ghcr.io\n  username: [REGISTRY_USER]\n  password: [REGISTRY_PASSWORD]\n" +
			"accessories:\n  cache:\n    image: acme/cache\n    host: 10.0.0.1\n    registry:\n      server: registry.example.com\n      username: cache-bot\n      password: [REGISTRY_PASSWORD]\n",
		".ship/secrets": "REGISTRY_USER=octo-secret-user\nREGISTRY_PASSWORD=pw-secret\n",
	})
	c, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Registry.Username != "octo-secret-user" {
		t.Errorf("username = %q, want the secret's value for logging in", c.Registry.Username)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, secret := range []string{"octo-secret-user", "pw-secret"} {
		if strings.Contains(s, secret) {
			t.Errorf("ship config shows %q:\n%s", secret, s)
		}
	}
	for _, want := range []string{"  username: '[REDACTED]'", "username: cache-bot"} {
		if !strings.Contains(s, want) {
			t.Errorf("ship config lacks %q:\n%s", want, s)
		}
	}
}
