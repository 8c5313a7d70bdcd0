package runopts

import (
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
)

type fields = func(cc *container.Config, hc *container.HostConfig)

// applyCases give, for one option, the fields docker run would set. The first
// case of each option is also its sample in TestKnownOptions, so it must
// change something.
var applyCases = []struct {
	name   string
	values []string
	want   fields
}{
	{"add-host", []string{"db:10.0.0.5", "host.docker.internal:host-gateway"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.ExtraHosts = []string{"db:10.0.0.5", "host.docker.internal:host-gateway"}
	}},
	{"publish", []string{"127.0.0.1:8080:3000", "53:53/udp", "3001"}, func(cc *container.Config, hc *container.HostConfig) {
		cc.ExposedPorts = nat.PortSet{"3000/tcp": {}, "53/udp": {}, "3001/tcp": {}}
		hc.PortBindings = nat.PortMap{
			"3000/tcp": {{HostIP: "127.0.0.1", HostPort: "8080"}},
			"53/udp":   {{HostPort: "53"}},
			"3001/tcp": {{}},
		}
	}},
	{"publish", []string{"8080:3000", "[::1]:8081:3000"}, func(cc *container.Config, hc *container.HostConfig) {
		cc.ExposedPorts = nat.PortSet{"3000/tcp": {}}
		hc.PortBindings = nat.PortMap{"3000/tcp": {{HostPort: "8080"}, {HostIP: "::1", HostPort: "8081"}}}
	}},
	{"memory", []string{"512m"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.Memory = 512 << 20
	}},
	{"memory-swap", []string{"1g"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.MemorySwap = 1 << 30
	}},
	{"memory-swap", []string{"-1"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.MemorySwap = -1
	}},
	{"shm-size", []string{"64m"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.ShmSize = 64 << 20
	}},
	{"cpus", []string{"2"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.NanoCPUs = 2e9
	}},
	{"cpus", []string{"0.1"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.NanoCPUs = 1e8
	}},
	{"ulimit", []string{"nofile=1024:2048", "nproc=512"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.Ulimits = []*container.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}, {Name: "nproc", Soft: 512, Hard: 512}}
	}},
	{"cap-add", []string{"NET_ADMIN", "SYS_TIME"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.CapAdd = []string{"NET_ADMIN", "SYS_TIME"}
	}},
	{"cap-drop", []string{"ALL"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.CapDrop = []string{"ALL"}
	}},
	{"user", []string{"1000:1000"}, func(cc *container.Config, hc *container.HostConfig) {
		cc.User = "1000:1000"
	}},
	{"init", []string{"true"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.Init = ptr(true)
	}},
	{"init", []string{"false"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.Init = ptr(false)
	}},
	{"network", []string{"host"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.NetworkMode = "host"
	}},
	{"log-opt", []string{"max-size=10m", "max-file=3"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.LogConfig.Config = map[string]string{"max-size": "10m", "max-file": "3"}
	}},
	{"hostname", []string{"web-1"}, func(cc *container.Config, hc *container.HostConfig) {
		cc.Hostname = "web-1"
	}},
	{"workdir", []string{"/srv"}, func(cc *container.Config, hc *container.HostConfig) {
		cc.WorkingDir = "/srv"
	}},
	{"tmpfs", []string{"/tmp", "/run:rw,size=64m,mode=1777"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.Tmpfs = map[string]string{"/tmp": "", "/run": "rw,size=64m,mode=1777"}
	}},
	{"security-opt", []string{"no-new-privileges", "label=disable", "apparmor:unconfined", "seccomp=unconfined"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.SecurityOpt = []string{"no-new-privileges", "label=disable", "apparmor:unconfined", "seccomp=unconfined"}
	}},
	{"security-opt", []string{"systempaths=unconfined"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.MaskedPaths = []string{}
		hc.ReadonlyPaths = []string{}
	}},
	{"stop-signal", []string{"SIGINT"}, func(cc *container.Config, hc *container.HostConfig) {
		cc.StopSignal = "SIGINT"
	}},
	{"read-only", []string{"true"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.ReadonlyRootfs = true
	}},
	{"pids-limit", []string{"100"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.PidsLimit = ptr(int64(100))
	}},
	{"sysctl", []string{"net.core.somaxconn=1024", "net.ipv4.ip_unprivileged_port_start=0"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.Sysctls = map[string]string{"net.core.somaxconn": "1024", "net.ipv4.ip_unprivileged_port_start": "0"}
	}},
	{"device", []string{"/dev/fuse", "/dev/sda:/dev/xvda:r", "/dev/snd:rw", "/dev/ttyUSB0:/dev/modem"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.Devices = []container.DeviceMapping{
			{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"},
			{PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "r"},
			{PathOnHost: "/dev/snd", PathInContainer: "/dev/snd", CgroupPermissions: "rw"},
			{PathOnHost: "/dev/ttyUSB0", PathInContainer: "/dev/modem", CgroupPermissions: "rwm"},
		}
	}},
	{"privileged", []string{"true"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.Privileged = true
	}},
	{"restart", []string{"on-failure:5"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.RestartPolicy = container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}
	}},
	{"restart", []string{"on-failure"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.RestartPolicy = container.RestartPolicy{Name: "on-failure"}
	}},
	{"restart", []string{"unless-stopped"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.RestartPolicy = container.RestartPolicy{Name: "unless-stopped"}
	}},
	{"restart", []string{"no"}, func(cc *container.Config, hc *container.HostConfig) {
		hc.RestartPolicy = container.RestartPolicy{Name: "no"}
	}},
}

