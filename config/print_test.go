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
