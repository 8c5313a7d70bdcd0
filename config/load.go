package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultFile is where Kamal and ship look for the configuration.
const DefaultFile = "config/deploy.yml"

// Options says what to load.
type Options struct {
	File        string // default config/deploy.yml
	Destination string // -d: deep-merges config/deploy.DEST.yml
}

// Load reads, merges, validates and resolves a configuration. Every
// mistake found is returned at once as Problems.
func Load(opts Options) (*Config, error) {
	if opts.File == "" {
		opts.File = DefaultFile
	}
	d := &decoder{origin: map[*yaml.Node]string{}, erbEnv: erbEnv(opts.Destination)}
	base, err := d.parseFile(opts.File, "run `ship init` to create one, or point -c at it")
	if err != nil {
		return nil, err
	}
	root := base
	files := []string{opts.File}
	if opts.Destination != "" {
		if !nameRE.MatchString(opts.Destination) {
			return nil, Problems{{File: opts.File, Message: fmt.Sprintf("destination %q may contain only lowercase letters, digits, '-' and '_'", opts.Destination)}}
		}
		destFile := destinationFile(opts.File, opts.Destination)
		over, err := d.parseFile(destFile, fmt.Sprintf("destination %q needs this file", opts.Destination))
		if err != nil {
			return nil, err
		}
		if over != nil && base != nil {
			root = merge(base, over)
		}
		files = append(files, destFile)
	}
	if len(d.problems) > 0 {
		d.problems.sort()
		return nil, d.problems
	}

	c := &Config{Destination: opts.Destination, Root: projectRoot(opts.File), Files: files}
	d.root = c.Root
	secretsPath := findSecretsPath(root)
	d.secretsLooked = secretsFiles(c.Root, secretsPath, opts.Destination)
	var problems Problems
	d.secrets, c.secretNames, d.secretsRead, problems = loadSecrets(c.Root, d.secretsLooked, runCommand)
	c.secrets = d.secrets
	d.problems = append(d.problems, problems...)
	c.SecretsFiles = d.secretsRead

	d.decodeRoot(root, c)
	c.applyDefaults()
	c.Warnings = d.warnings
	if len(d.problems) > 0 {
		d.problems.sort()
		return nil, redactProblems(d.problems, d.secrets)
	}
	return c, nil
}

// parseFile reads one YAML file through ERB and records which file each
// node came from.
func (d *decoder) parseFile(file, missingHint string) (*yaml.Node, error) {
	src, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, Problems{{File: file, Message: "no such file: " + missingHint}}
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	src, problems := renderERB(file, src, d.erbEnv)
	d.problems = append(d.problems, problems...)
	var doc yaml.Node
	err = yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc)
	if err != nil && !errors.Is(err, io.EOF) {
		d.problems = append(d.problems, yamlProblem(file, err))
		return nil, nil
	}
	if len(doc.Content) == 0 {
		d.problems = append(d.problems, Problem{File: file, Line: 1, Column: 1, Message: "the file is empty"})
		return nil, nil
	}
	walk(&doc, func(n *yaml.Node) { d.origin[n] = file })
	return doc.Content[0], nil
}

// yamlProblem turns a YAML syntax error ("yaml: line 3: ...") into a
// located problem.
func yamlProblem(file string, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		return Problem{File: file, Line: line, Column: 1, Message: msg}
	}
	return Problem{File: file, Message: msg}
}

// destinationFile is config/deploy.staging.yml for config/deploy.yml.
func destinationFile(file, dest string) string {
	ext := filepath.Ext(file)
	return strings.TrimSuffix(file, ext) + "." + dest + ext
}

// projectRoot is the directory relative paths (secrets, hooks, accessory
// files) start from: the parent of config/ for the usual layout, so ship
// works the same from any working directory.
func projectRoot(file string) string {
	dir := filepath.Dir(file)
	if filepath.Base(dir) == "config" {
		return filepath.Dir(dir)
	}
	if wd, err := os.Getwd(); err == nil {
		return wd
	}
	return "."
}

// findSecretsPath reads secrets_path early, as the secrets must be loaded
// before the rest of the config can resolve them.
func findSecretsPath(root *yaml.Node) string {
	for _, p := range pairs(root) {
		if p.key.Value == "secrets_path" {
			if v := resolve(p.value); v.Kind == yaml.ScalarNode {
				return v.Value
			}
		}
	}
	return ""
}

func (c *Config) applyDefaults() {
	if c.RetainContainers == 0 {
		c.RetainContainers = defaultRetainContainers
	}
	for _, t := range []*time.Duration{&c.DeployTimeout, &c.DrainTimeout, &c.StopTimeout} {
		if *t == 0 {
			*t = defaultTimeoutSeconds * time.Second
		}
	}
	for _, r := range c.Roles {
		if r.StopTimeout == 0 {
			r.StopTimeout = c.StopTimeout
		}
	}
	c.replicaDefaults()
	if c.SSH.User == "" {
		c.SSH.User = "root"
	}
	if c.SSH.Port == 0 {
		c.SSH.Port = 22
	}
	if c.HooksPath == "" {
		c.HooksPath = ".ship/hooks"
		if _, err := os.Stat(filepath.Join(c.Root, c.HooksPath)); err != nil {
			if _, err := os.Stat(filepath.Join(c.Root, ".kamal/hooks")); err == nil {
				c.HooksPath = ".kamal/hooks"
			}
		}
	}
	if c.SecretsPath == "" && len(c.SecretsFiles) > 0 {
		c.SecretsPath = strings.TrimSuffix(c.SecretsFiles[0], "-common")
	}
}

// Role returns the role with that name, or nil.
func (c *Config) Role(name string) *Role {
	for _, r := range c.Roles {
		if r.Name == name {
			return r
		}
	}
	return nil
}
