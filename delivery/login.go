package delivery

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
)

// CredentialStore is where one machine's Docker CLI keeps its registry
// logins: its config.json, and the credential helpers that file names.
// The password only ever travels in a file's content or on a helper's
// stdin, never on a command line.
type CredentialStore interface {
	// ReadConfig returns config.json's content, nil when there is none.
	ReadConfig(ctx context.Context) ([]byte, error)
	// WriteConfig replaces config.json, readable by its owner only.
	WriteConfig(ctx context.Context, content []byte) error
	// RunHelper runs docker-credential-HELPER ACTION with input on its
	// stdin, as the Docker CLI does, and returns its stdout.
	RunHelper(ctx context.Context, helper, action string, input []byte) ([]byte, error)
	// Where names the store in messages: "HOST:~/.docker/config.json".
	Where() string
}

// dockerHub is the key the Docker CLI files Docker Hub's login under.
const dockerHub = "https://index.docker.io/v1/"

// credentialKey is the key a login to server is filed under.
func credentialKey(server string) string {
	switch server {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io":
		return dockerHub
	}
	return server
}

// helperName is what a config.json may name as a credential helper: it
// becomes part of a command name.
var helperName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// dockerConfig is a config.json, every key kept as it was except the
// logins ship changes.
type dockerConfig struct {
	raw         map[string]json.RawMessage
	auths       map[string]json.RawMessage
	credsStore  string
	credHelpers map[string]string
}

func parseDockerConfig(content []byte) (*dockerConfig, error) {
	c := &dockerConfig{raw: map[string]json.RawMessage{}, auths: map[string]json.RawMessage{}}
	if len(content) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(content, &c.raw); err != nil {
		return nil, err
	}
	if c.raw == nil {
		c.raw = map[string]json.RawMessage{}
	}
	for key, into := range map[string]any{"auths": &c.auths, "credsStore": &c.credsStore, "credHelpers": &c.credHelpers} {
		if v, ok := c.raw[key]; ok {
			if err := json.Unmarshal(v, into); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	if c.auths == nil {
		c.auths = map[string]json.RawMessage{}
	}
	return c, nil
}

// helperFor is the credential helper that keeps key's login; "" is the
// file itself.
func (c *dockerConfig) helperFor(key string) (string, error) {
	h := c.credHelpers[key]
	if h == "" {
		h = c.credsStore
	}
	if h != "" && !helperName.MatchString(h) {
		return "", fmt.Errorf("config.json names the credential helper %q, which is not a helper name", h)
	}
	return h, nil
}

func (c *dockerConfig) bytes() ([]byte, error) {
	auths, err := json.Marshal(c.auths)
	if err != nil {
		return nil, err
	}
	c.raw["auths"] = auths
	b, err := json.MarshalIndent(c.raw, "", "\t")
	return append(b, '\n'), err
}

// Login checks creds with the registry through engine (the Engine API's
// /auth, as docker login does), then files them in store: with the
// credential helper its config.json names, else in config.json itself. It
// says where they went.
func Login(ctx context.Context, engine client.APIClient, store CredentialStore, creds Credentials) (string, error) {
	if creds.Username == "" || creds.Password == "" {
		return "", errors.New("the registry needs a username and a password (registry.username, registry.password)")
	}
	if _, err := engine.RegistryLogin(ctx, registry.AuthConfig{Username: creds.Username, Password: creds.Password, ServerAddress: creds.Server}); err != nil {
		return "", fmt.Errorf("log in to %s: %w", serverName(creds.Server), err)
	}
	cfg, err := readConfig(ctx, store)
	if err != nil {
		return "", err
	}
	key := credentialKey(creds.Server)
	helper, err := cfg.helperFor(key)
	if err != nil {
		return "", fmt.Errorf("%s: %w", store.Where(), err)
	}
	if helper != "" {
		input, err := json.Marshal(map[string]string{"ServerURL": key, "Username": creds.Username, "Secret": creds.Password})
		if err != nil {
			return "", err
		}
		if _, err := store.RunHelper(ctx, helper, "store", input); err != nil {
			return "", fmt.Errorf("docker-credential-%s store: %w", helper, err)
		}
		return "docker-credential-" + helper, nil
	}
	auth := base64.StdEncoding.EncodeToString([]byte(creds.Username + ":" + creds.Password))
	entry, err := json.Marshal(map[string]string{"auth": auth})
	if err != nil {
		return "", err
	}
	cfg.auths[key] = entry
	return store.Where(), writeConfig(ctx, store, cfg)
}

// Logout removes the login to server from store, as docker logout does.
// It reports whether there was one.
func Logout(ctx context.Context, store CredentialStore, server string) (bool, error) {
	cfg, err := readConfig(ctx, store)
	if err != nil {
		return false, err
	}
	key := credentialKey(server)
	helper, err := cfg.helperFor(key)
	if err != nil {
		return false, fmt.Errorf("%s: %w", store.Where(), err)
	}
	_, had := cfg.auths[key]
	if helper != "" {
		// A helper that has no such login fails; docker logout reports
		// that as "not logged in" too.
		if _, err := store.RunHelper(ctx, helper, "erase", []byte(key)); err == nil {
			had = true
		}
	}
	if _, ok := cfg.auths[key]; ok {
		delete(cfg.auths, key)
		if err := writeConfig(ctx, store, cfg); err != nil {
			return false, err
		}
	}
	return had, nil
}

func readConfig(ctx context.Context, store CredentialStore) (*dockerConfig, error) {
	content, err := store.ReadConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", store.Where(), err)
	}
	cfg, err := parseDockerConfig(content)
	if err != nil {
		return nil, fmt.Errorf("%s is not a Docker config file: %w", store.Where(), err)
	}
	return cfg, nil
}

func writeConfig(ctx context.Context, store CredentialStore, cfg *dockerConfig) error {
	content, err := cfg.bytes()
	if err != nil {
		return err
	}
	if err := store.WriteConfig(ctx, content); err != nil {
		return fmt.Errorf("write %s: %w", store.Where(), err)
	}
	return nil
}

// serverName names a registry in messages.
func serverName(server string) string {
	if server == "" {
		return "Docker Hub"
	}
	return server
}
