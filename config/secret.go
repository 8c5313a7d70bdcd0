package config

// Secret holds a value from the secrets files. It prints as [REDACTED] in
// every format, so a secret can only leave ship through an explicit Reveal.
type Secret struct{ value string }

// NewSecret wraps a secret value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the value, for the few places that must send it to a host
// (over stdin or in a 0600 file, never in argv).
func (s Secret) Reveal() string { return s.value }

const redacted = "[REDACTED]"

func (s Secret) String() string               { return redacted }
func (s Secret) GoString() string             { return redacted }
func (s Secret) MarshalYAML() (any, error)    { return redacted, nil }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
