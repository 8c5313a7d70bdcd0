package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitWritesAValidConfig(t *testing.T) {
	root := filepath.Join(t.TempDir(), "My Shop")
	os.Mkdir(root, 0o755)
	if _, err := Init(root); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Options{File: filepath.Join(root, DefaultFile)})
	if err != nil {
		t.Fatalf("the config ship init writes does not load:\n%v", err)
	}
	if c.Service != "my-shop" || c.Volumes[0].Source != "my_shop_storage" {
		t.Errorf("service %q volume %q", c.Service, c.Volumes[0].Source)
	}
	before, _ := os.ReadFile(filepath.Join(root, DefaultFile))
	if _, err := Init(root); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second init: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(root, DefaultFile))
	if string(before) != string(after) {
		t.Error("second init changed the config")
	}
}
