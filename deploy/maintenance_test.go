package deploy

import (
	"bytes"
	"context"
	"testing"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// Roles without the proxy are left alone, as Kamal's app maintenance and
// app live skip them: no host is touched (the host here has no engine).
func TestMaintenanceSkipsRolesWithoutProxy(t *testing.T) {
	c := &config.Config{Service: "shop", Roles: []*config.Role{{Name: "worker", Hosts: []config.Host{{Address: "10.0.0.1"}}}}}
	h := &host.Host{Name: "10.0.0.1"}
	var out bytes.Buffer
	if already, err := Maintenance(context.Background(), h, c, c.Roles[0], 0, "m", &out); err != nil || already {
		t.Errorf("Maintenance = %v, %v", already, err)
	}
	if err := Live(context.Background(), h, c, c.Roles[0], &out); err != nil {
		t.Errorf("Live = %v", err)
	}
	live, err := MaintainHost(context.Background(), h, c, DataMaintenanceMessage, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := live(); err != nil || out.Len() != 0 {
		t.Errorf("live = %v; printed %q", err, out.String())
	}
}
