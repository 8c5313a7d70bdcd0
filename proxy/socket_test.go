package proxy

import (
	"context"
	"errors"
	"net"
	"net/rpc"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// A kamal-proxy's control socket is found through its process's root, in
// the directory it picks from its environment.
func TestHostSocket(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "/proc/42/root/tmp/kamal-proxy.sock"},
		{[]string{"HOME=/home/kamal-proxy", "TMPDIR=/var/tmp"}, "/proc/42/root/var/tmp/kamal-proxy.sock"},
		{[]string{"TMPDIR=/var/tmp", "XDG_RUNTIME_DIR=/run/user/1000"}, "/proc/42/root/run/user/1000/kamal-proxy.sock"},
	} {
		if got := hostSocket(42, tc.env); got != tc.want {
			t.Errorf("hostSocket(42, %q) = %s, want %s", tc.env, got, tc.want)
		}
	}
}

// commands is a kamal-proxy control socket that records what it is told.
type commands struct{ paused, resumed []string }

// PauseRecv and ResumeRecv are what kamal-proxy decodes; net/rpc wants
// exported types.
type PauseRecv struct {
	Service                    string
	DrainTimeout, PauseTimeout time.Duration
}

// ResumeRecv is resume's arguments.
type ResumeRecv struct{ Service string }

func (c *commands) Pause(a PauseRecv, _ *bool) error {
	if a.Service == "missing" {
		return errors.New("service not found")
	}
	c.paused = append(c.paused, a.Service+" "+a.DrainTimeout.String()+" "+a.PauseTimeout.String())
	return nil
}

func (c *commands) Resume(a ResumeRecv, _ *bool) error {
	c.resumed = append(c.resumed, a.Service)
	return nil
}

// Desc and ListResp are list's answer as kamal-proxy encodes it.
type Desc struct {
	Host, Path    string
	TLS           bool
	Target, State string
}

// ListResp is list's answer.
type ListResp struct{ Targets map[string]Desc }

func (c *commands) List(_ bool, reply *ListResp) error {
	reply.Targets = map[string]Desc{
		"shop-web": {Host: "shop.example.com", TLS: true, Target: "shop-web-v2:3000", State: "paused"},
		"blog-web": {Path: "/blog", Target: "blog-web-v1:80", State: "running"},
	}
	return nil
}

// runningProxy is an engine whose kamal-proxy runs as pid 42.
type runningProxy struct{ client.APIClient }

func (runningProxy) ContainerInspect(context.Context, string) (container.InspectResponse, error) {
	return container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{State: &container.State{Running: true, Pid: 42}},
		Config:            &container.Config{},
	}, nil
}

// Pause and Resume reach the control socket through the dialer, with the
// arguments kamal-proxy's own CLI sends, and report its errors as exec did.
func TestPauseResumeOnSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "kamal-proxy.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv := rpc.NewServer()
	cmds := &commands{}
	if err := srv.RegisterName("kamal-proxy", cmds); err != nil {
		t.Fatal(err)
	}
	go srv.Accept(l)
	var dialled []string
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialled = append(dialled, addr)
		var d net.Dialer
		return d.DialContext(ctx, network, sock)
	}
	ctx := context.Background()
	paused, err := Pause(ctx, runningProxy{}, dial, "shop-web", 30*time.Second, time.Minute)
	if err != nil || !paused {
		t.Fatalf("Pause = %v, %v; want paused", paused, err)
	}
	if paused, err := Pause(ctx, runningProxy{}, dial, "missing", time.Second, time.Second); err != nil || paused {
		t.Errorf("Pause of a service kamal-proxy does not route = %v, %v; want false, no error", paused, err)
	}
	if err := Resume(ctx, runningProxy{}, dial, "shop-web"); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if want := "shop-web 30s 1m0s"; len(cmds.paused) != 1 || cmds.paused[0] != want {
		t.Errorf("kamal-proxy was told to pause %q, want [%s]", cmds.paused, want)
	}
	if len(cmds.resumed) != 1 || cmds.resumed[0] != "shop-web" {
		t.Errorf("kamal-proxy was told to resume %q, want [shop-web]", cmds.resumed)
	}
	services, err := ServicesVia(ctx, runningProxy{}, dial)
	if err != nil {
		t.Fatalf("ServicesVia: %v", err)
	}
	want := []Service{
		{Name: "blog-web", Path: "/blog", Target: "blog-web-v1:80", State: "running", TLS: "no"},
		{Name: "shop-web", Host: "shop.example.com", Target: "shop-web-v2:3000", State: "paused", TLS: "yes"},
	}
	if !slices.Equal(services, want) {
		t.Errorf("ServicesVia = %+v, want %+v", services, want)
	}
	if StateIn(services, "shop-web") != Paused {
		t.Errorf("shop-web's state = %s, want paused", StateIn(services, "shop-web"))
	}
	if len(dialled) != 4 || dialled[0] != "/proc/42/root/tmp/kamal-proxy.sock" {
		t.Errorf("dialled %q, want the socket through pid 42's root each time", dialled)
	}
}
