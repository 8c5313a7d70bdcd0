package audit

import (
	"os"
	"path/filepath"
	"testing"
)

// isolate gives Performer an environment without GitHub Actions, in a
// directory outside any repository, with the given global git config.
func isolate(t *testing.T, gitconfig string) {
	home := t.TempDir()
	global := filepath.Join(home, "gitconfig")
	if err := os.WriteFile(global, []byte(gitconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_GLOBAL", global)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GITHUB_ACTIONS", "")
	t.Chdir(home)
}

func TestPerformerGitHubActions(t *testing.T) {
	isolate(t, "[user]\n\tname = Alice\n")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_ACTOR", "octocat")
	t.Setenv("GITHUB_SERVER_URL", "https://github.com")
	t.Setenv("GITHUB_REPOSITORY", "acme/shop")
	t.Setenv("GITHUB_RUN_ID", "123456")
	want := "octocat (https://github.com/acme/shop/actions/runs/123456)"
	if got := Performer(); got != want {
		t.Errorf("Performer() = %q, want %q", got, want)
	}
}

func TestPerformerGit(t *testing.T) {
	for _, tt := range []struct{ gitconfig, user, want string }{
		{"[user]\n\tname = Alice Smith\n\temail = alice@example.com\n", "root", "Alice Smith <alice@example.com>"},
		{"[user]\n\tname = Alice Smith\n", "root", "Alice Smith"},
		{"[user]\n\temail = alice@example.com\n", "root", "alice@example.com"},
		{"", "deploy", "deploy"},
		{"", "", "unknown"},
	} {
		isolate(t, tt.gitconfig)
		t.Setenv("USER", tt.user)
		if got := Performer(); got != tt.want {
			t.Errorf("git config %q, USER=%q: Performer() = %q, want %q", tt.gitconfig, tt.user, got, tt.want)
		}
	}
}
