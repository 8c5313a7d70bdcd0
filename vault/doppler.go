package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// doppler drives `doppler`. --from is PROJECT/CONFIG, unless DOPPLER_TOKEN
// is a service token, which names both.
type doppler struct{}

func (doppler) tool() tool {
	return tool{command: "doppler", product: "Doppler CLI",
		install: "https://docs.doppler.com/docs/install-cli",
		signIn:  "sign in with `doppler login`, or set DOPPLER_TOKEN to a service token"}
}

func (doppler) requiresAccount() bool { return false }

// login runs `doppler login -y` unless `doppler me` works.
func (doppler) login(ctx context.Context, c cli, _ string) (string, error) {
	if c.ok(ctx, "me", "--json") {
		return "", nil
	}
	if _, err := c.run(ctx, "login", "-y"); err != nil {
		return "", c.failed("Failed to login to Doppler")
	}
	return "", nil
}

// fetch reads all secrets, by their last path component, in one `doppler
// secrets get`; their "computed" values.
func (doppler) fetch(ctx context.Context, c cli, req Request, _ string) (Result, error) {
	secrets := prefixed(req.Secrets, req.From)
	args := []string{"secrets", "get"}
	for _, s := range secrets {
		parts := pathParts(s)
		args = append(args, parts[len(parts)-1])
	}
	args = append(args, "--json")
	if !strings.HasPrefix(req.Getenv("DOPPLER_TOKEN"), "dp.st") {
		var parts []string
		if len(secrets) > 0 {
			parts = rubySplit(secrets[0], "/")
		}
		if len(parts) < 2 {
			return nil, errors.New("Missing project or config from '--from=project/config' option") //nolint:staticcheck // Kamal's message
		}
		args = append(args, "-p", parts[0], "-c", parts[1])
	}
	body, err := c.run(ctx, args...)
	if err != nil {
		return nil, c.failed(fmt.Sprintf("Could not read %s from Doppler", rubyList(secrets)))
	}
	fields, err := object([]byte(body))
	if err != nil {
		return nil, fmt.Errorf("doppler secrets get printed no secrets JSON: %w", err)
	}
	var out Result
	for _, f := range fields {
		var v struct {
			Computed json.RawMessage `json:"computed"`
		}
		_ = json.Unmarshal(f.value, &v) // no "computed": ""
		out.set(f.key, str(v.Computed))
	}
	return out, nil
}
