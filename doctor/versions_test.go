package doctor

import (
	"strings"
	"testing"
)

func TestRetainedVersions(t *testing.T) {
	if c := retainedVersions("retained web", nil, nil); c.State != OK {
		t.Errorf("none: %s", c)
	}
	if c := retainedVersions("retained web", []string{"v2", "v1"}, nil); c.State != OK || !strings.Contains(c.Message, "retained v2, v1") {
		t.Errorf("all with points: %s", c)
	}
	if c := retainedVersions("retained web", []string{"v2", "v1"}, []string{"v1"}); c.State != Warn || !strings.Contains(c.Message, "no restore point of v1") {
		t.Errorf("one without: %s", c)
	}
}
