package main

import (
	"context"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/proxy"
)

// proxy boot_config set writes Kamal's boot config on the host, get shows
// it, proxy reboot boots kamal-proxy from it (ports, labels, docker
// options), and reset goes back to Kamal's defaults.
func TestProxyBootConfig(t *testing.T) {
	_, h2 := testhost.Hosts(t)
	a := proxiedApp(t, "bootcfg", "", "", "v1")
	// The host's boot config would change every later proxy test's boot.
	t.Cleanup(func() { a.ship(t, "proxy", "boot_config", "reset") })
	cli := dockerClient(t, h2)
	ctx := context.Background()
	ip := h2IP(t)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")

	out, errOut, code := a.ship(t, "proxy", "boot_config", "set", "--http-port", "8080", "--https-port", "8443",
		"--log-max-size", "30m", "--docker-options", "label=ship.test=bootcfg", "memory=256m")
	if code != 0 || !strings.Contains(errOut, "The proxy boot_config command is deprecated - set the config in the deploy YAML at proxy/run instead") {
		t.Fatalf("boot_config set: exit %d\n%s%s", code, out, errOut)
	}
	want := "Host " + h2.Addr + ": --publish 8080:80 --publish 8443:443 --log-opt max-size=30m --label=ship.test=bootcfg --memory=256m basecamp/kamal-proxy:v0.9.2 "
	if got := a.mustShip(t, "proxy", "boot_config", "get"); !strings.Contains(got, want+"\n") {
		t.Errorf("boot_config get:\n%q\nwant a line %q", got, want)
	}
	// The running proxy is not touched until a reboot.
	if v := get(t, "http://"+ip+"/version"); v != "v1" {
		t.Errorf("after boot_config set, before reboot, port 80 says %q", v)
	}

	a.mustShip(t, "proxy", "reboot")
	info, err := cli.ContainerInspect(ctx, proxy.ContainerName)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Labels["ship.test"] != "bootcfg" || info.HostConfig.Memory != 256<<20 || info.HostConfig.LogConfig.Config["max-size"] != "30m" {
		t.Errorf("kamal-proxy was not booted from the boot config: labels %v, memory %d, log %v",
			info.Config.Labels, info.HostConfig.Memory, info.HostConfig.LogConfig.Config)
	}
	if v := get(t, "http://"+ip+":8080/version"); v != "v1" {
		t.Errorf("through the published port 8080 the app says %q", v)
	}
	if v := get(t, "http://"+ip+"/version"); !strings.HasPrefix(v, "unreachable") {
		t.Errorf("port 80 still answers after the reboot onto 8080: %q", v)
	}

	// A boot config ship cannot use is refused at set, before any host is
	// touched.
	_, errOut, code = a.ship(t, "proxy", "boot_config", "set", "--docker-options", "volume=/etc:/host-etc")
	if code != exitUsage || !strings.Contains(errOut, "--volume /etc:/host-etc: ship cannot pass this option") {
		t.Errorf("boot_config set with --volume: exit %d\n%s", code, errOut)
	}

	a.mustShip(t, "proxy", "boot_config", "reset")
	if got := a.mustShip(t, "proxy", "boot_config", "get"); !strings.Contains(got, "Host "+h2.Addr+": --publish 80:80 --publish 443:443 --log-opt max-size=10m basecamp/kamal-proxy:v0.9.2 \n") {
		t.Errorf("boot_config get after reset:\n%s", got)
	}
	a.mustShip(t, "proxy", "reboot")
	if v := get(t, "http://"+ip+"/version"); v != "v1" {
		t.Errorf("after reset and reboot port 80 says %q", v)
	}
}

// proxy.run.options reach the kamal-proxy container; with proxy.run the
// boot config is not used, and boot_config set says so.
func TestProxyRunOptions(t *testing.T) {
	_, h2 := testhost.Hosts(t)
	a := proxiedApp(t, "runopts", "  run:\n    options:\n      memory: 192m\n      label: [ship.test=runopts]\n", "", "v1")
	t.Cleanup(func() { a.ship(t, "proxy", "boot_config", "reset") })
	out := a.mustShip(t, "proxy", "boot_config", "set", "--http-port", "8081")
	if !strings.Contains(out, "has proxy.run, which ship and Kamal boot kamal-proxy with instead of this boot config") {
		t.Errorf("boot_config set with proxy.run in deploy.yml:\n%s", out)
	}
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	info, err := dockerClient(t, h2).ContainerInspect(context.Background(), proxy.ContainerName)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Labels["ship.test"] != "runopts" || info.HostConfig.Memory != 192<<20 {
		t.Errorf("proxy.run.options did not reach kamal-proxy: labels %v, memory %d", info.Config.Labels, info.HostConfig.Memory)
	}
	if v := get(t, "http://"+h2IP(t)+"/version"); v != "v1" {
		t.Errorf("port 80 (proxy.run, not the boot config's 8081) says %q", v)
	}
}

// Thor's `--publish false` and `--docker-options a=b c=d` forms: the
// first is refused saying how ship takes it, the second works (more words
// after --docker-options are more options). Both fail before any config
// is read.
func TestBootConfigSetArguments(t *testing.T) {
	dir := t.TempDir()
	for args, want := range map[string]string{
		"--publish false":  `unexpected argument "false": give a switch its value with =, as --publish=false`,
		"memory=1g":        `unexpected argument "memory=1g": docker run options go after --docker-options`,
		"--debug true x=y": `unexpected argument "true"`,
	} {
		_, errOut, code := ship(t, dir, append([]string{"proxy", "boot_config", "set"}, strings.Fields(args)...)...)
		if code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("boot_config set %s: exit %d\n%s", args, code, errOut)
		}
	}
	// Accepted: the config is what fails next.
	_, errOut, code := ship(t, dir, "proxy", "boot_config", "set", "--docker-options", "memory=1g", "cpus=1")
	if code != exitUsage || strings.Contains(errOut, "unexpected argument") || !strings.Contains(errOut, "deploy.yml") {
		t.Errorf("boot_config set --docker-options memory=1g cpus=1 in a directory without a config: exit %d\n%s", code, errOut)
	}
}
