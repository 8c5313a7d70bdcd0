package main

import "testing"

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/ship-testhosts/id_ed25519": "/tmp/ship-testhosts/id_ed25519",
		"unix:///var/run/docker.sock":    "unix:///var/run/docker.sock",
		"/tmp/my dir":                    "'/tmp/my dir'",
		"it's":                           `'it'\''s'`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}
