package vault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Secret is one fetched secret: Kamal's key (usually VAULT/ITEM/FIELD or
// the like, per adapter) and its value.
type Secret struct {
	Name  string
	Value string
}

// Result is what a fetch returns, in the order the vendor gave it.
type Result []Secret

// set adds or replaces a secret, keeping its first position, as a Ruby
// hash does.
func (r *Result) set(name, value string) {
	for i := range *r {
		if (*r)[i].Name == name {
			(*r)[i].Value = value
			return
		}
	}
	*r = append(*r, Secret{name, value})
}

// has says whether name was fetched.
func (r Result) has(name string) bool {
	for _, s := range r {
		if s.Name == name {
			return true
		}
	}
	return false
}

// JSON is the result as `kamal secrets fetch` prints it: one compact
// object, in order, nothing escaped that JSON does not require.
func (r Result) JSON() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(s.Name))
		b.WriteByte(':')
		b.WriteString(jsonString(s.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// Printed is every value as JSON prints it, and as it is: what a log that
// shows JSON's output must hide.
func (r Result) Printed() []string {
	var out []string
	for _, s := range r {
		out = append(out, s.Value)
		if q := strings.Trim(jsonString(s.Value), `"`); q != s.Value {
			out = append(out, q)
		}
	}
	return out
}

func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

// Extract finds one secret in the JSON that fetch printed, as `kamal
// secrets extract` does: by its full name, or else the first whose name
// ends in /NAME.
func Extract(name, secrets string) (string, error) {
	fields, err := object([]byte(secrets))
	if err != nil {
		return "", fmt.Errorf("the secrets are not the JSON object `secrets fetch` prints: %w", err)
	}
	var found json.RawMessage
	for _, f := range fields {
		if f.key == name && !isNull(f.value) {
			found = f.value
		}
	}
	if found == nil {
		for _, f := range fields {
			if strings.HasSuffix(f.key, "/"+name) {
				found = f.value
				break
			}
		}
	}
	if found == nil || isNull(found) {
		return "", fmt.Errorf("Could not find secret %s", name) //nolint:staticcheck // Kamal's message
	}
	return text(found), nil
}

// field is one member of a JSON object, its value undecoded.
type field struct {
	key   string
	value json.RawMessage
}

// object decodes a JSON object keeping its members' order, which a Go
// map would lose and Kamal's output keeps.
func object(data []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, field{tok.(string), v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("text after the JSON object")
	}
	return out, nil
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// text is a JSON value as Kamal makes it a string: a string as it is,
// anything else as compact JSON (Ruby's JSON.dump), null as "null".
func text(v json.RawMessage) string {
	var s string
	if !isNull(v) && json.Unmarshal(v, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return string(v)
	}
	return b.String()
}

// str reads a JSON value that should be a string; null and a missing
// value are "".
func str(v json.RawMessage) string {
	if v == nil || isNull(v) {
		return ""
	}
	return text(v)
}
