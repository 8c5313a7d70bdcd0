package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// passbolt drives the `passbolt` CLI (go-passbolt-cli). A secret is NAME
// or FOLDER/…/NAME; it is named NAME in the result.
type passbolt struct{}

func (passbolt) tool() tool {
	return tool{command: "passbolt", product: "Passbolt CLI",
		install: "https://github.com/passbolt/go-passbolt-cli",
		signIn:  "configure it with `passbolt configure` and check with `passbolt verify`"}
}

func (passbolt) requiresAccount() bool { return false }

// login checks the configuration with `passbolt verify`.
func (passbolt) login(ctx context.Context, c cli, _ string) (string, error) {
	if _, err := c.run(ctx, "verify"); err != nil {
		return "", c.failed("Failed to login to Passbolt")
	}
	return "", nil
}

// pbFolder is a folder as `passbolt list folders --json` prints it.
type pbFolder struct {
	ID       json.RawMessage `json:"id"`
	ParentID json.RawMessage `json:"folder_parent_id"`
	Name     string          `json:"name"`
}

func (f pbFolder) id() string     { return str(f.ID) }
func (f pbFolder) parent() string { return str(f.ParentID) }

// fetch finds the folders the secrets name, then lists the resources
// with a filter for each secret in its folder, as Kamal does.
func (p passbolt) fetch(ctx context.Context, c cli, req Request, _ string) (Result, error) {
	secrets := prefixed(req.Secrets, req.From)
	if len(secrets) == 0 {
		return nil, errors.New("No secrets given to fetch")
	}
	folders, err := p.folders(ctx, c, secrets)
	if err != nil {
		return nil, err
	}
	var names, conditions []string
	for _, s := range secrets {
		parts := pathParts(s)
		name := parts[len(parts)-1]
		names = append(names, name)
		if len(parts) == 1 {
			conditions = append(conditions, "Name == "+rubyInspect(shellEscape(name)))
			continue
		}
		var current *pbFolder
		for i := range parts[:len(parts)-1] {
			path := strings.Join(parts[:i+1], "/")
			for j := range folders {
				if folderPath(folders[j], folders) == path {
					current = &folders[j]
					break
				}
			}
		}
		if current != nil {
			conditions = append(conditions, fmt.Sprintf("(Name == %s && FolderParentID == %s)",
				rubyInspect(shellEscape(name)), rubyInspect(shellEscape(current.id()))))
		}
	}
	args := []string{"list", "resources"}
	if len(conditions) > 0 {
		args = append(args, "--filter", strings.Join(conditions, " || "))
	}
	for _, f := range folders {
		args = append(args, "--folder", f.id())
	}
	args = append(args, "--column", "name", "--column", "password", "--json")
	body, err := c.run(ctx, args...)
	if err != nil {
		return nil, c.failed(fmt.Sprintf("Could not read %s from Passbolt", rubyList(secrets)))
	}
	var items []struct {
		Name     string          `json:"name"`
		Password json.RawMessage `json:"password"`
	}
	if err := json.Unmarshal([]byte(body), &items); err != nil {
		return nil, fmt.Errorf("passbolt list resources printed no resources JSON: %w", err)
	}
	var out Result
	for _, it := range items {
		out.set(it.Name, str(it.Password))
	}
	var missing []string
	for _, n := range names {
		if !out.has(n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("Could not find the following secrets in Passbolt: %s", strings.Join(missing, ", ")) //nolint:staticcheck // Kamal's message
	}
	return out, nil
}

// folders finds every folder on the secrets' paths: the top-level ones
// in one query, then each nested level under its parent.
func (passbolt) folders(ctx context.Context, c cli, secrets []string) ([]pbFolder, error) {
	var paths [][]string
	for _, s := range secrets {
		parts := pathParts(s)
		if len(parts) < 2 {
			continue
		}
		path := parts[:len(parts)-1]
		if !slices.ContainsFunc(paths, func(p []string) bool { return slices.Equal(p, path) }) {
			paths = append(paths, path)
		}
	}
	if len(paths) == 0 {
		return nil, nil
	}
	var tops, conditions []string
	for _, p := range paths {
		if !slices.Contains(tops, p[0]) {
			tops = append(tops, p[0])
			conditions = append(conditions, "Name == "+rubyInspect(shellEscape(p[0])))
		}
	}
	list := func(filter string) ([]pbFolder, error) {
		body, err := c.run(ctx, "list", "folders", "--filter", filter, "--json")
		if err != nil {
			return nil, err
		}
		var fs []pbFolder
		if err := json.Unmarshal([]byte(body), &fs); err != nil {
			return nil, fmt.Errorf("passbolt list folders printed no folders JSON: %w", err)
		}
		return fs, nil
	}
	parents, err := list(strings.Join(conditions, " || "))
	if err != nil {
		return nil, c.failed("Could not read folders from Passbolt")
	}
	all := slices.Clone(parents)
	for _, path := range paths {
		if len(path) <= 1 {
			continue
		}
		i := slices.IndexFunc(parents, func(f pbFolder) bool { return f.Name == path[0] })
		if i < 0 {
			continue
		}
		current := parents[i]
		for _, name := range path[1:] {
			nested, err := list(fmt.Sprintf("Name == %s && FolderParentID == %s",
				rubyInspect(shellEscape(name)), rubyInspect(shellEscape(current.id()))))
			if err != nil {
				continue
			}
			if len(nested) == 0 {
				break
			}
			all = append(all, nested...)
			current = nested[0]
		}
	}
	var found []string
	for _, f := range all {
		found = append(found, folderPath(f, all))
	}
	var missing []string
	for _, p := range paths {
		if path := strings.Join(p, "/"); !slices.Contains(found, path) {
			missing = append(missing, path)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("Could not find the following folders in Passbolt: %s", strings.Join(missing, ", ")) //nolint:staticcheck // Kamal's message
	}
	return all, nil
}

// folderPath is a folder's path of names, up through the parents known.
func folderPath(f pbFolder, all []pbFolder) string {
	path := []string{f.Name}
	seen := map[string]bool{f.id(): true}
	for f.parent() != "" && !seen[f.parent()] {
		i := slices.IndexFunc(all, func(p pbFolder) bool { return p.id() == f.parent() })
		if i < 0 {
			break
		}
		f = all[i]
		seen[f.id()] = true
		path = append([]string{f.Name}, path...)
	}
	return strings.Join(path, "/")
}
