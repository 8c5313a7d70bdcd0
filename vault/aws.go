package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// awsSecretsManager drives `aws secretsmanager`. --account is the AWS
// CLI profile.
type awsSecretsManager struct{}

func (awsSecretsManager) tool() tool {
	return tool{command: "aws", product: "AWS CLI",
		install: "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
		signIn:  "sign in with `aws configure` or `aws sso login`"}
}

func (awsSecretsManager) requiresAccount() bool { return false }

// login: the AWS CLI signs its requests with the profile's credentials.
func (awsSecretsManager) login(context.Context, cli, string) (string, error) { return "", nil }

// fetch reads all secrets in one batch-get-secret-value. A secret whose
// string is a JSON object gives one NAME/KEY per key; any other is NAME.
func (awsSecretsManager) fetch(ctx context.Context, c cli, req Request, _ string) (Result, error) {
	secrets := prefixed(req.Secrets, req.From)
	args := append([]string{"secretsmanager", "batch-get-secret-value", "--secret-id-list"}, secrets...)
	if req.Account != "" {
		args = append(args, "--profile", req.Account)
	}
	args = append(args, "--output", "json")
	body, err := c.run(ctx, args...)
	if err != nil {
		return nil, c.failed(fmt.Sprintf("Could not read %s from AWS Secrets Manager", rubyList(secrets)))
	}
	var doc struct {
		SecretValues []struct {
			Name         string `json:"Name"`
			SecretString string `json:"SecretString"`
		} `json:"SecretValues"`
		Errors []struct {
			SecretID string `json:"SecretId"`
			Message  string `json:"Message"`
		} `json:"Errors"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return nil, fmt.Errorf("aws secretsmanager printed no JSON: %w", err)
	}
	if len(doc.Errors) > 0 {
		msgs := make([]string, len(doc.Errors))
		for i, e := range doc.Errors {
			msgs[i] = e.SecretID + ": " + e.Message
		}
		return nil, errors.New(strings.Join(msgs, " "))
	}
	var out Result
	for _, s := range doc.SecretValues {
		if fields, err := object([]byte(s.SecretString)); err == nil {
			for _, f := range fields {
				out.set(s.Name+"/"+f.key, text(f.value))
			}
			continue
		}
		if json.Valid([]byte(s.SecretString)) {
			out.set(s.Name, text(json.RawMessage(s.SecretString)))
		} else {
			out.set(s.Name, s.SecretString)
		}
	}
	return out, nil
}
