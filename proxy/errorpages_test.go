package proxy

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Only 4xx.html and 5xx.html are taken, as Kamal copies them.
func TestReadErrorPages(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"503.html":   "<p>{{ .Message }}</p>",
		"404.html":   "<p>not here</p>",
		"robots.txt": "User-agent: *",
		"index.html": "<p>home</p>",
		"5xx.html":   "<p>not a status</p>",
	})
	pages, err := ReadErrorPages(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := pages.Names(); !reflect.DeepEqual(got, []string{"404.html", "503.html"}) {
		t.Errorf("pages = %v, want 404.html and 503.html", got)
	}
	if string(pages["503.html"]) != "<p>{{ .Message }}</p>" {
		t.Errorf("503.html = %q", pages["503.html"])
	}
}

func TestReadErrorPagesRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		dir  string
		want string
	}{
		"missing":   {filepath.Join(t.TempDir(), "public"), "is not a directory"},
		"no pages":  {writeFiles(t, map[string]string{"index.html": "x"}), "has no error pages: name each after its status, like 503.html"},
		"bad pages": {writeFiles(t, map[string]string{"503.html": "<p>{{ .Message </p>"}), "503.html is not a page kamal-proxy can use"},
	} {
		_, err := ReadErrorPages(tc.dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "error_pages_path") {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}
