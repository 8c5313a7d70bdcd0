package config

import (
	"os"
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
	out, problems := renderERB("deploy.yml", []byte(src), erbEnv(""))
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
	_, problems := renderERB("deploy.yml", []byte(src), erbEnv(""))
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

func TestRenderERBFetchForms(t *testing.T) {
	t.Setenv("SHIP_HOST", "10.0.0.7")
	src := `a: <%= ENV.fetch("SHIP_HOST") %>
b: <%= ENV.fetch("UNSET_B") { "block default" } %>
c: <%= ENV.fetch('UNSET_C'){'single'} -%>
d: <%= ENV.fetch("SHIP_HOST") { "unused" } %>
e: <%= ENV.fetch( "UNSET_E" )  {  "" }  %>x
`
	out, problems := renderERB("deploy.yml", []byte(src), erbEnv(""))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	want := "a: 10.0.0.7\nb: block default\nc: single\nd: 10.0.0.7\ne: x\n"
	if string(out) != want {
		t.Errorf("rendered:\n%s\nwant:\n%s", out, want)
	}
}

func TestRenderERBStringLiterals(t *testing.T) {
	src := `a: <%= "double quoted" %>
b: <%= 'single "quoted"' %>
c: [<%= "" %>]
d: <%= "x" %>-<%= 'y' %>
`
	out, problems := renderERB("deploy.yml", []byte(src), erbEnv(""))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	want := "a: double quoted\nb: single \"quoted\"\nc: []\nd: x-y\n"
	if string(out) != want {
		t.Errorf("rendered:\n%s\nwant:\n%s", out, want)
	}
}

// Kamal sets ENV["KAMAL_DESTINATION"] to the destination before rendering,
// and unsets it without one.
func TestRenderERBDestination(t *testing.T) {
	t.Setenv("KAMAL_DESTINATION", "from-the-shell")
	src := `a: <%= ENV["KAMAL_DESTINATION"] %>
b: <%= ENV.fetch("SHIP_DESTINATION") %>
c: <%= ENV.fetch('KAMAL_DESTINATION', "none") %>
`
	out, problems := renderERB("deploy.yml", []byte(src), erbEnv("staging"))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if want := "a: staging\nb: staging\nc: staging\n"; string(out) != want {
		t.Errorf("with -d staging rendered:\n%s\nwant:\n%s", out, want)
	}
	if got := os.Getenv("KAMAL_DESTINATION"); got != "from-the-shell" {
		t.Errorf("rendering changed the process environment: KAMAL_DESTINATION=%q", got)
	}

	out, problems = renderERB("deploy.yml", []byte(src), erbEnv(""))
	if len(problems) != 1 || problems[0].String() != "deploy.yml:2:4: environment variable SHIP_DESTINATION is not set (ENV.fetch has no default)" {
		t.Fatalf("without a destination, problems = %v", problems)
	}
	if want := "a: \nb: \nc: none\n"; string(out) != want {
		t.Errorf("without a destination rendered:\n%s\nwant:\n%s", out, want)
	}
}

func TestRenderERBFetchWithoutDefault(t *testing.T) {
	src := "service: app\nservers:\n  - <%= ENV.fetch('UNSET_WEB_HOST') %>\n"
	_, problems := renderERB("config/deploy.yml", []byte(src), erbEnv(""))
	if len(problems) != 1 {
		t.Fatalf("got %d problems, want 1: %v", len(problems), problems)
	}
	if got, want := problems[0].String(), "config/deploy.yml:3:5: environment variable UNSET_WEB_HOST is not set (ENV.fetch has no default)"; got != want {
		t.Errorf("problem = %s\nwant      %s", got, want)
	}
}

func TestRenderERBRefusesOtherForms(t *testing.T) {
	for _, tag := range []string{
		`<%= ENV.fetch("X", "a") { "b" } %>`, // Ruby: the block supersedes the argument
		`<%= ENV.fetch("X") { ENV["Y"] } %>`, // only a string in the block
		`<%= ENV.fetch("X") do "b" end %>`,   // do ... end is not evaluated
		`<%= ENV.fetch("X") { "b" %>`,        // unclosed block
		`<%= ENV.fetch("X")) %>`,
		`<%= ENV.fetch("") %>`,
		`<%= ENV[""] %>`,
		`<%= ENV["X"].upcase %>`,
		`<%= "a" + "b" %>`,
		`<%= "a" "b" %>`,
		`<%= "line\nbreak" %>`, // escapes would need Ruby's rules
		`<%= 'it\'s' %>`,
		`<%= "#{1 + 1}" %>`, // interpolation
		`<%= "#@ivar" %>`,
		`<%= "unterminated %>`,
		`<%= %>`,
		`<% if true %>`,
		`<%== "raw" %>`,
		`<%= 1 %>`,
	} {
		src := "service: app\nimage: x<%= 'ok' %>  " + tag + "\n"
		_, problems := renderERB("deploy.yml", []byte(src), erbEnv(""))
		if len(problems) != 1 {
			t.Errorf("%s: got %d problems, want 1: %v", tag, len(problems), problems)
			continue
		}
		if got, want := problems[0].String(), "deploy.yml:2:22: unsupported ERB "+tag+": ship evaluates only "; !strings.HasPrefix(got, want) {
			t.Errorf("%s: problem = %s\nwant prefix  %s", tag, got, want)
		}
	}
	// In Ruby '#{x}' in single quotes is literal text.
	out, problems := renderERB("deploy.yml", []byte(`a: <%= '#{x}' %>`), erbEnv(""))
	if len(problems) > 0 || string(out) != "a: #{x}" {
		t.Errorf("single-quoted #{x}: %q %v", out, problems)
	}
}

// A tag repeated on a line is reported at each place it stands.
func TestRenderERBColumns(t *testing.T) {
	src := "a: <%= x %> <%= x %> <%= \"ok\" %> <%= ENV.fetch(\"UNSET_Z\") %> <% unclosed\n"
	out, problems := renderERB("deploy.yml", []byte(src), erbEnv(""))
	var got []string
	for _, p := range problems {
		got = append(got, p.String()[:strings.Index(p.String(), ": ")+2]+strings.Fields(p.Message)[0])
	}
	want := []string{"deploy.yml:1:4: unsupported", "deploy.yml:1:13: unsupported", "deploy.yml:1:34: environment", "deploy.yml:1:62: unclosed"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("problems = %v\nwant       %v", got, want)
	}
	if want := "a:   ok  <% unclosed\n"; string(out) != want {
		t.Errorf("rendered %q, want %q", out, want)
	}
}

// Load renders both the base file and the destination's with the
// destination in KAMAL_DESTINATION.
func TestLoadRendersDestination(t *testing.T) {
	dir := write(t, map[string]string{
		"config/deploy.yml": `service: app
image: acme/app
servers: [10.0.0.1]
env:
  clear:
    BASE_DEST: "<%= ENV.fetch('KAMAL_DESTINATION', 'production') %>"
`,
		"config/deploy.staging.yml": `env:
  clear:
    BASE_DEST: "<%= ENV.fetch('KAMAL_DESTINATION', 'production') %>"
    DEST: <%= ENV["KAMAL_DESTINATION"] %>-db
`,
	})
	c, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Env.Clear["BASE_DEST"] != "production" {
		t.Errorf("without -d, env = %v", c.Env.Clear)
	}
	c, err = load(t, dir, Options{Destination: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Env.Clear["BASE_DEST"] != "staging" || c.Env.Clear["DEST"] != "staging-db" {
		t.Errorf("with -d staging, env = %v", c.Env.Clear)
	}
}
