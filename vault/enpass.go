package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// enpass drives `enpass-cli`. Enpass keeps its vault offline: --from is
// the vault's directory, and there is no account or sign-in.
type enpass struct{}

func (enpass) tool() tool {
	return tool{command: "enpass-cli", product: "Enpass CLI",
		install: "https://github.com/hazcod/enpass-cli",
		signIn:  "point --from at the vault's directory"}
}

func (enpass) requiresAccount() bool { return false }

func (enpass) login(context.Context, cli, string) (string, error) { return "", nil }

// fetch reads TITLE (each of its passwords, as TITLE/LABEL) or
// TITLE/LABEL, with one `enpass-cli show` of all titles.
func (enpass) fetch(ctx context.Context, c cli, req Request, _ string) (Result, error) {
	if req.From == "" {
		return nil, errors.New("Enpass needs --from, the path of the vault")
	}
	var titles []string
	for _, s := range req.Secrets {
		title := s
		if i := strings.LastIndex(s, "/"); i >= 0 && s[:i] != "" {
			title = s[:i]
		} else if i >= 0 {
			title = s[i+1:]
		}
		if !slices.Contains(titles, title) {
			titles = append(titles, title)
		}
	}
	body, err := c.run(ctx, append([]string{"-json", "-vault", req.From, "show"}, titles...)...)
	if err != nil {
		return nil, c.failed(fmt.Sprintf("Could not read %s from Enpass", rubyList(titles)))
	}
	var items []struct {
		Title    *string `json:"title"`
		Label    *string `json:"label"`
		Password string  `json:"password"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(body)), &items); err != nil {
		return nil, fmt.Errorf("enpass-cli show printed no items JSON: %w", err)
	}
	var out Result
	for _, it := range items {
		if it.Title == nil || it.Password == "" {
			continue
		}
		key := *it.Title
		if it.Label != nil && *it.Label != "" && key != "" {
			key += "/" + *it.Label
		} else if it.Label != nil && *it.Label != "" {
			key = *it.Label
		}
		if !slices.Contains(req.Secrets, *it.Title) && !slices.Contains(req.Secrets, key) {
			continue
		}
		if out.has(key) {
			return nil, fmt.Errorf("%s is present more than once", key)
		}
		out.set(key, it.Password)
	}
	return out, nil
}