func ptr[T any](v T) *T { return &v }

func TestApply(t *testing.T) {
	for _, tc := range applyCases {
		t.Run(tc.name+"="+strings.Join(tc.values, ","), func(t *testing.T) {
			cc, hc := &container.Config{}, &container.HostConfig{}
			if err := Apply([]Option{{Name: tc.name, Values: tc.values}}, cc, hc); err != nil {
				t.Fatal(err)
			}
			wantCC, wantHC := &container.Config{}, &container.HostConfig{}
			tc.want(wantCC, wantHC)
			if !reflect.DeepEqual(cc, wantCC) {
				t.Errorf("Config\n got %+v\nwant %+v", *cc, *wantCC)
			}
			if !reflect.DeepEqual(hc, wantHC) {
				t.Errorf("HostConfig\n got %+v\nwant %+v", *hc, *wantHC)
			}
		})
	}
}

// Every known option has a tested mapping that sets something.
func TestKnownOptions(t *testing.T) {
	known := Known()
	for _, name := range known {
		i := caseFor(name)
		if i < 0 {
			t.Errorf("%s: applyCases has no case for it", name)
			continue
		}
		cc, hc := &container.Config{}, &container.HostConfig{}
		if err := Apply([]Option{{Name: name, Values: applyCases[i].values}}, cc, hc); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if reflect.DeepEqual(cc, &container.Config{}) && reflect.DeepEqual(hc, &container.HostConfig{}) {
			t.Errorf("%s: Apply set nothing", name)
		}
	}
}

func caseFor(name string) int {
	for i, tc := range applyCases {
		if tc.name == name {
			return i
		}
	}
	return -1
}

