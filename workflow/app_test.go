package workflow

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/config"
)

// noConfig names a config file that does not exist: a request that gets as
// far as loading it fails with a configuration error, not a usage error.
var noConfig = Globals{ConfigFile: "/nonexistent/config/deploy.yml", UI: &UI{Out: &strings.Builder{}, Err: &strings.Builder{}}}

// wantUsage fails unless err is a usage error (exit status 2) saying msg.
func wantUsage(t *testing.T, err error, msg string) {
	t.Helper()
	var u UsageError
	if !errors.As(err, &u) || err.Error() != msg {
		t.Errorf("got %T %v, want the usage error %q", err, err, msg)
	}
}

func TestAppExecMistakesAreRefusedBeforeTheConfigLoads(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    AppExecRequest
		want string
	}{
		{"no command", AppExecRequest{}, `app exec needs a command, e.g. ship app exec "bin/rails runner 'puts 1'"`},
		{"bad quoting", AppExecRequest{Command: []string{"echo 'unterminated"}}, "command: Unterminated single-quoted string"},
		{"interactive one-off", AppExecRequest{Command: []string{"bin/rails console"}, Interactive: true, New: true},
			"--interactive runs in the running container; it cannot be combined with --new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.Globals = noConfig
			wantUsage(t, AppExec(context.Background(), tc.r), tc.want)
		})
	}
}

func TestAppExecCommandIsSplitAsAShellWould(t *testing.T) {
	for _, args := range [][]string{
		{"bin/rails runner 'puts 1'"},
		{"bin/rails", "runner", "'puts 1'"},
	} {
		cmd, err := appExecCommand(AppExecRequest{Command: args})
		if want := []string{"bin/rails", "runner", "puts 1"}; err != nil || !slices.Equal(cmd, want) {
			t.Errorf("%q: got %q %v, want %q", args, cmd, err, want)
		}
	}
}

type fakeTerminal struct{ strings.Reader }

func (*fakeTerminal) MakeRaw() (func(), error) { return func() {}, nil }

// An interactive command runs on exactly one role of one host, which the
// error asks for by the count selected, and needs a terminal.
func TestInteractiveExecNeedsOneTargetAndATerminal(t *testing.T) {
	cfg := &config.Config{Roles: []*config.Role{
		{Name: "web", Hosts: []config.Host{{Address: "h1"}, {Address: "h2"}}},
		{Name: "job", Hosts: []config.Host{{Address: "h1"}}},
	}}
	all := appTargets(cfg, []string{"h1", "h2"}, []string{"web", "job"}, nil)
	var names []string
	for _, tg := range all {
		names = append(names, tg.name())
	}
	if want := []string{"h1 web", "h2 web", "h1 job"}; !slices.Equal(names, want) {
		t.Errorf("targets %q, want %q", names, want)
	}
	_, err := interactiveTarget(all, &fakeTerminal{})
	wantUsage(t, err, "--interactive needs exactly one host and role; 3 are selected (use --hosts and --roles, or -p)")

	one := appTargets(cfg, []string{"h2"}, []string{"web", "job"}, nil)
	if _, err := interactiveTarget(one, nil); err == nil {
		t.Error("an interactive command ran without a terminal")
	} else {
		wantUsage(t, err, "--interactive needs a terminal")
	}
	if tg, err := interactiveTarget(one, &fakeTerminal{}); err != nil || tg.name() != "h2 web" {
		t.Errorf("got %q %v, want h2 web", tg.name(), err)
	}
}

// app remove asks first, with --yes or a yes only going on, and a refusal
// is a failure (exit status 1), not a usage error.
func TestAppRemoveAsksFirst(t *testing.T) {
	var asked []string
	answer := false
	g := noConfig
	g.Confirm = func(q string) bool { asked = append(asked, q); return answer }

	err := AppRemove(context.Background(), AppRemoveRequest{Globals: g})
	var u UsageError
	if err == nil || err.Error() != "not removed: confirm on a terminal, or pass --yes" || errors.As(err, &u) {
		t.Errorf("a no: %v", err)
	}
	if want := "Remove every container and image of the app on the selected hosts (volumes are kept)? [y/N] "; len(asked) != 1 || asked[0] != want {
		t.Errorf("asked %q, want %q", asked, want)
	}

	answer = true
	if err := AppRemove(context.Background(), AppRemoveRequest{Globals: g}); err == nil || strings.Contains(err.Error(), "not removed") {
		t.Errorf("a yes did not go on to load the config: %v", err)
	}
	asked = nil
	if err := AppRemove(context.Background(), AppRemoveRequest{Globals: g, Yes: true}); err == nil || len(asked) != 0 {
		t.Errorf("--yes asked %q, or did not go on to load the config: %v", asked, err)
	}
}
