package main

import (
	"strings"
	"testing"
)

// Two proxied roles without a host on one server: kamal-proxy would take
// the first and refuse the second mid-deploy, so ship deploy refuses the
// config at its line before it contacts any host.
func TestDeployRefusesTwoHostlessRolesOnOneServer(t *testing.T) {
	dir := project(t, map[string]string{"config/deploy.yml": `service: shop
image: acme/shop
servers:
  web: [192.0.2.1]
  admin:
    hosts: [192.0.2.1]
    proxy: true
proxy:
  app_port: 3000
`})
	_, errOut, code := ship(t, dir, "deploy", "--skip-build", "--version", "v1")
	want := "config/deploy.yml:5:3: servers.admin: roles web and admin are both proxied without a host on 192.0.2.1"
	if code != exitUsage || !strings.Contains(errOut, want) || !strings.Contains(errOut, "no host was contacted") {
		t.Errorf("exit %d, want %d and:\n%s\ngot:\n%s", code, exitUsage, want, errOut)
	}
}
