package doctor

import (
	"strings"
	"testing"
)

func TestEngineVersion(t *testing.T) {
	tg := target(t, "root")
	for v, want := range map[string]State{"20.10.24+dfsg1": OK, "28.2.2": OK, "19.03.15": Fail, "20.9.0": Fail, "dev": OK} {
		if got := engineVersion(tg, v); got.State != want {
			t.Errorf("Docker Engine %s: %s, want %s", v, got, want)
		}
	}
}

func TestStorageDriver(t *testing.T) {
	tg := target(t, "root")
	if c := storageDriver(tg, "overlay2"); c.State != OK {
		t.Errorf("overlay2: %s", c)
	}
	if c := storageDriver(tg, "vfs"); c.State != Warn || !strings.Contains(c.Fix, "overlay2") || !strings.Contains(c.Message, "vfs") {
		t.Errorf("vfs: %s", c)
	}
}
