package config

import (
	"strings"
	"testing"
)

func TestRenderERB(t *testing.T) {
	t.Setenv("SHIP_HOST", "10.0.0.7")
	src := `servers:
  - <%= ENV["SHIP_HOST"] %>
  - <%= ENV.fetch('UNSET_HOST', "10.0.0.8") %>
port: <%= ENV.fetch("UNSET_PORT", "") %>x
# a comment may hold anything: <%= ` + "`whoami`" + ` %>
user: <%= ENV["UNSET_USER"] %>
`
	out, problems := renderERB("deploy.yml", []byte(src))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, want := range []string{"- 10.0.0.7\n", "- 10.0.0.8\n", "port: x\n", "user: \n", "<%= `whoami` %>"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rendered output lacks %q:\n%s", want, out)
		}
	}
}

func TestRenderERBRefusesRuby(t *testing.T) {
	src := "service: app\nimage: <%= ENV['IMG'] || 'x' %>\npassword: <%= %x(aws ecr get-login-password) %>\nhost: <%= ENV.fetch(\"UNSET_NO_DEFAULT\") %>\n"
	_, problems := renderERB("deploy.yml", []byte(src))
	if len(problems) != 3 {
		t.Fatalf("got %d problems, want 3: %v", len(problems), problems)
	}
	if got := problems[0].String(); !strings.HasPrefix(got, "deploy.yml:2:8: unsupported ERB") {
		t.Errorf("problem 0 = %s", got)
	}
	if got := problems[2].String(); !strings.Contains(got, "deploy.yml:4:7: environment variable UNSET_NO_DEFAULT is not set") {
		t.Errorf("problem 2 = %s", got)
	}
}
