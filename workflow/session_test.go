package workflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/actions"
	"github.com/shipdeploy/ship/redact"
)

// LoadConfig tells the UI's Redactor the config's secrets, so the writers
// cmd/ship guarded with it hide them from then on; under GitHub Actions its
// warnings reach the runner as ship's own commands, past the Filter.
func TestLoadConfigRedactsAndAnnotates(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"config/deploy.yml": "service: shop\nimage: acme/shop\nservers: [10.0.0.1]\nenv:\n  secret: [DB_PASSWORD]\nssh:\n  config: true\n",
		".ship/secrets":     "DB_PASSWORD=pw-5a9c1e\n",
	} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("GITHUB_ACTIONS", "true")
	var out strings.Builder
	red := redact.New()
	filter := actions.NewFilter(&out)
	w := redact.NewWriter(filter, red)
	ui := &UI{Out: w, Err: w, Redactor: red}
	if _, err := LoadConfig(Globals{ConfigFile: filepath.Join(dir, "config/deploy.yml"), UI: ui}); err != nil {
		t.Fatal(err)
	}
	ui.Infof("connecting with pw-5a9c1e")
	w.Close()
	filter.Close()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "::warning file=") || !strings.Contains(lines[0], "ssh.config") || lines[1] != "connecting with [REDACTED]" {
		t.Errorf("output:\n%s", out.String())
	}
}
