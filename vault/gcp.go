package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// gcpSecretManager drives `gcloud secrets`. --account is USER, or
// USER|SERVICE_ACCOUNT[,SERVICE_ACCOUNT…] to impersonate a service
// account (through a delegation chain); "default" is gcloud's own user.
type gcpSecretManager struct{}

func (gcpSecretManager) tool() tool {
	return tool{command: "gcloud", product: "gcloud CLI",
		install: "https://cloud.google.com/sdk/docs/install",
		signIn:  "sign in with `gcloud auth login`"}
}

func (gcpSecretManager) requiresAccount() bool { return true }

// loggedIn says whether `gcloud auth list` lists any account.
func (gcpSecretManager) loggedIn(ctx context.Context, c cli) bool {
	out, err := c.run(ctx, "auth", "list", "--format=json")
	var accounts []json.RawMessage
	return err == nil && json.Unmarshal([]byte(strings.TrimSpace(out)), &accounts) == nil && len(accounts) > 0
}

// login runs `gcloud auth login` when no account is signed in.
func (g gcpSecretManager) login(ctx context.Context, c cli, _ string) (string, error) {
	if g.loggedIn(ctx, c) {
		return "", nil
	}
	_, _ = c.run(ctx, "auth", "login") // loggedIn says whether it worked
	if !g.loggedIn(ctx, c) {
		return "", c.failed("could not login to gcloud")
	}
	return "", nil
}

// fetch reads each secret as [PROJECT/]NAME[/VERSION] ("default" is
// gcloud's project, "latest" the version), named PROJECT/NAME.
func (gcpSecretManager) fetch(ctx context.Context, c cli, req Request, _ string) (Result, error) {
	user, serviceAccount, impersonate := strings.Cut(req.Account, "|")
	var out Result
	for _, s := range prefixed(req.Secrets, req.From) {
		parts := rubySplit(s, "/")
		if len(parts) == 1 {
			parts = append([]string{"default"}, parts...)
		}
		for len(parts) < 2 {
			parts = append(parts, "")
		}
		project, name, version := parts[0], parts[1], "latest"
		if len(parts) > 2 {
			version = parts[2]
		}
		args := []string{"secrets", "versions", "access", version, "--secret=" + name}
		if project != "default" {
			args = append(args, "--project="+project)
		}
		if user != "default" {
			args = append(args, "--account="+user)
		}
		if impersonate {
			args = append(args, "--impersonate-service-account="+serviceAccount)
		}
		args = append(args, "--format=json")
		item := project + "/" + name
		body, err := c.run(ctx, args...)
		if err != nil {
			return nil, c.failed(fmt.Sprintf("Could not read %s from Google Secret Manager", item))
		}
		var doc struct {
			Payload struct {
				Data string `json:"data"`
			} `json:"payload"`
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(body)), &doc); err != nil {
			return nil, fmt.Errorf("gcloud secrets versions access printed no JSON for %s: %w", item, err)
		}
		value, err := base64.StdEncoding.DecodeString(doc.Payload.Data)
		if err != nil {
			if value, err = base64.URLEncoding.DecodeString(doc.Payload.Data); err != nil {
				return nil, fmt.Errorf("the payload of %s from Google Secret Manager is not base64: %w", item, err)
			}
		}
		out.set(item, string(value))
	}
	return out, nil
}
