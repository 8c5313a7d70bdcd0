package host

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/shipdeploy/ship/internal/testshell"
)

func TestRemoveEnvFiles(t *testing.T) {
	dir := t.TempDir()
	env, data := filepath.Join(dir, "web.env"), filepath.Join(dir, "data.sqlite3")
	os.WriteFile(env, []byte("SECRET=1\n"), 0o600)
	os.WriteFile(data, []byte("rows"), 0o600)
	h := &Host{Name: "local", Shell: testshell.Local{Home: dir}}
	missing := filepath.Join(dir, "gone.env")
	if err := RemoveEnvFiles(context.Background(), h, []string{env, missing}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(env); !os.IsNotExist(err) {
		t.Errorf("the env file is still there: %v", err)
	}
	if _, err := os.Stat(data); err != nil {
		t.Errorf("a file beside it went too: %v", err)
	}
}
