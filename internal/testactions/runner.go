// Package testactions runs a composite GitHub Action the way the Actions
// runner does, for tests: each step's script under bash with its env
// evaluated, the step's GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_PATH
// files, and the workflow commands in the log (masks, annotations,
// groups). It knows only the expressions an action needs: inputs.*,
// github.* and steps.*.outputs.*; any other is an error, so an action
// cannot silently depend on something this runner does not simulate.
package testactions

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Action is a composite action's metadata (action.yml).
type Action struct {
	Inputs map[string]struct {
		Required bool   `yaml:"required"`
		Default  string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []Step `yaml:"steps"`
	} `yaml:"runs"`
}

// Step is one step of a composite action.
type Step struct {
	ID    string            `yaml:"id"`
	Name  string            `yaml:"name"`
	Shell string            `yaml:"shell"`
	Env   map[string]string `yaml:"env"`
	Run   string            `yaml:"run"`
	Uses  string            `yaml:"uses"`
}

// Run is one use of the action in a workflow job.
type Run struct {
	ActionDir string            // holds action.yml: github.action_path
	Inputs    map[string]string // the with: block
	// Github is the github context: sha, action_ref, server_url,
	// repository, run_id, run_number, run_attempt, workflow, workflow_ref,
	// actor, ... github.action_path is ActionDir. Each is also the
	// runner's GITHUB_* variable of the step, empty when not given.
	Github map[string]string
	// Env is the job's environment: HOME, PATH and the like. The runner's
	// own variables (GITHUB_*, RUNNER_*, CI) are added to it.
	Env       []string
	Workspace string // GITHUB_WORKSPACE, the steps' working directory
	Temp      string // RUNNER_TEMP
}

// Result is what a workflow sees of the run.
type Result struct {
	Outputs map[string]string // the action's outputs
	Summary string            // the job summary the steps wrote
	// Log is the job log as GitHub shows it: masked values replaced by
	// ***, add-mask commands consumed. Raw is every line as printed.
	Log, Raw    string
	Masks       []string
	Annotations []string // ::error:: and ::warning:: commands, as printed
	Err         error    // the failed step's exit, if one failed
}

var expr = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// Execute runs the action's steps in order until one fails, as the runner
// does without continue-on-error.
func (r Run) Execute(ctx context.Context) (*Result, error) {
	raw, err := os.ReadFile(filepath.Join(r.ActionDir, "action.yml"))
	if err != nil {
		return nil, err
	}
	var a Action
	if err := yaml.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("action.yml: %w", err)
	}
	if a.Runs.Using != "composite" {
		return nil, fmt.Errorf("action.yml: runs.using is %q, not composite", a.Runs.Using)
	}
	github := map[string]string{"action_path": r.ActionDir, "workspace": r.Workspace}
	for k, v := range r.Github {
		github[k] = v
	}
	ev := &evaluator{github: github, inputs: map[string]string{}, steps: map[string]map[string]string{}}
	for name, in := range a.Inputs {
		v, ok := r.Inputs[name]
		if !ok {
			if v, err = ev.eval(in.Default); err != nil {
				return nil, fmt.Errorf("input %s default: %w", name, err)
			}
		}
		if in.Required && v == "" {
			return nil, fmt.Errorf("input %s is required", name)
		}
		ev.inputs[name] = v
	}
	for name := range r.Inputs {
		if _, ok := a.Inputs[name]; !ok {
			return nil, fmt.Errorf("unexpected input %s", name)
		}
	}

	res := &Result{Outputs: map[string]string{}}
	log := &logger{res: res}
	path := ""
	for i, st := range a.Runs.Steps {
		if st.Uses != "" {
			return nil, fmt.Errorf("step %d uses %s: this runner runs only run: steps", i, st.Uses)
		}
		if st.Shell != "bash" {
			return nil, fmt.Errorf("step %d: shell %q, want bash", i, st.Shell)
		}
		outputs, paths, err := r.step(ctx, ev, st, i, path, log)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			path = p + string(os.PathListSeparator) + path
		}
		if st.ID != "" {
			ev.steps[st.ID] = outputs
		}
		if res.Err != nil {
			break
		}
	}
	for name, out := range a.Outputs {
		v, err := ev.eval(out.Value)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
		res.Outputs[name] = v
	}
	return res, nil
}

