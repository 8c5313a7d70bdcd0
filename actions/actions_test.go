package actions

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSetOutputs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "output")
	e := Env{OutputFile: file}
	if err := e.SetOutputs([2]string{"version", "abc123"}, [2]string{"result", "deployed"}); err != nil {
		t.Fatal(err)
	}
	// A value with a newline cannot forge another output.
	if err := e.SetOutputs([2]string{"error", "boom\nresult=deployed"}); err != nil {
		t.Fatal(err)
	}
	got := parseOutputs(t, file)
	want := map[string]string{"version": "abc123", "result": "deployed", "error": "boom\nresult=deployed"}
	if len(got) != len(want) {
		t.Fatalf("outputs %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q", k, got[k], v)
		}
	}
}

// parseOutputs reads a GITHUB_OUTPUT file as the runner does.
func parseOutputs(t *testing.T, file string) map[string]string {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		if name, delim, ok := strings.Cut(lines[i], "<<"); ok {
			var value []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				value = append(value, lines[i])
			}
			out[name] = strings.Join(value, "\n")
			continue
		}
		name, value, _ := strings.Cut(lines[i], "=")
		if _, dup := out[name]; dup {
			t.Errorf("output %s set twice", name)
		}
		out[name] = value
	}
	return out
}

func TestErrorAnnotation(t *testing.T) {
	ws := t.TempDir()
	t.Chdir(ws)
	e := Env{Workspace: ws}
	for _, tt := range []struct {
		a    Annotation
		want string
	}{
		{Annotation{File: "config/deploy.yml", Line: 6, Column: 5, Message: `volumes[0]: volume "storage" should be SOURCE:TARGET`},
			`::error file=config/deploy.yml,line=6,col=5::volumes[0]: volume "storage" should be SOURCE:TARGET`},
		{Annotation{File: filepath.Join(ws, "app", "config", "deploy.yml"), Line: 1, Title: "ship: config", Message: "50% done\nsecond line"},
			`::error file=app/config/deploy.yml,line=1,title=ship%3A config::50%25 done%0Asecond line`},
		{Annotation{File: "/elsewhere/deploy.yml", Message: "outside the workspace"},
			`::error file=/elsewhere/deploy.yml::outside the workspace`},
		{Annotation{Message: "ssh: connection refused"}, `::error::ssh: connection refused`},
	} {
		if got := e.Error(tt.a); got != tt.want {
			t.Errorf("Error(%+v)\n got %s\nwant %s", tt.a, got, tt.want)
		}
	}
	w := e.Warning(Annotation{File: "config/deploy.yml", Line: 3, Column: 7, Message: "accepted, not passed on"})
	if w != "::warning file=config/deploy.yml,line=3,col=7::accepted, not passed on" {
		t.Errorf("Warning: %s", w)
	}
}

func TestDetect(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("CI", "")
	if _, ok := Detect(); ok || CI() {
		t.Error("detected Actions/CI in a plain environment")
	}
	t.Setenv("CI", "true")
	if _, ok := Detect(); ok || !CI() {
		t.Error("CI=true: want CI and not Actions")
	}
	t.Setenv("CI", "")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_OUTPUT", "/tmp/o")
	if e, ok := Detect(); !ok || !CI() || e.OutputFile != "/tmp/o" {
		t.Errorf("GITHUB_ACTIONS=true: %+v %v %v", e, ok, CI())
	}
}

func TestSummaryAppends(t *testing.T) {
	file := filepath.Join(t.TempDir(), "summary")
	e := Env{SummaryFile: file}
	e.AddSummary("## one")
	e.AddSummary("## two\n")
	b, _ := os.ReadFile(file)
	if string(b) != "## one\n## two\n" {
		t.Errorf("summary %q", b)
	}
}

func TestCurrentRun(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want Run
		ok   bool
	}{
		{"a run", map[string]string{"GITHUB_RUN_NUMBER": "63", "GITHUB_RUN_ATTEMPT": "1",
			"GITHUB_WORKFLOW_REF": "acme/shop/.github/workflows/deploy.yml@refs/heads/main"},
			Run{Workflow: "acme/shop/.github/workflows/deploy.yml", Number: 63, Attempt: 1}, true},
		{"a re-run, from a tag with an @ in it", map[string]string{"GITHUB_RUN_NUMBER": "60", "GITHUB_RUN_ATTEMPT": "2",
			"GITHUB_WORKFLOW_REF": "acme/shop/.github/workflows/deploy.yml@refs/tags/v1@rc"},
			Run{Workflow: "acme/shop/.github/workflows/deploy.yml", Number: 60, Attempt: 2}, true},
		{"no GITHUB_WORKFLOW_REF, no attempt", map[string]string{"GITHUB_RUN_NUMBER": "7", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_WORKFLOW": "deploy"},
			Run{Workflow: "acme/shop/deploy", Number: 7, Attempt: 1}, true},
		{"no run number", map[string]string{"GITHUB_WORKFLOW_REF": "acme/shop/.github/workflows/deploy.yml@refs/heads/main"}, Run{}, false},
		{"no workflow", map[string]string{"GITHUB_RUN_NUMBER": "7"}, Run{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GITHUB_ACTIONS", "true")
			for _, k := range []string{"GITHUB_RUN_NUMBER", "GITHUB_RUN_ATTEMPT", "GITHUB_WORKFLOW_REF", "GITHUB_WORKFLOW", "GITHUB_REPOSITORY"} {
				t.Setenv(k, tt.env[k])
			}
			got, ok := CurrentRun()
			if got != tt.want || ok != tt.ok {
				t.Errorf("CurrentRun() = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("GITHUB_RUN_NUMBER", "63")
	if _, ok := CurrentRun(); ok {
		t.Error("CurrentRun() outside GitHub Actions reported a run")
	}
}

// Every line of a secret gets its own add-mask, escaped so that a line
// ending or a percent sign in it cannot end or change the command; blank
// lines, which would mask nothing useful, get none.
func TestMask(t *testing.T) {
	got := Mask("line one\r\n\n100%\nlast")
	want := []string{"::add-mask::line one", "::add-mask::100%25", "::add-mask::last"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Mask = %q, want %q", got, want)
	}
	if got := Mask(""); len(got) != 0 {
		t.Errorf("Mask of nothing = %q", got)
	}
}
