package testapp

import (
	"os/exec"
	"strings"
	"testing"
)

func TestScanArgv(t *testing.T) {
	secret := unique("secret")
	s := ScanArgv(t, secret)
	// The trailing ":" keeps the shell: bash, for one, runs a lone command
	// in its place, which would take the secret off the command line.
	cmd := exec.Command("sh", "-c", "sleep 1; :", secret)
	if err := cmd.Run(); err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	// The shell, and perhaps its child caught between fork and exec, which
	// still has the shell's command line.
	found := s.Stop()
	if len(found) == 0 || len(found) > 2 {
		t.Fatalf("ScanArgv found %q, want the sh process", found)
	}
	for _, f := range found {
		if strings.Contains(f, secret) || !strings.Contains(f, "sh -c sleep 1; : [REDACTED]") {
			t.Errorf("ScanArgv reported %q, want the sh command line with the secret redacted", f)
		}
	}

	unused := ScanArgv(t, unique("unused"))
	if err := exec.Command("sh", "-c", "sleep 0.2; :", "nothing to see").Run(); err != nil {
		t.Fatal(err)
	}
	if found := unused.Stop(); len(found) != 0 {
		t.Errorf("ScanArgv for a needle nobody uses found %q", found)
	}
}