// step runs one step and returns its outputs and the directories it added
// to the PATH. A step that exits non-zero sets res.Err.
func (r Run) step(ctx context.Context, ev *evaluator, st Step, i int, path string, log *logger) (map[string]string, []string, error) {
	script, err := ev.eval(st.Run)
	if err != nil {
		return nil, nil, fmt.Errorf("step %d run: %w", i, err)
	}
	dir := filepath.Join(r.Temp, "_runner_file_commands")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	id := rand.Text()
	files := map[string]string{}
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_PATH", "GITHUB_ENV"} {
		files[f] = filepath.Join(dir, strings.ToLower(f)+"_"+id)
		if err := os.WriteFile(files[f], nil, 0o644); err != nil {
			return nil, nil, err
		}
	}
	// The runner writes the script to a file; an action must therefore
	// never put a secret input in run:, only in env:.
	scriptFile := filepath.Join(r.Temp, id+".sh")
	if err := os.WriteFile(scriptFile, []byte(script), 0o644); err != nil {
		return nil, nil, err
	}
	env := append([]string{}, r.Env...)
	for k, v := range map[string]string{
		"GITHUB_ACTIONS": "true", "CI": "true", "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
		"RUNNER_TEMP": r.Temp, "GITHUB_WORKSPACE": r.Workspace, "GITHUB_ACTION_PATH": r.ActionDir,
		"GITHUB_SHA": ev.github["sha"], "GITHUB_SERVER_URL": ev.github["server_url"],
		"GITHUB_REPOSITORY": ev.github["repository"], "GITHUB_RUN_ID": ev.github["run_id"],
		"GITHUB_ACTOR": ev.github["actor"], "GITHUB_RUN_NUMBER": ev.github["run_number"],
		"GITHUB_RUN_ATTEMPT": ev.github["run_attempt"], "GITHUB_WORKFLOW": ev.github["workflow"],
		"GITHUB_WORKFLOW_REF": ev.github["workflow_ref"],
	} {
		env = append(env, k+"="+v)
	}
	for k, f := range files {
		env = append(env, k+"="+f)
	}
	if path != "" {
		env = append(env, "PATH="+path+lookup(env, "PATH"))
	}
	for k, v := range st.Env {
		val, err := ev.eval(v)
		if err != nil {
			return nil, nil, fmt.Errorf("step %d env %s: %w", i, k, err)
		}
		env = append(env, k+"="+val)
	}
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", scriptFile)
	cmd.Dir = r.Workspace
	cmd.Env = env
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		log.read(pr)
	}()
	runErr := cmd.Run()
	pw.Close()
	wg.Wait()
	os.Remove(scriptFile)
	if runErr != nil {
		log.res.Err = fmt.Errorf("step %q: %w", st.Name, runErr)
	}

	outputs, err := parseOutputs(files["GITHUB_OUTPUT"])
	if err != nil {
		return nil, nil, fmt.Errorf("step %d: %w", i, err)
	}
	summary, _ := os.ReadFile(files["GITHUB_STEP_SUMMARY"])
	log.res.Summary += string(summary)
	pathFile, _ := os.ReadFile(files["GITHUB_PATH"])
	return outputs, strings.Fields(string(pathFile)), nil
}

func lookup(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// parseOutputs reads a GITHUB_OUTPUT file: name=value lines, and
// name<<DELIMITER blocks for values with newlines.
func parseOutputs(file string) (map[string]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var value []string
			closed := false
			for sc.Scan() {
				if sc.Text() == delim {
					closed = true
					break
				}
				value = append(value, sc.Text())
			}
			if !closed {
				return nil, fmt.Errorf("GITHUB_OUTPUT: %s: no closing %s", name, delim)
			}
			out[name] = strings.Join(value, "\n")
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("GITHUB_OUTPUT: invalid line %q", line)
		}
		out[name] = value
	}
	return out, sc.Err()
}

// evaluator evaluates the ${{ }} expressions an action uses.
type evaluator struct {
	github, inputs map[string]string
	steps          map[string]map[string]string
}

func (e *evaluator) eval(s string) (string, error) {
	var err error
	out := expr.ReplaceAllStringFunc(s, func(m string) string {
		name := expr.FindStringSubmatch(m)[1]
		parts := strings.Split(name, ".")
		switch {
		case len(parts) == 2 && parts[0] == "inputs":
			return e.inputs[parts[1]]
		case len(parts) == 2 && parts[0] == "github":
			return e.github[parts[1]]
		case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
			return e.steps[parts[1]][parts[3]]
		}
		err = fmt.Errorf("expression %q is not simulated", m)
		return ""
	})
	return out, err
}

// logger reads the steps' output as the runner does, line by line.
type logger struct {
	mu       sync.Mutex
	res      *Result
	log, raw strings.Builder
}

func (l *logger) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l.line(sc.Text())
	}
	l.res.Log, l.res.Raw = l.log.String(), l.raw.String()
}

func (l *logger) line(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.raw.WriteString(line + "\n")
	if v, ok := strings.CutPrefix(line, "::add-mask::"); ok {
		if v != "" {
			l.res.Masks = append(l.res.Masks, v)
		}
		return
	}
	for _, m := range l.res.Masks {
		line = strings.ReplaceAll(line, m, "***")
	}
	if strings.HasPrefix(line, "::error") || strings.HasPrefix(line, "::warning") {
		l.res.Annotations = append(l.res.Annotations, line)
	}
	l.log.WriteString(line + "\n")
}
