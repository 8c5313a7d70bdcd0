package doctor

import (
	"strings"
	"testing"
)

func TestInterruptedState(t *testing.T) {
	if c := interruptedState(""); c.State != OK {
		t.Errorf("nothing left half-done: %+v", c)
	}
	c := interruptedState("before-restore-20261206T081017Z, stopped while filling")
	if c.State != Fail || !strings.Contains(c.Message, "before-restore-20261206T081017Z") || !strings.Contains(c.Fix, "ship app start") {
		t.Errorf("a killed restore: %+v", c)
	}
}
