// Package vault fetches secrets from password managers through their own
// CLIs, as Kamal's `kamal secrets fetch` adapters do: the same adapter
// names, the same vendor commands and arguments, and the same JSON of
// name → value. It runs the vendor CLI only through a Runner, and passes
// item names to it, never secret values.
package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Request is one fetch: which adapter, Kamal's --account and --from, and
// the secrets to fetch.
type Request struct {
	Adapter string
	Account string
	From    string
	Secrets []string
	// Getenv reads the environment the vendor CLI runs in (Doppler
	// checks for a service token); nil reads ship's own.
	Getenv func(string) string
}

// ErrAccountRequired is the adapter needing --account; the text is
// Kamal's.
var ErrAccountRequired = errors.New("No value provided for required options '--account'") //nolint:staticcheck // Kamal's message, word for word

// adapter drives one vendor CLI.
type adapter interface {
	// tool is the CLI the adapter runs and how to get it.
	tool() tool
	// requiresAccount says whether --account must be given.
	requiresAccount() bool
	// login signs in when needed and returns a session token, if the
	// CLI gives one.
	login(ctx context.Context, c cli, account string) (string, error)
	// fetch reads the secrets.
	fetch(ctx context.Context, c cli, req Request, session string) (Result, error)
}

// adapters are Kamal's adapters by their class names in snake case.
var adapters = map[string]adapter{
	"one_password":              onePassword{},
	"bitwarden":                 bitwarden{},
	"bitwarden_secrets_manager": bitwardenSecretsManager{},
	"last_pass":                 lastPass{},
	"aws_secrets_manager":       awsSecretsManager{},
	"gcp_secret_manager":        gcpSecretManager{},
	"doppler":                   doppler{},
	"enpass":                    enpass{},
	"passbolt":                  passbolt{},
}

// aliases are the other names Kamal accepts.
var aliases = map[string]string{
	"1password":    "one_password",
	"lastpass":     "last_pass",
	"gcp":          "gcp_secret_manager",
	"bitwarden-sm": "bitwarden_secrets_manager",
}

// Adapters lists the adapter names and their aliases, for help texts.
func Adapters() []string {
	var out []string
	for name := range adapters {
		out = append(out, name)
	}
	for alias := range aliases {
		out = append(out, alias)
	}
	slices.Sort(out)
	return out
}

// lookup finds an adapter by name or alias, as Kamal does (its class
// names in CamelCase work too).
func lookup(name string) (adapter, error) {
	key := strings.ToLower(name)
	if a, ok := aliases[key]; ok {
		key = a
	}
	if a, ok := adapters[key]; ok {
		return a, nil
	}
	for k, a := range adapters {
		if strings.ReplaceAll(k, "_", "") == key {
			return a, nil
		}
	}
	return nil, fmt.Errorf("Unknown secrets adapter: %s (ship knows %s)", name, strings.Join(Adapters(), ", ")) //nolint:staticcheck // Kamal's message
}

// Fetch signs in to the adapter's vendor CLI if needed and reads the
// secrets, as `kamal secrets fetch` does.
func Fetch(ctx context.Context, r Runner, req Request) (Result, error) {
	a, err := lookup(req.Adapter)
	if err != nil {
		return nil, err
	}
	if a.requiresAccount() && req.Account == "" {
		return nil, ErrAccountRequired
	}
	if req.Getenv == nil {
		req.Getenv = os.Getenv
	}
	c := cli{tool: a.tool(), runner: r}
	if err := c.installed(ctx); err != nil {
		return nil, err
	}
	session, err := a.login(ctx, c, req.Account)
	if err != nil {
		return nil, err
	}
	return a.fetch(ctx, c, req, session)
}

// prefixed puts --from and a slash before each secret, as Kamal does.
func prefixed(secrets []string, from string) []string {
	if from == "" {
		return slices.Clone(secrets)
	}
	out := make([]string, len(secrets))
	for i, s := range secrets {
		out[i] = from + "/" + s
	}
	return out
}
