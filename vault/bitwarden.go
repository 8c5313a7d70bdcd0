package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// bitwarden drives `bw`, Bitwarden's password manager CLI. A session
// token from `bw unlock` goes in BW_SESSION, never in the arguments.
type bitwarden struct{}

func (bitwarden) tool() tool {
	return tool{command: "bw", product: "Bitwarden CLI",
		install: "https://bitwarden.com/help/cli/",
		signIn:  "sign in with `bw login` and `bw unlock`"}
}

func (bitwarden) requiresAccount() bool { return true }

func sessionEnv(session string) []string {
	if session == "" {
		return nil
	}
	return []string{"BW_SESSION=" + session}
}

// status is `bw status`'s "status": unauthenticated, locked or unlocked.
func (bitwarden) status(ctx context.Context, c cli, session string) string {
	out, _ := c.runEnv(ctx, sessionEnv(session), "status")
	var s struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal([]byte(strings.TrimSpace(out)), &s) // no JSON: not unlocked
	return s.Status
}

// login logs in and unlocks as needed, then syncs, as Kamal does.
func (b bitwarden) login(ctx context.Context, c cli, account string) (string, error) {
	status := b.status(ctx, c, "")
	if status == "unauthenticated" {
		_, _ = c.run(ctx, "login", account) // the status below says whether it worked
		status = b.status(ctx, c, "")
	}
	var session string
	if status == "locked" {
		out, _ := c.run(ctx, "unlock", "--raw")
		session = strings.TrimSpace(out)
		status = b.status(ctx, c, session)
	}
	if status != "unlocked" {
		return "", c.failed("Failed to login to and unlock Bitwarden")
	}
	if _, err := c.runEnv(ctx, sessionEnv(session), "sync"); err != nil {
		return "", c.failed("Failed to sync Bitwarden")
	}
	return session, nil
}

// bwItem is what `bw get item` prints, as far as Kamal reads it.
type bwItem struct {
	Login *struct {
		Password *string `json:"password"`
	} `json:"login"`
	Fields []struct {
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	} `json:"fields"`
}

// fetch reads ITEM (its login password, or else all its fields) or
// ITEM/FIELD, one `bw get item` per item.
func (bitwarden) fetch(ctx context.Context, c cli, req Request, session string) (Result, error) {
	var out Result
	for _, it := range groupItems(prefixed(req.Secrets, req.From)) {
		body, err := c.runEnv(ctx, sessionEnv(session), "get", "item", it.name)
		if err != nil {
			return nil, c.failed(fmt.Sprintf("Could not read %s from Bitwarden", it.name))
		}
		var item bwItem
		if err := json.Unmarshal([]byte(strings.TrimSpace(body)), &item); err != nil {
			return nil, fmt.Errorf("bw get item %s printed no item JSON: %w", it.name, err)
		}
		fields := it.fields
		switch {
		case it.anyField:
		case item.Login != nil && item.Login.Password != nil:
			out.set(it.name, *item.Login.Password)
			continue
		case len(item.Fields) > 0:
			fields = nil
			for _, f := range item.Fields {
				fields = append(fields, f.Name)
			}
		default:
			return nil, fmt.Errorf("Item %s is not a login type item and no fields were specified", it.name) //nolint:staticcheck // Kamal's message
		}
		for _, name := range fields {
			found := false
			for _, f := range item.Fields {
				if f.Name == name {
					out.set(it.name+"/"+name, str(f.Value))
					found = true
					break
				}
			}
			if !found {
				return nil, fmt.Errorf("Could not find field %s in item %s in Bitwarden", name, it.name) //nolint:staticcheck // Kamal's message
			}
		}
	}
	return out, nil
}

// bwItemFields is an item and the fields asked of it.
type bwItemFields struct {
	name     string
	fields   []string
	anyField bool // a field was named, so the item's password is not wanted
}

// groupItems reads ITEM[/FIELD] names, grouping the fields by item in
// the order given.
func groupItems(secrets []string) []*bwItemFields {
	var items []*bwItemFields
	for _, s := range secrets {
		parts := rubySplit(s, "/")
		name, field := "", ""
		if len(parts) > 0 {
			name = parts[0]
		}
		if len(parts) > 1 {
			field = parts[1]
		}
		var it *bwItemFields
		for _, x := range items {
			if x.name == name {
				it = x
			}
		}
		if it == nil {
			it = &bwItemFields{name: name}
			items = append(items, it)
		}
		it.fields = append(it.fields, field)
		if field != "" {
			it.anyField = true
		}
	}
	return items
}