// Options add to what the caller already set, in order.
func TestApplyMerges(t *testing.T) {
	cc := &container.Config{ExposedPorts: nat.PortSet{"80/tcp": {}}}
	hc := &container.HostConfig{
		LogConfig: container.LogConfig{Type: "local", Config: map[string]string{"compress": "true"}},
		Resources: container.Resources{Ulimits: []*container.Ulimit{{Name: "nofile", Soft: 1, Hard: 1}, {Name: "core"}}},
		CapAdd:    []string{"CHOWN"},
	}
	opts := []Option{
		{Name: "log-opt", Values: []string{"max-size=10m"}},
		{Name: "ulimit", Values: []string{"nofile=1024"}},
		{Name: "cap-add", Values: []string{"NET_ADMIN"}},
		{Name: "publish", Values: []string{"8080:3000"}},
		{Name: "memory", Values: []string{"1g"}},
		{Name: "memory", Values: []string{"2g"}}, // as --memory then memory: the later wins
	}
	if err := Apply(opts, cc, hc); err != nil {
		t.Fatal(err)
	}
	wantLog := container.LogConfig{Type: "local", Config: map[string]string{"compress": "true", "max-size": "10m"}}
	if !reflect.DeepEqual(hc.LogConfig, wantLog) {
		t.Errorf("LogConfig = %+v, want %+v", hc.LogConfig, wantLog)
	}
	wantUlimits := []*container.Ulimit{{Name: "nofile", Soft: 1024, Hard: 1024}, {Name: "core"}}
	if !reflect.DeepEqual(hc.Ulimits, wantUlimits) {
		t.Errorf("Ulimits = %v, want %v", hc.Ulimits, wantUlimits)
	}
	if want := []string{"CHOWN", "NET_ADMIN"}; !reflect.DeepEqual([]string(hc.CapAdd), want) {
		t.Errorf("CapAdd = %v, want %v", hc.CapAdd, want)
	}
	if want := (nat.PortSet{"80/tcp": {}, "3000/tcp": {}}); !reflect.DeepEqual(cc.ExposedPorts, want) {
		t.Errorf("ExposedPorts = %v, want %v", cc.ExposedPorts, want)
	}
	if hc.Memory != 2<<30 {
		t.Errorf("Memory = %d, want the later 2g", hc.Memory)
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{"mac-address", []string{"02:42:ac:11:00:02"}, `option mac-address: not supported`},
		{"memory", []string{"1g", "2g"}, `option memory: takes one value, got 2`},
		{"memory", nil, `option memory: takes one value, got 0`},
		{"memory", []string{"lots"}, `option memory="lots": invalid size`},
		{"memory-swap", []string{"-2"}, `option memory-swap="-2": invalid size`},
		{"shm-size", []string{"1x"}, `option shm-size="1x": invalid suffix`},
		{"cpus", []string{"0.0000000001"}, `option cpus="0.0000000001": too precise`},
		{"cpus", []string{"0"}, `option cpus="0": should be a positive number`},
		{"cpus", []string{"two"}, `option cpus="two": should be a positive number`},
		{"ulimit", []string{"nofile"}, `option ulimit="nofile": invalid ulimit argument`},
		{"init", []string{"maybe"}, `option init="maybe": should be true or false`},
		{"read-only", []string{"yes"}, `option read-only="yes": should be true or false`},
		{"privileged", []string{""}, `option privileged="": should be true or false`},
		{"pids-limit", []string{"many"}, `option pids-limit="many": should be a whole number`},
		{"log-opt", []string{"max-size"}, `option log-opt="max-size": should be KEY=VALUE`},
		{"sysctl", []string{"=1"}, `option sysctl="=1": should be KEY=VALUE`},
		{"tmpfs", []string{"tmp:size=1m"}, `option tmpfs="tmp:size=1m": should be an absolute path`},
		{"device", []string{"/dev/a:/dev/b:r:w"}, `should be HOST[:CONTAINER][:PERMISSIONS]`},
		{"device", []string{"/dev/video*"}, `device globs are not supported`},
		{"device", []string{"/dev/sda:xvda"}, `device paths should be absolute`},
		{"device", []string{"/dev/sda:/dev/xvda:rwx"}, `permissions "rwx" should be made of r, w and m`},
		{"device", []string{"/dev/sda:/dev/xvda:rr"}, `permissions "rr"`},
		{"security-opt", []string{"seccomp=/etc/docker/seccomp.json"}, `seccomp profile files are not supported`},
		{"security-opt", []string{"nonsense"}, `should be KEY=VALUE or no-new-privileges`},
		{"restart", []string{"sometimes"}, `option restart="sometimes": should be no, always, unless-stopped or on-failure[:N]`},
		{"restart", []string{"always:3"}, `only on-failure takes a retry count`},
		{"restart", []string{"on-failure:x"}, `retry count should be a whole number`},
		{"restart", []string{"on-failure:-1"}, `retry count should be a whole number`},
		{"publish", []string{"80:80:80:80"}, `option publish="80:80:80:80": `},
	}
	for _, tc := range tests {
		t.Run(tc.name+"="+strings.Join(tc.values, ","), func(t *testing.T) {
			err := Apply([]Option{{Name: tc.name, Values: tc.values}}, &container.Config{}, &container.HostConfig{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "option "+tc.name) {
				t.Errorf("err = %v, want one naming the option and containing %q", err, tc.want)
			}
		})
	}
}
