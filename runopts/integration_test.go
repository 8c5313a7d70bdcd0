package runopts

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"reflect"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/docker/go-connections/nat"

	"github.com/shipdeploy/ship/internal/testhost"
)

// The engine (20.10, API 1.41, the oldest ship supports) must accept and
// store what Apply sets: a field it ignored would be a silently lost option.
func TestEngineStoresOptions(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := context.Background()
	cli, err := client.NewClientWithOpts(client.WithHost(h1.DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	name := "runopts-test-" + randomSuffix(t)
	ref := name + ":empty"
	emptyImage(t, cli, ref)

	opts := []Option{
		{Name: "add-host", Values: []string{"db:10.0.0.5", "host.docker.internal:host-gateway"}},
		{Name: "publish", Values: []string{"127.0.0.1:18080:3000", "53/udp"}},
		{Name: "memory", Values: []string{"256m"}},
		{Name: "memory-swap", Values: []string{"512m"}},
		{Name: "shm-size", Values: []string{"32m"}},
		{Name: "cpus", Values: []string{"1.5"}},
		{Name: "ulimit", Values: []string{"nofile=1024:2048"}},
		{Name: "cap-add", Values: []string{"NET_ADMIN"}},
		{Name: "cap-drop", Values: []string{"MKNOD"}},
		{Name: "user", Values: []string{"1000:1000"}},
		{Name: "init", Values: []string{"true"}},
		{Name: "network", Values: []string{"bridge"}},
		{Name: "log-opt", Values: []string{"max-size=10m", "max-file=3"}},
		{Name: "hostname", Values: []string{"runopts"}},
		{Name: "workdir", Values: []string{"/srv"}},
		{Name: "tmpfs", Values: []string{"/tmp:rw,size=16m"}},
		{Name: "security-opt", Values: []string{"no-new-privileges", "systempaths=unconfined"}},
		{Name: "stop-signal", Values: []string{"SIGINT"}},
		{Name: "read-only", Values: []string{"true"}},
		{Name: "pids-limit", Values: []string{"200"}},
		{Name: "sysctl", Values: []string{"net.core.somaxconn=1024"}},
		{Name: "device", Values: []string{"/dev/null:/dev/xnull:rw"}},
		{Name: "privileged", Values: []string{"false"}},
		{Name: "restart", Values: []string{"on-failure:3"}},
	}
	cc := &container.Config{Image: ref, Cmd: []string{"/nothing"}}
	hc := &container.HostConfig{}
	if err := Apply(opts, cc, hc); err != nil {
		t.Fatal(err)
	}
	// Created, never started: the image has no binary to run.
	created, err := cli.ContainerCreate(ctx, cc, hc, nil, nil, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true}) })
	got, err := cli.ContainerInspect(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	g := got.HostConfig

	check := func(field string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", field, got, want)
		}
	}
	check("ExtraHosts", g.ExtraHosts, []string{"db:10.0.0.5", "host.docker.internal:host-gateway"})
	check("PortBindings", g.PortBindings, nat.PortMap{
		"3000/tcp": {{HostIP: "127.0.0.1", HostPort: "18080"}},
		"53/udp":   {{}},
	})
	check("ExposedPorts", got.Config.ExposedPorts, nat.PortSet{"3000/tcp": {}, "53/udp": {}})
	check("Memory", g.Memory, int64(256<<20))
	check("MemorySwap", g.MemorySwap, int64(512<<20))
	check("ShmSize", g.ShmSize, int64(32<<20))
	check("NanoCPUs", g.NanoCPUs, int64(1.5e9))
	check("Ulimits", g.Ulimits, []*container.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}})
	// Passed as written, like docker run; the engine adds the CAP_ prefix.
	check("CapAdd", []string(g.CapAdd), []string{"CAP_NET_ADMIN"})
	check("CapDrop", []string(g.CapDrop), []string{"CAP_MKNOD"})
	check("User", got.Config.User, "1000:1000")
	check("Init", g.Init, ptr(true))
	check("NetworkMode", g.NetworkMode, container.NetworkMode("bridge"))
	check("LogConfig.Config", g.LogConfig.Config, map[string]string{"max-size": "10m", "max-file": "3"})
	check("Hostname", got.Config.Hostname, "runopts")
	check("WorkingDir", got.Config.WorkingDir, "/srv")
	check("Tmpfs", g.Tmpfs, map[string]string{"/tmp": "rw,size=16m"})
	check("SecurityOpt", g.SecurityOpt, []string{"no-new-privileges"})
	check("MaskedPaths", g.MaskedPaths, []string{})
	check("ReadonlyPaths", g.ReadonlyPaths, []string{})
	check("StopSignal", got.Config.StopSignal, "SIGINT")
	check("ReadonlyRootfs", g.ReadonlyRootfs, true)
	check("PidsLimit", g.PidsLimit, ptr(int64(200)))
	check("Sysctls", g.Sysctls, map[string]string{"net.core.somaxconn": "1024"})
	check("Devices", g.Devices, []container.DeviceMapping{{PathOnHost: "/dev/null", PathInContainer: "/dev/xnull", CgroupPermissions: "rw"}})
	check("Privileged", g.Privileged, false)
	check("RestartPolicy", g.RestartPolicy, container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3})
}

func randomSuffix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// emptyImage imports an image whose filesystem is only etc/, removed after
// the test: enough to create containers on an engine that can pull nothing.
func emptyImage(t *testing.T, cli *client.Client, ref string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: &buf, SourceName: "-"}, ref, image.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	// The import finishes, or fails, in the response stream.
	if err := jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil); err != nil {
		t.Fatalf("import %s: %v", ref, err)
	}
	t.Cleanup(func() { cli.ImageRemove(ctx, ref, image.RemoveOptions{Force: true}) })
}
