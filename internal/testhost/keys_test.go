package testhost

import "testing"

func TestKnownHostsLine(t *testing.T) {
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBMm"
	for addr, want := range map[string]string{
		"127.0.0.1:2222": "[127.0.0.1]:2222 " + key + "\n",
		"10.99.0.2:22":   "10.99.0.2 " + key + "\n",
	} {
		got, err := knownHostsLine(addr, key)
		if err != nil || got != want {
			t.Errorf("knownHostsLine(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
}
