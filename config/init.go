package config

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

//go:embed templates
var templates embed.FS

// Init writes a commented config/deploy.yml and a .ship/secrets template
// under root, named after the directory. It writes nothing if either
// exists, so it never overwrites a user's work.
func Init(root string) ([]string, error) {
	files := map[string]string{
		DefaultFile:     "templates/deploy.yml",
		".ship/secrets": "templates/secrets",
	}
	order := []string{DefaultFile, ".ship/secrets"}
	for _, f := range order {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			return nil, fmt.Errorf("%s already exists; ship init never overwrites", f)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	service := serviceName(filepath.Base(abs))
	vars := map[string]string{"Service": service, "Volume": strings.ReplaceAll(service, "-", "_") + "_storage"}
	for _, f := range order {
		var b bytes.Buffer
		tmpl := template.Must(template.ParseFS(templates, files[f]))
		if err := tmpl.Execute(&b, vars); err != nil {
			return nil, err
		}
		path := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	return order, nil
}

var notName = regexp.MustCompile(`[^a-z0-9_-]+`)

func serviceName(dir string) string {
	s := strings.Trim(notName.ReplaceAllString(strings.ToLower(dir), "-"), "-_")
	if s == "" {
		return "my-app"
	}
	return s
}
