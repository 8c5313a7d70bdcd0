package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Secrets are the values read from the secrets files, by name.
type Secrets map[string]string

// secretsFiles lists the dotenv files to read, in order, as Kamal does:
// SECRETS-common, then SECRETS (or SECRETS.DEST with a destination).
// ship reads .ship/secrets, and falls back to .kamal/secrets so a Kamal
// project works unchanged.
func secretsFiles(root, configured, dest string) []string {
	base := configured
	if base == "" {
		base = ".ship/secrets"
		if !anyExists(root, base) && anyExists(root, ".kamal/secrets") {
			base = ".kamal/secrets"
		}
	}
	main := base
	if dest != "" {
		main = base + "." + dest
	}
	return []string{base + "-common", main}
}

func anyExists(root, base string) bool {
	for _, f := range []string{base, base + "-common"} {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			return true
		}
	}
	matches, _ := filepath.Glob(filepath.Join(root, base+".*"))
	return len(matches) > 0
}

// commandRunner runs the $(command) of a secrets file in the project root,
// with the secrets read so far in its environment, and returns its output.
type commandRunner func(root, command string, sofar Secrets) (string, error)

// loadSecrets reads the secrets files that exist, in order. Values may use
// $VAR and ${VAR} (from the environment, then earlier lines of the file)
// and $(command), whose output is the value, as in Kamal's dotenv files.
// Only the file's own text can run a command: what a variable or a command
// gives is put in as text. A problem names the file, line and key, never a
// value: CI logs and annotations are public.
//
// It returns the values, their names in the order they first appear (as
// Kamal's `secrets print` lists them), and the files read.
func loadSecrets(root string, files []string, run commandRunner) (Secrets, []string, []string, Problems) {
	out := Secrets{}
	var names []string
	var read []string
	var problems Problems
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(root, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			problems = append(problems, Problem{File: name, Message: err.Error()})
			continue
		}
		read = append(read, name)
		entries, errs := parseDotenv(data)
		for _, e := range errs {
			problems = append(problems, Problem{File: name, Line: e.line, Column: 1, Path: e.key, Message: e.msg})
		}
		if len(errs) > 0 {
			continue // run no command of a file that was not understood whole
		}
		inFile := map[string]string{}
		lookup := func(v string) string {
			if x, ok := os.LookupEnv(v); ok {
				return x
			}
			return inFile[v]
		}
		for _, e := range entries {
			v, err := e.value(lookup, func(cmd string) (string, error) { return run(root, cmd, out) })
			if err != nil {
				problems = append(problems, Problem{File: name, Line: e.line, Column: 1, Path: e.key, Message: commandProblem(e.key, err)})
				continue
			}
			inFile[e.key] = v
			if _, seen := out[e.key]; !seen {
				names = append(names, e.key)
			}
			out[e.key] = v
		}
	}
	return out, names, read, problems
}

// commandTimeout bounds a $(command) in a secrets file, such as a password
// manager's CLI waiting for a login that will never come.
const commandTimeout = 2 * time.Minute

// runCommand runs a $(command) with sh. Its stderr is discarded: it may
// hold what the command was fetching, and problems end up in CI logs.
// A `kamal secrets …` (or `ship secrets …`) runs in-process instead.
func runCommand(root, command string, sofar Secrets) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	env := os.Environ()
	for k, v := range sofar {
		env = append(env, k+"="+v)
	}
	if args, ok, err := secretsArgs(command, env); ok {
		if err != nil {
			return "", inlineError{err}
		}
		out, err := runSecretsCommand(ctx, root, args, env)
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return out, err
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = root
	cmd.Env = env
	cmd.Stderr = io.Discard
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", err
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// commandProblem says how the $(…) of key failed. ship's own `kamal
// secrets …` says what went wrong; a shell command only how it ended.
func commandProblem(key string, err error) string {
	var inline inlineError
	if errors.As(err, &inline) {
		return fmt.Sprintf("the $(kamal secrets …) of %s failed: %s", key, inline.Error())
	}
	return fmt.Sprintf("the $(…) of %s failed: %s (run the command in a terminal to see its errors)", key, commandStatus(err))
}

// commandStatus says how a command failed, and nothing else: not its
// text, which may hold an inline token, nor its output.
func commandStatus(err error) string {
	var exit *exec.ExitError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "it did not finish within " + commandTimeout.String()
	case errors.As(err, &exit):
		return exit.ProcessState.String() // "exit status 1", "signal: killed"
	case errors.Is(err, exec.ErrNotFound):
		return "sh was not found"
	}
	return "it could not run"
}

// secret resolves a secret by name, reporting at n when it is missing.
func (d *decoder) secret(n *yaml.Node, path, name string) Secret {
	if name == "" || d.secrets == nil {
		return Secret{}
	}
	v, ok := d.secrets[name]
	if !ok {
		where := "no secrets file was found (looked for " + strings.Join(d.secretsLooked, ", ") + ")"
		if len(d.secretsRead) > 0 {
			where = "it is not set in " + strings.Join(d.secretsRead, " or ")
		}
		d.errorf(n, path, "secret %s: %s", name, where)
	}
	return NewSecret(v)
}

// SecretsFileValues lists every NAME and value the secrets files set, in
// file order, for `ship secrets print`. Nothing else may print them.
func (c *Config) SecretsFileValues() [][2]string {
	out := make([][2]string, len(c.secretNames))
	for i, name := range c.secretNames {
		out[i] = [2]string{name, c.secrets[name]}
	}
	return out
}
