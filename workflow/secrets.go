package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/shipdeploy/ship/actions"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/vault"
)

// SecretsFetchRequest is `ship secrets fetch`: Kamal's adapter, --account,
// --from and the secrets to fetch.
type SecretsFetchRequest struct {
	Globals
	vault.Request
	// Stdin is the terminal, for the vendor CLI to sign in with.
	Stdin io.Reader
	// Inline (Kamal's hidden --inline) prints no line ending.
	Inline bool
}

// SecretsFetch fetches secrets with the adapter's vendor CLI and prints
// them as Kamal does: one JSON object of name → value. Printing them is
// the command's job, so they are not redacted; the config is not read.
func SecretsFetch(ctx context.Context, req SecretsFetchRequest) error {
	r := vault.Exec{Stdin: req.Stdin, Stderr: req.UI.Err}
	res, err := vault.Fetch(ctx, r, req.Request)
	if errors.Is(err, vault.ErrAccountRequired) {
		return usage(err)
	}
	if err != nil {
		return err
	}
	if err := maskUnderActions(req.UI.Err, res.Printed()...); err != nil {
		return err
	}
	return printValue(req.UI.Out, res.JSON(), req.Inline)
}

// SecretsExtractRequest is `ship secrets extract NAME SECRETS`.
type SecretsExtractRequest struct {
	Globals
	Name    string
	Secrets string // the JSON `secrets fetch` printed
	Inline  bool
}

// SecretsExtract prints one secret of fetch's JSON.
func SecretsExtract(req SecretsExtractRequest) error {
	v, err := vault.Extract(req.Name, req.Secrets)
	if err != nil {
		return err
	}
	if err := maskUnderActions(req.UI.Err, v); err != nil {
		return err
	}
	return printValue(req.UI.Out, v, req.Inline)
}

// SecretsPrint prints every NAME=VALUE of the secrets files, as Kamal's
// `secrets print` does, to debug them. The config is loaded without
// LoadConfig, which would have the Redactor hide exactly what was asked
// for; a config that fails to load still hides them in its problems.
func SecretsPrint(g Globals) error {
	cfg, err := config.Load(config.Options{File: g.ConfigFile, Destination: g.Destination})
	if err != nil {
		return err
	}
	for _, kv := range cfg.SecretsFileValues() {
		if err := maskUnderActions(g.UI.Err, kv[1]); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(g.UI.Out, "%s=%s\n", kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// maskUnderActions has a GitHub Actions runner hide values in the job's
// log before they are printed: these commands print secrets on purpose,
// and a CI log is read by more people than the terminal is. w is stderr,
// which the runner reads commands from too, so that stdout stays the
// value alone when a step captures it with $(…).
func maskUnderActions(w io.Writer, values ...string) error {
	if _, ok := actions.Detect(); !ok {
		return nil
	}
	for _, v := range values {
		for _, line := range actions.Mask(v) {
			if err := actions.Command(w, line); err != nil {
				return err
			}
		}
	}
	return nil
}

func printValue(w io.Writer, v string, inline bool) error {
	if !inline {
		v += "\n"
	}
	_, err := io.WriteString(w, v)
	return err
}
