package config

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/subosito/gotenv"
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

// loadSecrets reads the secrets files that exist. Values may use $VAR and
// ${VAR} (from the environment, then earlier lines) and $(command), whose
// output is the value, as in Kamal's dotenv files.
func loadSecrets(root string, files []string) (Secrets, []string, Problems) {
	out := Secrets{}
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
		values, err := gotenv.StrictParse(bytes.NewReader(data))
		if err != nil {
			problems = append(problems, Problem{File: name, Line: badLine(data), Column: 1, Message: err.Error()})
			continue
		}
		quoted := singleQuoted(data)
		for _, key := range keysInOrder(data, values) {
			v := values[key]
			if !quoted[key] {
				v, err = substituteCommands(root, v, out)
				if err != nil {
					problems = append(problems, Problem{File: name, Line: lineOf(data, key), Column: 1, Path: key, Message: err.Error()})
					continue
				}
			}
			out[key] = v
		}
	}
	return out, read, problems
}

var assignRE = regexp.MustCompile(`(?m)^\s*(?:export\s+)?([\w.]+)\s*[=:]\s*('?)`)

// keysInOrder returns the keys as written, so $(command) substitutions run
// in file order and can see the values above them.
func keysInOrder(data []byte, values gotenv.Env) []string {
	var keys []string
	seen := map[string]bool{}
	for _, m := range assignRE.FindAllSubmatch(data, -1) {
		k := string(m[1])
		if _, ok := values[k]; ok && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// singleQuoted finds the keys whose values are in single quotes, which
// dotenv takes literally: no $(command) runs there.
func singleQuoted(data []byte) map[string]bool {
	out := map[string]bool{}
	for _, m := range assignRE.FindAllSubmatch(data, -1) {
		out[string(m[1])] = len(m[2]) > 0
	}
	return out
}

func lineOf(data []byte, key string) int {
	for i, line := range strings.Split(string(data), "\n") {
		if m := assignRE.FindStringSubmatch(line); m != nil && m[1] == key {
			return i + 1
		}
	}
	return 0
}

// badLine finds the first line that is neither blank, a comment nor an
// assignment, for gotenv's errors, which carry no line number.
func badLine(data []byte) int {
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") && !assignRE.MatchString(line) {
			return i + 1
		}
	}
	return 0
}

// commandTimeout bounds a $(command) in a secrets file, such as a password
// manager's CLI waiting for a login that will never come.
const commandTimeout = 2 * time.Minute

// substituteCommands runs each $(command) in v with sh and puts its output,
// less the trailing newline, in its place. The command sees the secrets read
// so far in its environment.
func substituteCommands(root, v string, sofar Secrets) (string, error) {
	var b strings.Builder
	for {
		start := strings.Index(v, "$(")
		if start < 0 {
			b.WriteString(v)
			return b.String(), nil
		}
		if start > 0 && v[start-1] == '\\' {
			b.WriteString(v[:start-1] + "$(")
			v = v[start+2:]
			continue
		}
		end := matchingParen(v, start+1)
		if end < 0 {
			return "", fmt.Errorf("unclosed $( in value")
		}
		out, err := runCommand(root, v[start+2:end], sofar)
		if err != nil {
			return "", err
		}
		b.WriteString(v[:start] + out)
		v = v[end+1:]
	}
}

func matchingParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func runCommand(root, command string, sofar Secrets) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = root
	cmd.Env = os.Environ()
	for k, v := range sofar {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		// The command is the user's own text, but its output may be a
		// secret: show the command and its stderr only.
		return "", fmt.Errorf("$(%s) failed: %v: %s", command, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimRight(string(out), "\n"), nil
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
