package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// lastPass drives `lpass`, LastPass's CLI.
type lastPass struct{}

func (lastPass) tool() tool {
	return tool{command: "lpass", product: "LastPass CLI",
		install: "https://github.com/lastpass/lastpass-cli",
		signIn:  "sign in with `lpass login ACCOUNT`"}
}

func (lastPass) requiresAccount() bool { return true }

// login signs in unless `lpass status` says the account is logged in.
func (lastPass) login(ctx context.Context, c cli, account string) (string, error) {
	out, _ := c.run(ctx, "status", "--color", "never")
	if strings.TrimSpace(out) == "Logged in as "+account+"." {
		return "", nil
	}
	if _, err := c.run(ctx, "login", account); err != nil {
		return "", c.failed("Failed to login to LastPass")
	}
	return "", nil
}

// fetch reads every secret in one `lpass show --json`, each named by its
// full name (FOLDER/NAME).
func (lastPass) fetch(ctx context.Context, c cli, req Request, _ string) (Result, error) {
	secrets := prefixed(req.Secrets, req.From)
	body, err := c.run(ctx, append(append([]string{"show"}, secrets...), "--json")...)
	if err != nil {
		return nil, c.failed(fmt.Sprintf("Could not read %s from LastPass", rubyList(secrets)))
	}
	var items []struct {
		Fullname string          `json:"fullname"`
		Password json.RawMessage `json:"password"`
	}
	if err := json.Unmarshal([]byte(body), &items); err != nil {
		return nil, fmt.Errorf("lpass show printed no items JSON: %w", err)
	}
	var out Result
	for _, it := range items {
		out.set(it.Fullname, str(it.Password))
	}
	var missing []string
	for _, s := range secrets {
		if !out.has(s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("Could not find %s in LastPass", strings.Join(missing, ", ")) //nolint:staticcheck // Kamal's message
	}
	return out, nil
}
