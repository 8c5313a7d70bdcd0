package proxy

import (
	"context"
	"fmt"
	"html/template"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
)

// errorPagesGlobs are the pages Kamal copies from error_pages_path: one per
// HTTP status, 4xx.html and 5xx.html.
var errorPagesGlobs = []string{"4[0-9][0-9].html", "5[0-9][0-9].html"}

// ErrorPages are the error pages of error_pages_path, by file name.
type ErrorPages map[string][]byte

// Names lists the pages, sorted.
func (p ErrorPages) Names() []string {
	var names []string
	for n := range p {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ReadErrorPages reads the 4xx.html and 5xx.html pages of dir, as Kamal
// picks them, and parses them as kamal-proxy will (Go html/template, with
// {{ .Message }} in a 503 page for the maintenance message), so a page it
// would refuse fails here, before any host is touched, and not when the
// app is routed. A directory without such pages is an error too: Kamal
// would point kamal-proxy at an empty directory, which it refuses.
func ReadErrorPages(dir string) (ErrorPages, error) {
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("error_pages_path: %s is not a directory", dir)
	}
	pages := ErrorPages{}
	for _, glob := range errorPagesGlobs {
		files, err := filepath.Glob(filepath.Join(dir, glob))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("error_pages_path: %w", err)
			}
			if _, err := template.New(filepath.Base(f)).Parse(string(data)); err != nil {
				return nil, fmt.Errorf("error_pages_path: %s is not a page kamal-proxy can use: %w", f, err)
			}
			pages[filepath.Base(f)] = data
		}
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("error_pages_path: %s has no error pages: name each after its status, like 503.html", dir)
	}
	return pages, nil
}

// ErrorPagesDir is where a version's error pages are inside the proxy
// container: where Kamal puts them, in the apps volume.
func ErrorPagesDir(app, version string) string {
	return path.Join(appsDir, app, "error_pages", version)
}

// InstallErrorPages puts a version's error pages where ErrorPagesDir says,
// owned by the proxy's user, as Kamal uploads them (directory mode 0700).
func InstallErrorPages(ctx context.Context, docker client.APIClient, app, version string, pages ErrorPages) error {
	dir := ErrorPagesDir(app, version)
	files := map[string][]byte{}
	for name, data := range pages {
		files[path.Join(dir, name)] = data
	}
	if err := install(ctx, docker, []string{path.Join(appsDir, app), path.Dir(dir), dir}, files); err != nil {
		return fmt.Errorf("install the error pages in %s: %w", ContainerName, err)
	}
	return nil
}

// HasPath says whether path exists in the proxy container.
func HasPath(ctx context.Context, docker client.APIClient, p string) (bool, error) {
	_, err := docker.ContainerStatPath(ctx, ContainerName, p)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look for %s in %s: %w", p, ContainerName, err)
	}
	return true, nil
}
