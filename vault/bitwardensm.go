package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// bitwardenSecretsManager drives `bws`, Bitwarden Secrets Manager's CLI,
// which reads its access token from BWS_ACCESS_TOKEN.
type bitwardenSecretsManager struct{}

func (bitwardenSecretsManager) tool() tool {
	return tool{command: "bws", product: "Bitwarden Secrets Manager CLI",
		install: "https://bitwarden.com/help/secrets-manager-cli/",
		signIn:  "set BWS_ACCESS_TOKEN to a machine account's access token"}
}

func (bitwardenSecretsManager) requiresAccount() bool { return false }

// login checks the access token with `bws project list`.
func (bitwardenSecretsManager) login(ctx context.Context, c cli, _ string) (string, error) {
	if _, err := c.run(ctx, "project", "list"); err != nil {
		return "", errors.New("Could not authenticate to Bitwarden Secrets Manager. Did you set a valid access token? (set BWS_ACCESS_TOKEN)") //nolint:staticcheck // Kamal's message
	}
	return "", nil
}

type bwsSecret struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// fetch reads secrets by id with `bws secret get`, or "all" of them (or
// PROJECT/all, with --from PROJECT and "all") with `bws secret list`.
func (bitwardenSecretsManager) fetch(ctx context.Context, c cli, req Request, _ string) (Result, error) {
	if len(req.Secrets) == 0 {
		return nil, errors.New("You must specify what to retrieve from Bitwarden Secrets Manager") //nolint:staticcheck // Kamal's message
	}
	secrets := prefixed(req.Secrets, req.From)
	var out Result
	if len(secrets) == 1 && (secrets[0] == "all" || strings.HasSuffix(secrets[0], "/all")) {
		args := []string{"secret", "list"}
		if secrets[0] != "all" {
			project, _, _ := strings.Cut(secrets[0], "/all")
			args = append(args, project)
		}
		body, err := c.run(ctx, args...)
		if err != nil {
			return nil, c.failed("Could not read secrets from Bitwarden Secrets Manager")
		}
		var list []bwsSecret
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			return nil, fmt.Errorf("bws secret list printed no secrets JSON: %w", err)
		}
		for _, s := range list {
			out.set(s.Key, str(s.Value))
		}
		return out, nil
	}
	for _, id := range secrets {
		body, err := c.run(ctx, "secret", "get", id)
		if err != nil {
			return nil, c.failed(fmt.Sprintf("Could not read %s from Bitwarden Secrets Manager", id))
		}
		var s bwsSecret
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			return nil, fmt.Errorf("bws secret get %s printed no secret JSON: %w", id, err)
		}
		out.set(s.Key, str(s.Value))
	}
	return out, nil
}
