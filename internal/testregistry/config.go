package testregistry

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// writeConfig writes docker-registry's configuration for a registry on addr
// that keeps its blobs under dir, serves TLS with tls and admits only
// username with password. It returns the configuration file's path.
func writeConfig(dir, addr string, tls tlsFiles, username, password string) (string, error) {
	// The registry checks the password on every request, and a push makes
	// a dozen or more: the cheapest cost keeps hashing out of the way.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return "", fmt.Errorf("hash registry password: %w", err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(username+":"+string(hash)+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write htpasswd: %w", err)
	}
	storage := filepath.Join(dir, "storage")
	if err := os.Mkdir(storage, 0o700); err != nil {
		return "", fmt.Errorf("make registry storage: %w", err)
	}

	cfg := map[string]any{
		"version": "0.1",
		// Warnings and errors only, no access log: the log is shown when a
		// test fails, and a push logs dozens of long lines per request.
		"log": map[string]any{
			"level":     "warn",
			"accesslog": map[string]any{"disabled": true},
		},
		"storage": map[string]any{
			"filesystem": map[string]any{"rootdirectory": storage},
		},
		"http": map[string]any{
			"addr": addr,
			// Otherwise it warns, at the top of the log, that it made one up.
			"secret": rand.Text(),
			"tls":    map[string]any{"certificate": tls.cert, "key": tls.key},
		},
		"auth": map[string]any{
			"htpasswd": map[string]any{"realm": "testregistry", "path": htpasswd},
		},
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encode registry config: %w", err)
	}
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("write registry config: %w", err)
	}
	return path, nil
}
