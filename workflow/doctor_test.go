package workflow

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/doctor"
	"github.com/shipdeploy/ship/redact"
)

// A host ship cannot reach is one failed check, named, and the command
// fails; ship doctor still reports it rather than stopping at it.
func TestDoctorUnreachableHost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	dir := t.TempDir()
	file := filepath.Join(dir, "deploy.yml")
	os.WriteFile(file, []byte("service: shop\nimage: acme/shop\nservers: ["+addr+"]\nssh:\n  keys_only: true\n  keys: ["+filepath.Join(dir, "none")+"]\n"), 0o644)
	var out, errOut strings.Builder
	res, err := Doctor(context.Background(), DoctorRequest{Globals: Globals{ConfigFile: file, UI: &UI{Out: &out, Err: &errOut, Redactor: redact.New()}}})
	if err == nil || !strings.Contains(err.Error(), "1 check failed") {
		t.Errorf("error %v", err)
	}
	if len(res.Hosts) != 1 || res.Hosts[0].Host != addr || len(res.Hosts[0].Checks) != 1 {
		t.Fatalf("result %+v", res)
	}
	if c := res.Hosts[0].Checks[0]; c.Name != "ssh" || c.State != doctor.Fail || c.Fix == "" {
		t.Errorf("check %s", c)
	}
	if res.Worst() != doctor.Fail || res.Failed() != 1 {
		t.Errorf("worst %s, failed %d", res.Worst(), res.Failed())
	}
}

func TestRolesOn(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "deploy.yml")
	os.WriteFile(file, []byte("service: shop\nimage: acme/shop\nservers:\n  web: [h1, h2]\n  jobs:\n    hosts: [h2]\n    cmd: bin/jobs\n"), 0o644)
	cfg, err := config.Load(config.Options{File: file})
	if err != nil {
		t.Fatal(err)
	}
	names := func(rs []*config.Role) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		host     string
		selected []string
		want     string
	}{
		{"h1", []string{"web", "jobs"}, "web"},
		{"h2", []string{"web", "jobs"}, "web jobs"},
		{"h2", []string{"jobs"}, "jobs"},
		{"h1", []string{"jobs"}, ""},
	} {
		if got := names(rolesOn(cfg, tc.host, tc.selected)); got != tc.want {
			t.Errorf("%s with %v: %q, want %q", tc.host, tc.selected, got, tc.want)
		}
	}
}
