package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// onePassword drives `op`, 1Password's CLI.
type onePassword struct{}

func (onePassword) tool() tool {
	return tool{command: "op", product: "1Password CLI",
		install: "https://developer.1password.com/docs/cli/get-started/",
		signIn:  "sign in with `op signin --account ACCOUNT`"}
}

func (onePassword) requiresAccount() bool { return true }

// login signs in unless `op account get` says the account is signed in
// already. With the desktop app's integration `op signin --raw` prints
// nothing; otherwise it prints a session token for the next commands.
func (onePassword) login(ctx context.Context, c cli, account string) (string, error) {
	if c.ok(ctx, "account", "get", "--account", account) {
		return "", nil
	}
	out, err := c.run(ctx, "signin", "--account", account, "--force", "--raw")
	if err != nil {
		return "", c.failed("Failed to login to 1Password")
	}
	return strings.TrimSpace(out), nil
}

// opField is a field of `op item get --format json`.
type opField struct {
	Reference string          `json:"reference"`
	Value     json.RawMessage `json:"value"`
}

// fetch reads each SECRET as op://VAULT/ITEM[/SECTION]/FIELD (FIELD is
// "password" when left out), one `op item get` per item; with no secrets
// it reads every field of the --from item.
func (o onePassword) fetch(ctx context.Context, c cli, req Request, session string) (Result, error) {
	var out Result
	if len(req.Secrets) == 0 {
		vault, item, _ := strings.Cut(strings.TrimPrefix(req.From, "op://"), "/")
		item, _, _ = strings.Cut(item, "/")
		if vault == "" || item == "" {
			return nil, fmt.Errorf("1Password: with no secrets named, --from must be VAULT/ITEM, whose fields are all fetched")
		}
		body, err := o.itemGet(ctx, c, vault, item, nil, req.Account, session)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Fields []opField `json:"fields"`
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			return nil, fmt.Errorf("op item get %s printed no item JSON: %w", item, err)
		}
		addFields(&out, doc.Fields)
		return out, nil
	}
	for _, v := range groupFields(prefixed(req.Secrets, req.From)) {
		for _, it := range v.items {
			body, err := o.itemGet(ctx, c, v.name, it.name, it.fields, req.Account, session)
			if err != nil {
				return nil, err
			}
			var fields []opField
			if len(it.fields) == 1 {
				fields = make([]opField, 1)
				err = json.Unmarshal([]byte(body), &fields[0])
			} else {
				err = json.Unmarshal([]byte(body), &fields)
			}
			if err != nil {
				return nil, fmt.Errorf("op item get %s printed no fields JSON: %w", it.name, err)
			}
			addFields(&out, fields)
		}
	}
	return out, nil
}

// itemGet runs `op item get`, with Kamal's options in Kamal's order.
func (onePassword) itemGet(ctx context.Context, c cli, vault, item string, fields []string, account, session string) (string, error) {
	args := []string{"item", "get", item, "--vault", vault, "--format", "json", "--account", account}
	if session != "" {
		args = append(args, "--session", session)
	}
	if len(fields) > 0 {
		labels := make([]string, len(fields))
		for i, f := range fields {
			labels[i] = "label=" + f
		}
		args = append(args, "--fields", strings.Join(labels, ","))
	}
	out, err := c.run(ctx, args...)
	if err != nil {
		what := ""
		if len(fields) > 0 {
			what = strings.Join(fields, ", ") + " "
		}
		return "", c.failed(fmt.Sprintf("Could not read %sfrom %s in the %s 1Password vault", what, item, vault))
	}
	return out, nil
}

// addFields names each field by its reference without op:// and without
// a trailing /password, as Kamal does.
func addFields(out *Result, fields []opField) {
	for _, f := range fields {
		name := strings.TrimSuffix(strings.TrimPrefix(f.Reference, "op://"), "/password")
		out.set(name, str(f.Value))
	}
}

// opVault and opItem group the secrets by vault, then item, in the order
// they were named: one `op item get` per item.
type opVault struct {
	name  string
	items []*opItem
}

type opItem struct {
	name   string
	fields []string // SECTION.FIELD, as --fields label= takes them
}

func groupFields(secrets []string) []*opVault {
	var vaults []*opVault
	for _, s := range secrets {
		parts := rubySplit(strings.TrimPrefix(s, "op://"), "/")
		for len(parts) < 2 {
			parts = append(parts, "")
		}
		vaultName, itemName, fields := parts[0], parts[1], parts[2:]
		if len(fields) == 0 {
			fields = []string{"password"}
		}
		var v *opVault
		for _, x := range vaults {
			if x.name == vaultName {
				v = x
			}
		}
		if v == nil {
			v = &opVault{name: vaultName}
			vaults = append(vaults, v)
		}
		var it *opItem
		for _, x := range v.items {
			if x.name == itemName {
				it = x
			}
		}
		if it == nil {
			it = &opItem{name: itemName}
			v.items = append(v.items, it)
		}
		it.fields = append(it.fields, strings.Join(fields, "."))
	}
	return vaults
}
