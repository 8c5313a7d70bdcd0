package workflow

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// An alias comes back as the words of its command line; a name that is
// no alias, or no config to look in, is ErrNoAlias.
func TestAlias(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "deploy.yml")
	os.WriteFile(file, []byte("service: shop\nimage: acme/shop\nservers: [10.0.0.1]\naliases:\n  console: app exec -i --reuse \"bin/rails console\"\n"), 0o644)
	words, err := Alias(Globals{ConfigFile: file}, "console")
	if want := []string{"app", "exec", "-i", "--reuse", "bin/rails console"}; err != nil || !slices.Equal(words, want) {
		t.Errorf("console = %q, %v; want %q", words, err, want)
	}
	if _, err := Alias(Globals{ConfigFile: file}, "deploy-everything"); !errors.Is(err, ErrNoAlias) {
		t.Errorf("an unknown name: %v, want ErrNoAlias", err)
	}
	if _, err := Alias(Globals{ConfigFile: filepath.Join(dir, "missing.yml")}, "console"); !errors.Is(err, ErrNoAlias) {
		t.Errorf("no config: %v, want ErrNoAlias", err)
	}
}
