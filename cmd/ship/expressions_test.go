package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// A ${{ }} expression inside a step's run: is pasted into the script
// before the shell reads it, so a value with shell syntax (a branch name,
// an output) runs as code: GitHub's script injection. The action and
// every workflow the docs show pass values to run: through env: instead.
func TestNoExpressionsInRunScripts(t *testing.T) {
	root := filepath.Join(pkgDir, "..", "..")
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files := append([]string{filepath.Join(root, "action.yml"), filepath.Join(root, "README.md")}, docs...)
	block := regexp.MustCompile("(?s)```ya?ml\n(.*?)```")
	checked := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		docs := []string{string(src)}
		if strings.HasSuffix(file, ".md") {
			docs = nil
			for _, m := range block.FindAllStringSubmatch(string(src), -1) {
				docs = append(docs, m[1])
			}
		}
		for _, doc := range docs {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
				t.Errorf("%s: a YAML example does not parse: %v\n%s", file, err, doc)
				continue
			}
			checked++
			walkRuns(&n, func(run *yaml.Node) {
				if strings.Contains(run.Value, "${{") {
					t.Errorf("%s:%d: run: holds a ${{ }} expression; pass it through env: instead:\n%s", filepath.Base(file), run.Line, run.Value)
				}
			})
		}
	}
	if checked < 3 {
		t.Errorf("only %d YAML documents checked: the examples moved?", checked)
	}
}

// walkRuns calls fn with the value of every run: key below n.
func walkRuns(n *yaml.Node, fn func(*yaml.Node)) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "run" && n.Content[i+1].Kind == yaml.ScalarNode {
				fn(n.Content[i+1])
			}
		}
	}
	for _, c := range n.Content {
		walkRuns(c, fn)
	}
}
