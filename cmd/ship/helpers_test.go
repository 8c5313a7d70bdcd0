package main

import (
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

func fingerprintOf(t *testing.T, authorizedKey []byte) string {
	t.Helper()
	key, _, _, _, err := gossh.ParseAuthorizedKey(authorizedKey)
	if err != nil {
		t.Fatal(err)
	}
	return gossh.FingerprintSHA256(key)
}
