package audit

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Performer names who is running ship: in GitHub Actions the actor and a
// link to the run, otherwise the git identity, otherwise the login name.
func Performer() string {
	if os.Getenv("GITHUB_ACTIONS") == "true" {
		return fmt.Sprintf("%s (%s/%s/actions/runs/%s)", os.Getenv("GITHUB_ACTOR"),
			os.Getenv("GITHUB_SERVER_URL"), os.Getenv("GITHUB_REPOSITORY"), os.Getenv("GITHUB_RUN_ID"))
	}
	name, email := gitConfig("user.name"), gitConfig("user.email")
	switch {
	case name != "" && email != "":
		return name + " <" + email + ">"
	case name != "":
		return name
	case email != "":
		return email
	}
	if user := os.Getenv("USER"); user != "" {
		return user
	}
	return "unknown"
}

// gitConfig is a git config value, or "" when it is unset or git is missing.
func gitConfig(key string) string {
	out, err := exec.Command("git", "config", key).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
