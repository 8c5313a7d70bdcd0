package testactions

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func action(t *testing.T, yml string, files map[string]string) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "action.yml"), []byte(yml), 0o644)
	for name, content := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755)
	}
	return dir
}

func TestRunnerStepsOutputsMasksAndPath(t *testing.T) {
	dir := action(t, `
inputs:
  who: {required: true}
  greeting: {default: "hello ${{ github.actor }}"}
outputs:
  said: {value: "${{ steps.say.outputs.said }}"}
runs:
  using: composite
  steps:
    - shell: bash
      env: {ACTION: "${{ github.action_path }}"}
      run: echo "$ACTION" >> "$GITHUB_PATH"
    - id: say
      shell: bash
      env: {WHO: "${{ inputs.who }}", GREETING: "${{ inputs.greeting }}"}
      run: |
        echo "::add-mask::$WHO"
        greet "$GREETING" "$WHO"
        echo "## summary" >> "$GITHUB_STEP_SUMMARY"
        echo "::error file=a.yml,line=2::bad"
`, map[string]string{"greet": "#!/bin/sh\necho \"$1, $2\"\nprintf 'said<<EOF\\n%s\\nsecond\\nEOF\\n' \"$1\" >> \"$GITHUB_OUTPUT\"\n"})
	res, err := Run{ActionDir: dir, Inputs: map[string]string{"who": "s3cret"}, Github: map[string]string{"actor": "octocat"},
		Env: []string{"PATH=" + os.Getenv("PATH")}, Workspace: t.TempDir(), Temp: t.TempDir()}.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Raw)
	}
	if res.Outputs["said"] != "hello octocat\nsecond" {
		t.Errorf("outputs %q", res.Outputs)
	}
	if !strings.Contains(res.Log, "hello octocat, ***") || strings.Contains(res.Log, "s3cret") {
		t.Errorf("log not masked:\n%s", res.Log)
	}
	if res.Summary != "## summary\n" || len(res.Annotations) != 1 {
		t.Errorf("summary %q annotations %q", res.Summary, res.Annotations)
	}
}

func TestRunnerRefusesWhatItDoesNotSimulate(t *testing.T) {
	for _, yml := range []string{
		"runs:\n  using: composite\n  steps:\n    - uses: actions/checkout@v4\n",
		"runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo ${{ secrets.X }}\n",
		"runs:\n  using: node20\n",
		"inputs:\n  key: {required: true}\nruns:\n  using: composite\n  steps: []\n",
	} {
		_, err := Run{ActionDir: action(t, yml, nil), Workspace: t.TempDir(), Temp: t.TempDir()}.Execute(context.Background())
		if err == nil {
			t.Errorf("no error for\n%s", yml)
		}
	}
}

func TestRunnerStopsAtFailedStep(t *testing.T) {
	dir := action(t, "runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: exit 3\n    - shell: bash\n      run: echo never\n", nil)
	res, err := Run{ActionDir: dir, Env: []string{"PATH=" + os.Getenv("PATH")}, Workspace: t.TempDir(), Temp: t.TempDir()}.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Err == nil || strings.Contains(res.Raw, "never") {
		t.Errorf("err %v, log %q", res.Err, res.Raw)
	}
}

// A step sees the run's variables as a real runner gives them, which ship
// orders a workflow's deploys by.
func TestRunnerGivesTheRunsVariables(t *testing.T) {
	dir := action(t, "runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo \"$GITHUB_RUN_NUMBER $GITHUB_RUN_ATTEMPT $GITHUB_WORKFLOW $GITHUB_WORKFLOW_REF\" >> \"$GITHUB_STEP_SUMMARY\"\n", nil)
	res, err := Run{ActionDir: dir, Github: map[string]string{"run_number": "63", "run_attempt": "2", "workflow": "deploy",
		"workflow_ref": "acme/shop/.github/workflows/deploy.yml@refs/heads/main"},
		Env: []string{"PATH=" + os.Getenv("PATH")}, Workspace: t.TempDir(), Temp: t.TempDir()}.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := "63 2 deploy acme/shop/.github/workflows/deploy.yml@refs/heads/main\n"; res.Err != nil || res.Summary != want {
		t.Errorf("step saw %q (%v), want %q", res.Summary, res.Err, want)
	}
}
