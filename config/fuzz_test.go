package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary files to the loader: it must never panic, and
// every problem it reports must point into the file.
func FuzzLoad(f *testing.F) {
	seed, _ := os.ReadFile("testdata/rails8/config/deploy.yml")
	f.Add(string(seed))
	f.Add("service: app\nimage: acme/app\nservers: [10.0.0.1]\n")
	f.Add("servers:\n  web:\n    <<: *x\n")
	f.Add("a: &a [*a]\n")
	f.Add("env: {clear: [1], secret: {a: b}, tags: 3}\n")
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		file := filepath.Join(dir, "deploy.yml")
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(Options{File: file})
		problems, ok := err.(Problems)
		if err != nil && !ok {
			t.Fatalf("error is not Problems: %v", err)
		}
		lines := strings.Count(src, "\n") + 1
		for _, p := range problems {
			if p.File != file && !strings.HasPrefix(p.File, ".ship") && !strings.HasPrefix(p.File, ".kamal") {
				t.Errorf("problem in unknown file: %s", p)
			}
			if p.Line < 0 || p.Line > lines {
				t.Errorf("problem outside the file: %s", p)
			}
		}
	})
}
